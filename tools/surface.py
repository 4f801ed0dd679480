#!/usr/bin/env python3
"""Count labkit's public surface: the names in ``__all__`` of every module outside ``_internal/``.

    python tools/surface.py [--list] [PACKAGE_DIR]

Prints the total; `--list` adds one line per module (count and names). `tests/test_surface.py` holds the
total under a ceiling. What stays in ``__all__`` (issue 13 item 8): what the notebooks, the CLI, another
labkit package or the documentation (README, docs/) uses; a helper used only by its own package is importable
but not listed, and one used only inside its own module is ``_private``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path, package: Path) -> str:
    return ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")


def exported_names(path: Path) -> list[str]:
    """The names in the module's ``__all__`` (empty when it has none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return [str(name) for name in ast.literal_eval(node.value)]
    return []


def surface(package: Path) -> dict[str, list[str]]:
    """Module name -> its ``__all__``, for every module of `package` outside ``_internal/``."""
    return {
        _module_name(path, package): exported_names(path)
        for path in sorted(package.rglob("*.py"))
        if "_internal" not in path.relative_to(package).parts
    }


def main(argv: list[str] | None = None) -> int:
    """Print the public-name count (and with ``--list`` every module's names)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="one line per module: count and names")
    parser.add_argument("package", nargs="?", type=Path, default=ROOT / "labkit")
    args = parser.parse_args(argv)
    modules = surface(args.package)
    if args.list:
        for module, names in modules.items():
            if names:
                print(f"{module} {len(names)}: {' '.join(names)}")
    print(f"public names (__all__ outside _internal): {sum(len(n) for n in modules.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
