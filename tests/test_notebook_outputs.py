"""Course-wide checks on what the notebooks *show*: one visual language, no leaks of Python's plumbing.

Every committed notebook's stored outputs are scanned (issue 19 item 4):

- no raw object reprs (``<labkit.x.Y object at 0x...>``, ``<Certificate(...)>``): a learner sees a table, a
  summary or a sentence, never Python's default repr;
- no ``\\u2026`` escapes: an ellipsis is shown as the character, not as the escape of a ``repr()``;
- no traceback through labkit's own source: an intended error is shown with
  `labkit.display.lesson.expected_failure` as a failure card with its lesson, and any other cell stores no
  traceback at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

RAW_REPR = re.compile(r"<[A-Za-z_][\w.]* object at 0x[0-9a-fA-F]+>|<Certificate\(")
ESCAPED_ELLIPSIS = "\\u2026"
#: A frame of labkit's own source in a traceback (IPython colours stripped first).
LABKIT_FRAME = re.compile(r"File \S*labkit[/\\][\w/\\]+\.py|labkit[/\\][\w/\\]+\.py:\d+")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RAISES = {"raises-exception", "nbval-raises-exception"}

#: Notebooks still expected to break a rule (strict xfail: one that starts passing must leave the list). Empty:
#: every notebook follows them since h-coursea's conversions (04, 06, 08) were merged.
TRACEBACKS_TO_FIX: set[str] = set()
REPRS_TO_FIX: set[str] = set()
PANDAS_TO_FIX: set[str] = set()


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def shown(out: dict[str, Any]) -> str:
    """Every piece of text an output stores: streams, text and HTML/SVG data, a traceback's lines."""
    parts = [_text(out.get("text", ""))]
    for mime, value in out.get("data", {}).items():
        if mime.startswith("text/") or mime == "image/svg+xml":
            parts.append(_text(value))
    parts.extend(out.get("traceback", []))
    return ANSI.sub("", "\n".join(parts))


def cells(path: Path) -> list[tuple[int, set[str], list[dict[str, Any]]]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, set(c.get("metadata", {}).get("tags", [])), c.get("outputs", []))
            for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _params(to_fix: set[str]) -> list[Any]:
    return [pytest.param(p, id=p.stem, marks=pytest.mark.xfail(
        reason="course-a's notebook, fixed on its own branch (remove at merge)", strict=True))
        if p.stem in to_fix else pytest.param(p, id=p.stem) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", _params(REPRS_TO_FIX))
def test_outputs_show_no_raw_reprs_or_escapes(path: Path) -> None:
    for i, _tags, outputs in cells(path):
        for out in outputs:
            text = shown(out)
            match = RAW_REPR.search(text)
            assert match is None, f"{path.stem} cell {i}: a raw repr in the output: {match.group(0)!r}"
            assert ESCAPED_ELLIPSIS not in text, f"{path.stem} cell {i}: a \\u2026 escape in the output (use '…')"


@pytest.mark.parametrize("path", _params(PANDAS_TO_FIX))
def test_tables_come_from_the_display_layer(path: Path) -> None:
    for i, _tags, outputs in cells(path):
        for out in outputs:
            html = _text(out.get("data", {}).get("text/html", ""))
            assert 'class="dataframe"' not in html, f"{path.stem} cell {i}: a pandas table; use labkit.display.table"


@pytest.mark.parametrize("path", _params(TRACEBACKS_TO_FIX))
def test_no_traceback_runs_through_labkit(path: Path) -> None:
    """Intended errors are failure cards (`expected_failure`); no other cell stores a traceback either."""
    for i, cell_tags, outputs in cells(path):
        for out in outputs:
            text = shown(out)
            frame = LABKIT_FRAME.search(text) if (out.get("output_type") == "error" or "Traceback" in text) else None
            assert frame is None, (
                f"{path.stem} cell {i}{' (raises-exception)' if cell_tags & RAISES else ''}: a traceback through "
                f"labkit's source ({frame.group(0)}); show an intended error with "
                "labkit.display.lesson.expected_failure(fn, lesson=...)"
            )


def test_the_scan_sees_what_it_must() -> None:
    """The patterns catch the slips they exist for, and leave ordinary output alone."""
    assert RAW_REPR.search("<labkit.keys.SigningKey object at 0x7f3a2b>")
    assert RAW_REPR.search("[<Certificate(subject=, ...)>]")
    assert not RAW_REPR.search("<SigningKey LAB ecdsa-p256 a5e815720ab94d09…>")
    tb = {"output_type": "error", "traceback": ["\x1b[36mFile \x1b[39m\x1b[32m/x/labkit/keyfile.py:511\x1b[39m"]}
    assert LABKIT_FRAME.search(shown(tb))
    assert not LABKIT_FRAME.search(shown({"output_type": "stream", "text": "registry.local/labkit/app\n"}))
