"""One visual language in the course's stored outputs (issue 19, items 2 and 4).

For the notebooks converted so far: an intended failure is a failure card (no stored traceback), tables come
from `labkit.display` (no pandas index columns), outputs hold no raw object reprs or ``\\u2026`` escapes, and
each notebook shows the picture of its mental model. Add a notebook to `CONVERTED` once it follows the rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

#: Converted notebooks and the `labkit.display.pictures` functions each must call.
CONVERTED: dict[str, tuple[str, ...]] = {
    "00-start-here": ("lab_parts",),
    "04-keyless-signing": ("keyless_flow",),
    "05-verification-step-by-step": ("check_groups", "bundle_anatomy"),
    "06-attestations": ("attestation_nesting",),
    "08-admission-policy": ("admission_flow",),
    "09-attack-tag-swap": ("tag_swap_race",),
    "10-attack-bundle-forgery": ("forgery",),
}
RAW_REPR = re.compile(r"<(?:Certificate|Name|Bundle|VerifyingKey)\(|object at 0x[0-9a-f]+|\\u2026")


def _cells(name: str) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]  # type: ignore[no-any-return]


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize("name", CONVERTED)
def test_intended_failures_are_cards_not_tracebacks(name: str) -> None:
    for i, cell in enumerate(_cells(name)):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{name} cell {i}: stores a traceback; use labkit.display.expected_failure"


@pytest.mark.parametrize("name", CONVERTED)
def test_outputs_use_the_display_layer(name: str) -> None:
    for i, cell in enumerate(_cells(name)):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = _text(data.get("text/html", ""))
            assert 'class="dataframe"' not in html, f"{name} cell {i}: a pandas table; use labkit.display.table"
            shown = _text(out.get("text", "")) + _text(data.get("text/plain", "")) + html
            match = RAW_REPR.search(shown)
            assert match is None, f"{name} cell {i}: raw repr or escape in the output: {match.group(0)!r}"


@pytest.mark.parametrize("name", CONVERTED)
def test_notebook_shows_its_picture(name: str) -> None:
    cells = _cells(name)
    for picture in CONVERTED[name]:
        shown = [c for c in cells if c["cell_type"] == "code" and re.search(rf"\b{picture}\(", _text(c["source"]))]
        assert shown, f"{name}: never calls pictures.{picture}()"
        assert all("<svg" in _text(o.get("data", {}).get("text/html", "")) for c in shown for o in c["outputs"]
                   if o.get("data", {}).get("text/html")), f"{name}: {picture}() stored no SVG"
