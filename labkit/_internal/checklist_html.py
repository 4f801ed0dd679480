"""The markup of a step checklist and a failure card (what `labkit.display.checks` wraps).

It lives below `labkit.checks` so that `CheckResult._repr_html_` renders without importing the display
layer, which itself imports `labkit.checks` (no import cycle). It reads results by attribute only.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING

from labkit._internal.specs import spec_markup
from labkit._internal.theme import BORDER, ERROR, FG, HEAD_BG, MONO, MUTED, SANS, SUCCESS, hash_spans, ink, tint

if TYPE_CHECKING:
    from labkit.checks import CheckResult, Step

__all__ = ["NOT_REACHED", "checklist_markup", "failure_markup"]

#: The detail of a step that a failure before it left unreached.
NOT_REACHED = "not reached"

_GOOD, _BAD = ink(SUCCESS), ink(ERROR)
_MARK = {
    "passed": ("✔", _GOOD, tint(SUCCESS, 10)),
    "failed": ("✘", _BAD, tint(ERROR, 14)),
    "skipped": ("–", MUTED, "transparent"),
}
_CELL = (
    f"border-bottom:1px solid {BORDER};padding:3px 8px;text-align:left;vertical-align:top;font-size:12px;"
    f"color:{FG}"
)
#: Step ids never wrap (they are short and read as one word); values wrap anywhere, hashes shorten.
_ID = _CELL + f";font-family:{MONO};white-space:nowrap"
_MONO = _CELL + f";font-family:{MONO};overflow-wrap:anywhere;min-width:6em;max-width:28em"
_TEXT = _CELL + ";overflow-wrap:anywhere;min-width:10em"
_SPEC = _CELL + f";overflow-wrap:anywhere;color:{MUTED}"
#: Hashes in a checklist show their first 8 hex digits (the full value on hover, a click selects it).
_KEEP = 8
_TABLE = f"border-collapse:collapse;margin:4px 0;font-family:{SANS};max-width:100%"
_HEAD = _CELL + f";background:{HEAD_BG};font-weight:bold"


def _esc(value: str | None) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def _short(value: str | None, limit: int = 96) -> str:
    if value is None:
        return ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _value(value: str | None) -> str:
    """An expected or actual value: cut to a readable length, its hashes shortened (full value on hover)."""
    return hash_spans(_esc(_short(value)), _KEEP)


def _passed_run(steps: list[Step]) -> str:
    """One row standing for consecutive passed steps (``collapse_passed``), expandable to list them."""
    mark, color, bg = _MARK["passed"]
    names = ", ".join(s.id for s in steps)
    listed = "".join(
        f'<div style="margin:1px 0 1px 12px"><span style="font-family:{MONO}">'
        f"{_esc(s.id)}</span> · {_esc(s.title)}{f' · {hash_spans(_esc(s.detail), _KEEP)}' if s.detail else ''}"
        f'{f" · {spec_markup(s.spec)}" if s.spec else ""}</div>'
        for s in steps
    )
    return (
        f'<tr style="background:{bg}"><td style="{_CELL};color:{color};font-weight:bold">{mark}</td>'
        f'<td colspan="5" style="{_CELL};color:{MUTED}"><details><summary style="cursor:pointer">'
        f'{len(steps)} check(s) passed: '
        f'<span style="font-family:{MONO}">{_esc(names)}</span></summary>'
        f"{listed}</details></td></tr>"
    )


def checklist_markup(
    r: CheckResult,
    *,
    title: str | None = None,
    show_skipped: bool = False,
    collapse_passed: bool = False,
) -> str:
    """The whole check as an HTML table, ending with the verdict.

    ``collapse_passed`` folds each run of consecutive passed steps into one "N check(s) passed" row naming
    them (a ``<details>`` that expands to their titles), so a long checklist shows what failed or was
    skipped at a glance.
    """
    rows = [
        "<tr>" + "".join(f'<th style="{_HEAD}">{h}</th>' for h in ("", "step", "check", "expected", "actual", "spec"))
        + "</tr>"
    ]
    unreached = 0
    passed_run: list[Step] = []
    for s in r.steps:
        if collapse_passed and s.passed:
            passed_run.append(s)
            continue
        if passed_run:
            rows.append(_passed_run(passed_run))
            passed_run = []
        if s.skipped and s.detail == NOT_REACHED and not show_skipped:
            unreached += 1
            continue
        mark, color, bg = _MARK[s.status.value]
        weight = "bold" if s.failed else "normal"
        detail = f'<div style="color:{MUTED}">{hash_spans(_esc(s.detail), _KEEP)}</div>' if s.detail else ""
        reason = f'<div style="color:{_BAD}">reason: {_esc(s.reason_code)}</div>' if s.failed else ""
        rows.append(
            f'<tr style="background:{bg}">'
            f'<td style="{_CELL};color:{color};font-weight:bold">{mark}</td>'
            f'<td style="{_ID};font-weight:{weight}">{_esc(s.id)}</td>'
            f'<td style="{_TEXT}">{_esc(s.title)}{detail}{reason}</td>'
            f'<td style="{_MONO}">{_value(s.expected)}</td>'
            f'<td style="{_MONO};color:{color if s.failed else FG}">{_value(s.actual)}</td>'
            f'<td style="{_SPEC}">{spec_markup(s.spec)}</td></tr>'
        )
    if passed_run:
        rows.append(_passed_run(passed_run))
    if unreached:
        rows.append(
            f'<tr><td style="{_CELL};color:{MUTED}">–</td>'
            f'<td colspan="5" style="{_CELL};color:{MUTED}">{unreached} later check(s) not reached</td></tr>'
        )
    color = _GOOD if r.verified else _BAD
    head = (
        f'<div style="font-family:{SANS};font-size:13px;font-weight:bold;margin:6px 0 2px 0">{_esc(title)}</div>'
        if title else ""
    )
    markup = (
        f"<div>{head}"
        f'<table class="labkit-checklist" style="{_TABLE}">'
        + "".join(rows)
        + f'</table><div style="font-family:{SANS};font-weight:bold;color:{color};margin:4px 0">'
        f"{_esc(r.verdict)}</div></div>"
    )
    return markup


def failure_markup(r: CheckResult, *, title: str | None = None) -> tuple[str, str]:
    """The failed step alone, as (HTML, text): what it checks, the spec, expected and actual side by side."""
    step = r.failed_step
    if step is None:
        verdict = f"{r.passed_verdict}: no step failed" if r.verified else "not verified: the run did not complete"
        return f'<div style="font-family:{SANS};font-weight:bold;color:{FG}">{_esc(verdict)}</div>', verdict
    box = f"border:1px solid {BORDER};border-radius:4px;padding:6px 8px;margin:2px;vertical-align:top;width:50%"
    mono = f"font-family:{MONO};font-size:12px;overflow-wrap:anywhere;white-space:pre-wrap"
    head = f'<div style="font-weight:bold;margin-bottom:2px">{_esc(title)}</div>' if title else ""
    markup = (
        f'<div class="labkit-failure" style="font-family:{SANS};font-size:12px;color:{FG};border-left:4px solid '
        f'{_BAD};padding-left:8px;margin:4px 0">'
        f"{head}"
        f'<div><span style="color:{_BAD};font-weight:bold">✘ {_esc(step.id)}</span> · {_esc(step.title)}</div>'
        f'<div style="color:{MUTED}">{_esc(step.detail)}</div>'
        f'<div style="color:{MUTED}">spec: {spec_markup(step.spec)} · reason: {_esc(step.reason_code)}</div>'
        '<table style="border-collapse:separate;width:100%;margin-top:4px"><tr>'
        f'<td style="{box}"><div style="color:{_GOOD};font-weight:bold">expected</div>'
        f'<div style="{mono}">{_esc(step.expected or "—")}</div></td>'
        f'<td style="{box}"><div style="color:{_BAD};font-weight:bold">actual</div>'
        f'<div style="{mono}">{_esc(step.actual or "—")}</div></td>'
        "</tr></table></div>"
    )
    text = (
        f"FAIL {step.id}: {step.detail}\n  expected: {step.expected or '—'}\n"
        f"  actual:   {step.actual or '—'}\n  reason: {step.reason_code}"
    )
    return markup, text
