#!/usr/bin/env python3
"""Docstring coverage of labkit's public names.

    python tools/docstrings.py [PACKAGE_DIR]

Public means: every module outside ``_internal/`` whose name has no leading underscore; in it, the classes
and functions it exports (listed in ``__all__``, or, without ``__all__``, defined at module level without a
leading underscore); in an exported class, every method and property without a leading underscore.
Prints the names that lack a docstring and the coverage; `tests/test_docstrings.py` holds it at 100%.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def public_modules(package: Path) -> Iterator[Path]:
    """Every public module file under `package` (no ``_``-prefixed part except ``__init__.py``)."""
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        yield path


def _exported(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            value = ast.literal_eval(node.value)
            return set(value)
    return None


def _is_overload(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d).endswith("overload") for d in fn.decorator_list)


def _members(cls: ast.ClassDef, where: str) -> Iterator[tuple[str, _Def]]:
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("_") or _is_overload(node):
                continue
            if any(ast.unparse(d).endswith((".setter", ".deleter")) for d in node.decorator_list):
                continue
            yield f"{where}.{node.name}", node


def public_definitions(path: Path, package: Path) -> Iterator[tuple[str, ast.Module | _Def]]:
    """(qualified name, node) of the module and every public definition in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
    yield module, tree
    exported = _exported(tree)
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if exported is not None and node.name not in exported:
            continue
        if exported is None and node.name.startswith("_"):
            continue
        if not isinstance(node, ast.ClassDef) and _is_overload(node):
            continue
        yield f"{module}.{node.name}", node
        if isinstance(node, ast.ClassDef):
            yield from _members(node, f"{module}.{node.name}")


def missing_docstrings(package: Path) -> tuple[int, list[str]]:
    """(number of public names, the ones without a docstring)."""
    total, missing = 0, []
    for path in public_modules(package):
        for name, node in public_definitions(path, package):
            total += 1
            if not ast.get_docstring(node):
                missing.append(name)
    return total, missing


def main(argv: list[str] | None = None) -> int:
    """Print the public names without a docstring and the coverage; exit 1 below 100%."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("package", nargs="?", default=str(ROOT / "labkit"))
    args = ap.parse_args(argv)
    total, missing = missing_docstrings(Path(args.package).resolve())
    for name in missing:
        print(name)
    covered = total - len(missing)
    print(f"{covered}/{total} public names documented ({100 * covered / max(total, 1):.1f}%)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
