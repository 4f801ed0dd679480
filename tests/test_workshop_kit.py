"""The workshop kit in docs/workshop/: agendas that add up, the deck that builds, the quiz's answers, the links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from tests.conftest import ROOT

KIT = ROOT / "docs" / "workshop"
NOTEBOOKS = ROOT / "notebooks"
#: Notebooks other helpers are writing for this version; the full day lists them as **new**.
NEW = {"15", "16"}
#: What each notebook builds on (the course map of notebooks/00 and the notebooks' own "you need" lines).
NEEDS = {"01": {"00"}, "02": {"01"}, "03": {"01"}, "04": {"02"}, "05": {"04"}, "06": {"03", "05"},
         "07": {"06"}, "08": {"06"}, "09": {"03"}, "10": {"03", "05"}, "11": {"09", "10"}, "12": {"05"},
         "13": {"05"}, "14": {"01"}, "15": {"02"}, "16": {"05"}}


def _agenda(name: str) -> list[tuple[int, int, str, set[str]]]:
    """(start minute, minutes, notebook, needs) per row of the agenda table `name`."""
    text = (KIT / "agenda.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- agenda:{name} -->\n(.*?)<!-- /agenda:{name} -->", text, re.DOTALL)
    assert block, f"agenda.md lost its {name} table"
    rows = []
    for line in block.group(1).splitlines()[2:]:
        start, minutes, _, notebook, needs = (cell.strip() for cell in line.strip().strip("|").split("|"))
        hours, mins = start.split(":")
        rows.append((int(hours) * 60 + int(mins), int(minutes), notebook, set(re.findall(r"\d\d", needs))))
    return rows


def _check_agenda(rows: list[tuple[int, int, str, set[str]]]) -> None:
    for (start, minutes, _, _), (next_start, _, _, _) in pairwise(rows):
        assert start + minutes == next_start, f"the block at minute {start} does not end where the next begins"
    taught: set[str] = set()
    for _, _, notebook, needs in rows:
        if notebook.isdigit():
            assert needs == NEEDS.get(notebook, set()), f"{notebook}'s needs column disagrees with NEEDS"
            missing = NEEDS.get(notebook, set()) - taught
            assert not missing, f"{notebook} comes before what it needs: {sorted(missing)}"
            if notebook not in NEW:
                assert list(NOTEBOOKS.glob(f"{notebook}-*.ipynb")), f"no notebook {notebook}"
            taught.add(notebook)


def test_the_three_hour_agenda_fits_and_respects_what_each_notebook_needs() -> None:
    rows = _agenda("3h")
    _check_agenda(rows)
    assert rows[0][0] == 0 and sum(minutes for _, minutes, _, _ in rows) == 180
    assert any(nb == "break" for _, _, nb, _ in rows) and rows[-1][2] == "quiz"


def test_the_full_day_covers_every_notebook_in_order() -> None:
    rows = _agenda("day")
    _check_agenda(rows)
    taught = {nb for _, _, nb, _ in rows if nb.isdigit()}
    homework = set(re.findall(r"Homework: (\d\d)", (KIT / "agenda.md").read_text(encoding="utf-8")))
    assert taught | homework == {f"{i:02d}" for i in range(17)}
    day_end = rows[-1][0] + rows[-1][1]
    assert day_end - rows[0][0] <= 8 * 60 + 30, "the full day is longer than 8.5 hours"


def test_the_opening_deck_builds_with_nbconvert(tmp_path: Path) -> None:
    deck = json.loads((KIT / "slides.ipynb").read_text(encoding="utf-8"))
    kinds = [c["metadata"].get("slideshow", {}).get("slide_type") for c in deck["cells"]]
    assert kinds.count("slide") >= 5 and None not in kinds, "every cell of the deck carries slide metadata"
    proc = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "slides", "--output-dir", str(tmp_path),
                           str(KIT / "slides.ipynb")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (tmp_path / "slides.slides.html").read_text(encoding="utf-8")
    assert "reveal" in html and html.count("<section") >= kinds.count("slide")
    assert "Signed, logged, verified" in html and "Open <code>00-start-here.ipynb</code> now" in html


def test_the_quiz_answers_come_from_the_notebooks() -> None:
    text = (KIT / "quiz.md").read_text(encoding="utf-8")
    questions = re.findall(r"^(\d+)\. \*\*\((\d\d)\)\*\*", text, re.MULTILINE)
    answers = re.findall(r"^\| (\d+) \| (.*?) \| `(notebooks/[^`]+)` \|$", text, re.MULTILINE)
    assert len(questions) == len(answers) >= 10
    for (q, nb), (a, _, path) in zip(questions, answers, strict=True):
        assert q == a and Path(path).name.startswith(nb) and (ROOT / path).is_file()
    # The answers a checking cell decides are the ones the notebooks' stored outputs show.
    nb05 = (NOTEBOOKS / "05-verification-step-by-step.ipynb").read_text(encoding="utf-8")
    assert "signature-mismatch | signature | REJECTED" in nb05
    assert "tlog.log_id" in (NOTEBOOKS / "12-reproduce-a-verification-failure.ipynb").read_text(encoding="utf-8")
    assert "| 6 | `signature` |" in text and "| 10 | `tlog.log_id`" in text


@pytest.mark.parametrize("page", sorted(p.name for p in KIT.glob("*.md")))
def test_every_relative_link_in_the_kit_resolves(page: str) -> None:
    text = (KIT / page).read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (KIT / target).exists(), f"{page} links to a missing {target}"
