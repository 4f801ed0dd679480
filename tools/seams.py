#!/usr/bin/env python3
"""Measure the package's seams: parameters annotated `Any`/`object`, and the longest functions.

    python tools/seams.py [--any] [--longest N] [PACKAGE_DIR]

`--any` lists every parameter whose annotation is plainly ``Any`` or ``object`` (the reason comment
on the parameter's or the ``def`` line, ``# Any: ...``, is printed with it); `--longest N` lists the N longest functions
(lines from ``def`` to the last statement) under ``labkit/verify``. Re-run it after a change to a seam.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PLAIN = {"Any", "object", "typing.Any"}


def _functions(path: Path) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def function_lengths(package: Path) -> list[tuple[int, str]]:
    """(lines, "path:line name") of every function under `package`, longest first."""
    rows = []
    for path in sorted(package.rglob("*.py")):
        for fn in _functions(path):
            end = fn.end_lineno or fn.lineno
            rows.append((end - fn.lineno + 1, f"{path.relative_to(package.parent)}:{fn.lineno} {fn.name}"))
    return sorted(rows, reverse=True)


def _reason(line: str) -> str:
    """The reason comment on a line: ``# Any: ...`` (or the older ``# seam: ...``)."""
    for tag in ("# Any:", "# seam:"):
        if tag in line:
            return line.split(tag, 1)[1].strip()
    return ""


def plain_parameters(package: Path) -> list[str]:
    """Every parameter annotated plainly `Any` or `object`, as "path:line function(param)  # reason"."""
    rows = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in _functions(path):
            args = fn.args
            params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            params += [a for a in (args.vararg, args.kwarg) if a is not None]
            for p in params:
                if p.annotation is None:
                    continue
                text = ast.unparse(p.annotation).strip("'\"")
                if text in _PLAIN:
                    reason = _reason(lines[p.lineno - 1]) or _reason(lines[fn.lineno - 1])
                    rows.append(f"{path.relative_to(package.parent)}:{p.lineno} {fn.name}({p.arg}: {text})  # {reason}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", nargs="?", default=str(ROOT / "labkit"))
    ap.add_argument("--any", action="store_true", help="list Any/object parameters")
    ap.add_argument("--longest", type=int, default=0, help="list the N longest functions in labkit/verify")
    args = ap.parse_args(argv)
    package = Path(args.package).resolve()
    if args.any:
        rows = plain_parameters(package)
        print("\n".join(rows))
        print(f"{len(rows)} parameters annotated Any/object")
    if args.longest:
        for n, where in function_lengths(package / "verify")[: args.longest]:
            print(f"{n:5d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
