"""The markup of a step checklist and a failure card (what `labkit.display.checks` wraps).

It lives below `labkit.checks` so that `CheckResult._repr_html_` renders without importing the display
layer, which itself imports `labkit.checks` (no import cycle). It reads results by attribute only.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING

from labkit._internal.specs import spec_markup

if TYPE_CHECKING:
    from labkit.checks import CheckResult, Step

__all__ = ["NOT_REACHED", "checklist_markup", "failure_markup"]

#: The detail of a step that a failure before it left unreached.
NOT_REACHED = "not reached"

_MARK = {
    "passed": ("✔", "#2f855a", "#f0fff4"),
    "failed": ("✘", "#c53030", "#fff5f5"),
    "skipped": ("–", "#888888", "#fafafa"),
}
_CELL = "border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top;font-size:12px"
_MONO = _CELL + ";font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all;max-width:28em"
_HEAD = _CELL + ";background:#f0f0f0;font-weight:bold"


def _esc(value: object) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def _short(value: str | None, limit: int = 96) -> str:
    if value is None:
        return ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _passed_run(steps: list[Step]) -> str:
    """One row standing for consecutive passed steps (``collapse_passed``), expandable to list them."""
    mark, color, bg = _MARK["passed"]
    names = ", ".join(s.id for s in steps)
    listed = "".join(
        f'<div style="margin:1px 0 1px 12px"><span style="font-family:ui-monospace,Menlo,Consolas,monospace">'
        f"{_esc(s.id)}</span> · {_esc(s.title)}{f' · {_esc(s.detail)}' if s.detail else ''}"
        f'{f" · {spec_markup(s.spec)}" if s.spec else ""}</div>'
        for s in steps
    )
    return (
        f'<tr style="background:{bg}"><td style="{_CELL};color:{color};font-weight:bold">{mark}</td>'
        f'<td colspan="5" style="{_CELL};color:#555"><details><summary style="cursor:pointer">'
        f'{len(steps)} check(s) passed: '
        f'<span style="font-family:ui-monospace,Menlo,Consolas,monospace">{_esc(names)}</span></summary>'
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
        detail = f'<div style="color:#555">{_esc(s.detail)}</div>' if s.detail else ""
        reason = f'<div style="color:#c53030">reason: {_esc(s.reason_code)}</div>' if s.failed else ""
        rows.append(
            f'<tr style="background:{bg}">'
            f'<td style="{_CELL};color:{color};font-weight:bold">{mark}</td>'
            f'<td style="{_MONO};font-weight:{weight}">{_esc(s.id)}</td>'
            f'<td style="{_CELL}">{_esc(s.title)}{detail}{reason}</td>'
            f'<td style="{_MONO}">{_esc(_short(s.expected))}</td>'
            f'<td style="{_MONO};color:{color if s.failed else "#333"}">{_esc(_short(s.actual))}</td>'
            f'<td style="{_CELL};color:#888">{spec_markup(s.spec)}</td></tr>'
        )
    if passed_run:
        rows.append(_passed_run(passed_run))
    if unreached:
        rows.append(
            f'<tr><td style="{_CELL};color:#888">–</td>'
            f'<td colspan="5" style="{_CELL};color:#888">{unreached} later check(s) not reached</td></tr>'
        )
    color = "#2f855a" if r.verified else "#c53030"
    head = (
        f'<div style="font-family:sans-serif;font-size:13px;font-weight:bold;margin:6px 0 2px 0">{_esc(title)}</div>'
        if title else ""
    )
    markup = (
        f"<div>{head}"
        '<table style="border-collapse:collapse;margin:4px 0;font-family:sans-serif">'
        + "".join(rows)
        + f'</table><div style="font-family:sans-serif;font-weight:bold;color:{color};margin:4px 0">'
        f"{_esc(r.verdict)}</div></div>"
    )
    return markup


def failure_markup(r: CheckResult, *, title: str | None = None) -> tuple[str, str]:
    """The failed step alone, as (HTML, text): what it checks, the spec, expected and actual side by side."""
    step = r.failed_step
    if step is None:
        verdict = f"{r.passed_verdict}: no step failed" if r.verified else "not verified: the run did not complete"
        return f'<div style="font-family:sans-serif;font-weight:bold">{_esc(verdict)}</div>', verdict
    box = "border:1px solid #ddd;border-radius:4px;padding:6px 8px;margin:2px;vertical-align:top;width:50%"
    mono = "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all;white-space:pre-wrap"
    head = f'<div style="font-weight:bold;margin-bottom:2px">{_esc(title)}</div>' if title else ""
    markup = (
        '<div style="font-family:sans-serif;font-size:12px;border-left:4px solid '
        '#c53030;padding-left:8px;margin:4px 0">'
        f"{head}"
        f'<div><span style="color:#c53030;font-weight:bold">✘ {_esc(step.id)}</span> · {_esc(step.title)}</div>'
        f'<div style="color:#555">{_esc(step.detail)}</div>'
        f'<div style="color:#888">spec: {spec_markup(step.spec)} · reason: {_esc(step.reason_code)}</div>'
        '<table style="border-collapse:separate;width:100%;margin-top:4px"><tr>'
        f'<td style="{box}"><div style="color:#2f855a;font-weight:bold">expected</div>'
        f'<div style="{mono}">{_esc(step.expected or "—")}</div></td>'
        f'<td style="{box}"><div style="color:#c53030;font-weight:bold">actual</div>'
        f'<div style="{mono}">{_esc(step.actual or "—")}</div></td>'
        "</tr></table></div>"
    )
    text = (
        f"FAIL {step.id}: {step.detail}\n  expected: {step.expected or '—'}\n"
        f"  actual:   {step.actual or '—'}\n  reason: {step.reason_code}"
    )
    return markup, text
