#!/usr/bin/env python3
"""Write the learner copy of the course: every exercise blank, every checking cell kept.

    python tools/learner.py            # writes notebooks/learner/NN-*.ipynb that do not exist yet
    python tools/learner.py --force    # rewrites them all (a learner's answers are lost)

The solution copy (notebooks/NN-*.ipynb, run by nbval) tags each answer cell
``solution`` and keeps the learner's version of it in the cell's metadata
(``"learner": "<source with ... blanks>"``); the checking cell after it is
tagged ``exercise``. The learner copy swaps in the blank source and drops the
stored outputs of both cells, so the learner writes the answer and the checking
cell judges it. docs/adr/0004-learner-copies.md records why the copies are
generated and not committed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LEARNER = NOTEBOOKS / "learner"
SOLUTION_TAG = "solution"
CHECK_TAG = "exercise"


def learner_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`nb` with every solution cell replaced by its blank and the exercise cells' outputs cleared."""
    out = nbformat.from_dict(nb)
    for cell in out.cells:
        cell_tags = set(cell.metadata.get("tags", []))
        blank = cell.metadata.pop("learner", None)
        if SOLUTION_TAG in cell_tags:
            if not isinstance(blank, str):
                raise ValueError(f"a `solution` cell has no learner source: {cell.source[:60]!r}")
            cell.source = blank
        if cell.cell_type == "code" and cell_tags & {SOLUTION_TAG, CHECK_TAG}:
            cell.outputs = []
            cell.execution_count = None
    return out


def write_all(force: bool = False, dest: Path = LEARNER) -> list[Path]:
    """Write the learner copies missing under `dest` (all of them with `force`); return what was written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        target = dest / path.name
        if target.exists() and not force:
            continue
        nbformat.write(learner_copy(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing learner copies")
    args = ap.parse_args()
    written = write_all(force=args.force)
    print(f"learner copies: {len(written)} written under {LEARNER.relative_to(ROOT)}/"
          + ("" if args.force else " (existing ones kept; --force rewrites them)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
