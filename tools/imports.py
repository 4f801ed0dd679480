#!/usr/bin/env python3
"""Count imports inside functions (hidden dependencies).

    python tools/imports.py [--list] [PACKAGE_DIR]

Prints the number of function-level imports, how many import labkit's own modules, and how many of those
sit outside ``labkit/cli/`` (where lazy imports keep ``labkit verify-bundle``'s cold start fast, they are
allowed). ``--list`` prints each one as ``path:line module``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def function_imports(package: Path) -> Iterator[tuple[str, int, str]]:
    """(path relative to the package's parent, line, imported module) of every import inside a function."""
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        yield str(path.relative_to(package.parent)), node.lineno, alias.name
                elif isinstance(node, ast.ImportFrom):
                    yield str(path.relative_to(package.parent)), node.lineno, "." * node.level + (node.module or "")


def main(argv: list[str] | None = None) -> int:
    """Print the counts (and with --list, every function-level import)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("package", nargs="?", default=str(ROOT / "labkit"))
    ap.add_argument("--list", action="store_true", help="list every function-level import")
    args = ap.parse_args(argv)
    package = Path(args.package).resolve()
    rows = sorted(set(function_imports(package)))
    own = [r for r in rows if r[2].startswith(("labkit", "."))]
    outside = [r for r in own if not r[0].startswith(f"{package.name}/cli/")]
    if args.list:
        for path, line, module in rows:
            print(f"{path}:{line} {module}")
    print(f"{len(rows)} function-level imports; {len(own)} of labkit's own modules, {len(outside)} outside cli/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
