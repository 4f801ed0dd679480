"""The learner copy (tools/learner.py): every blank fails its checking cell with a hint; nothing else fails.

The solution copy (notebooks/NN-*.ipynb) passes its checking cells under nbval
(`make test`); here each learner copy is executed with nbclient, in a
temporary folder, up to its last checking cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests._tools import load_tool

ROOT = Path(__file__).resolve().parent.parent
learner = load_tool("learner")



def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call,no-any-return]


SOLUTION_NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")
    if any("solution" in c.metadata.get("tags", []) for c in read(p).cells)
)


def cell_tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.metadata.get("tags", []))


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_cell_has_a_blank_and_a_checking_cell(path: Path) -> None:
    cells = read(path).cells
    for i, cell in enumerate(cells):
        if "solution" not in cell_tags(cell):
            continue
        blank = cell.metadata.get("learner")
        assert isinstance(blank, str) and "..." in blank and "#" in blank, (
            f"{path.name} cell {i}: the learner source needs a `...` blank with a comment saying what to write"
        )
        later = [c for c in cells[i + 1:] if c.cell_type == "code"]
        assert later and "exercise" in cell_tags(later[0]), f"{path.name} cell {i}: no checking cell follows"
        assert "ex.check(" in later[0].source, f"{path.name} cell {i}: the checking cell does not call ex.check"


def test_the_learner_copy_swaps_in_the_blanks_and_drops_their_outputs() -> None:
    nb = learner.learner_copy(read(SOLUTION_NOTEBOOKS[0]))
    for cell in nb.cells:
        assert "learner" not in cell.metadata
        if cell_tags(cell) & {"solution", "exercise"}:
            assert cell.outputs == [] and cell.execution_count is None
        if "solution" in cell_tags(cell):
            assert "..." in cell.source


def test_write_all_keeps_a_learners_work(tmp_path: Path) -> None:
    first = learner.write_all(dest=tmp_path)
    assert first
    first[0].write_text("my answers", encoding="utf-8")
    assert learner.write_all(dest=tmp_path) == []
    assert first[0].read_text(encoding="utf-8") == "my answers"


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_learner_blank_stops_its_checking_cell_with_a_hint(path: Path, tmp_path: Path) -> None:
    nb = learner.learner_copy(read(path))
    last = max(i for i, c in enumerate(nb.cells) if "exercise" in cell_tags(c))
    nb.cells = nb.cells[: last + 1]
    NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True, store_widget_state=False,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    for i, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if "exercise" in cell_tags(cell):
            if any("needs(" in line for line in cell.source.splitlines()[:4]) and not errors:
                continue  # a system tool is missing: the cell printed how to install it instead
            assert len(errors) == 1, f"{path.name} cell {i}: the blank did not stop the checking cell"
            err = errors[0]
            assert err["ename"] == "NotAnswered", f"{path.name} cell {i}: {err['ename']}: {err['evalue']}"
            text = "\n".join(err["traceback"])
            assert "Hint: " in text and "labkit/" not in text and "Traceback" not in text, text
        elif "raises-exception" not in cell_tags(cell):
            assert not errors, f"{path.name} cell {i} failed in the learner copy: {errors[0]['evalue']}"
