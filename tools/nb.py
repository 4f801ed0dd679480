#!/usr/bin/env python3
"""Execute notebooks in place so their stored outputs are what nbval will compare.

    python tools/nb.py notebooks/01-keys-and-signatures.ipynb [...]
    python tools/nb.py --check notebooks/*.ipynb   # only lint: no ';' endings, no widget state

Runs each notebook top to bottom with nbclient in the notebook's directory,
drops widget state and volatile metadata, and writes it back. Cells tagged
``raises-exception`` may raise; any other error stops with a message.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def clean(nb: nbformat.NotebookNode) -> None:
    """Remove widget state and volatile metadata."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)


def lint(path: Path, nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    if "widgets" in nb.metadata:
        problems.append(f"{path}: widget state stored in metadata")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.rstrip().endswith(";"):
            problems.append(f"{path}: cell {i} hides its output with a trailing ';'")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true", help="lint only")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    problems: list[str] = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if not args.check:
            t0 = time.perf_counter()
            client = NotebookClient(
                nb, timeout=args.timeout, kernel_name="python3",
                resources={"metadata": {"path": str(path.parent.resolve())}},
                store_widget_state=False,
            )
            client.execute()
            clean(nb)
            nbformat.write(nb, path)
            print(f"{path}: executed in {time.perf_counter() - t0:.1f}s")
        problems += lint(path, nb)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
