"""No function in labkit/verify is longer than 80 lines (issue 13: one function per verification stage)."""

from __future__ import annotations

import ast
from pathlib import Path

import labkit.verify

MAX_LINES = 80


def test_no_function_in_verify_over_80_lines() -> None:
    package = Path(labkit.verify.__file__).parent
    long = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions: " + ", ".join(long)
