#!/usr/bin/env python3
"""Time every course notebook and record the figures in docs/notebook-timings.md.

    .venv/bin/python tools/time_notebooks.py            # all notebooks, 2 at a time (like `make test`)
    .venv/bin/python tools/time_notebooks.py --jobs 1   # one at a time
    .venv/bin/python tools/time_notebooks.py --quick notebooks/02-transparency-log.ipynb  # print only

Each notebook runs top to bottom in a fresh kernel (nbclient, the engine
nbval and `tools/nb.py` use), in its own directory, without writing it back.
The table records the seconds per notebook (kernel start included), the
number of code cells, and the wall time of the whole suite with `--jobs`
notebooks in parallel; the machine-time column of docs/workshop.md follows.
The budget is 3 minutes for the suite on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "notebook-timings.md"
GUIDE = ROOT / "docs" / "workshop.md"
BUDGET_SECONDS = 180


def run_one(path: Path, timeout: int) -> tuple[Path, float, int, str]:
    """Execute one notebook; returns (path, seconds, code cells, error or "")."""
    nb = nbformat.read(path, as_version=4)
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    t0 = time.perf_counter()
    error = ""
    try:
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent.resolve())}},
            store_widget_state=False,
        ).execute()
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"[:300]
    return path, time.perf_counter() - t0, cells, error


def render(rows: list[tuple[Path, float, int, str]], wall: float, jobs: int) -> str:
    total = sum(row[1] for row in rows)
    lines = [
        "# Notebook timings",
        "",
        "Measured by `.venv/bin/python tools/time_notebooks.py` (regenerate after changing a notebook).",
        f"Each notebook runs in a fresh kernel (nbclient), kernel start included; {jobs} at a time.",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}.",
        "",
        "| notebook | seconds | code cells |",
        "|---|---:|---:|",
    ]
    for path, seconds, cells, _ in rows:
        lines.append(f"| `{path.name}` | {seconds:.1f} | {cells} |")
    lines += [
        "",
        f"Sum of the notebooks: **{total:.0f} s**. Wall time of the suite ({jobs} in parallel): "
        f"**{wall:.0f} s** (budget {BUDGET_SECONDS} s on 2 cores).",
        "",
    ]
    return "\n".join(lines)


def update_guide(text: str, rows: list[tuple[Path, float, int, str]]) -> str:
    """Rewrite the machine-time column of the workshop guide's timings table (between its markers)."""
    seconds = {path.stem: secs for path, secs, _, _ in rows}
    out: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        if line.startswith("<!-- timings-table -->"):
            inside = True
        elif line.startswith("<!-- /timings-table -->"):
            inside = False
        elif inside and line.startswith("| `"):
            cols = line.rstrip("\n").split(" | ")
            name = cols[0].strip("| `")
            if name in seconds and len(cols) >= 4:
                cols[2] = f"{seconds[name]:.0f} s"
                line = " | ".join(cols) + "\n"
        out.append(line)
    return "".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--quick", action="store_true", help="print the figures, do not write the record")
    args = ap.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    # Longest first would balance better, but the course order keeps the log readable.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(lambda p: run_one(p, args.timeout), paths))
    wall = time.perf_counter() - t0
    failed = [(path, error) for path, _, _, error in rows if error]
    for path, seconds, cells, error in rows:
        print(f"{path.name}: {seconds:.1f}s ({cells} code cells)" + (f" FAILED: {error}" if error else ""))
    print(f"suite: {wall:.1f}s wall, {sum(row[1] for row in rows):.1f}s summed, {args.jobs} jobs")
    if failed:
        print(f"not recorded: {len(failed)} notebook(s) failed", file=sys.stderr)
        return 1
    if not args.quick and not args.notebooks:
        from labkit._internal.fsutil import atomic_write

        atomic_write(OUT, render(rows, wall, args.jobs).encode())
        print(f"wrote {OUT.relative_to(ROOT)}")
        if GUIDE.exists():
            atomic_write(GUIDE, update_guide(GUIDE.read_text(encoding="utf-8"), rows).encode())
            print(f"updated the machine times in {GUIDE.relative_to(ROOT)}")
    return 0 if wall <= BUDGET_SECONDS else 2


if __name__ == "__main__":
    sys.exit(main())
