"""The attack matrix: every scenario against every verifier mode, accepted or rejected.

`attack_matrix` runs the scenarios (fresh sandboxes, deterministic seeds) and
returns a pandas DataFrame, one row per scenario, one column per verifier
mode (vulnerable cosign-like modes where they exist, the patched cosign
reference, labkit today) plus the verdict columns. `matrix_html` renders it
as a plain HTML table with no generated ids, no timestamps and a fixed
column order, so notebooks compare byte for byte.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from labkit._internal.theme import BORDER, ERROR, FG, HEAD_BG, MUTED, SUCCESS, WARN, hash_spans, tint
from labkit.attacks.catalogue import scenarios
from labkit.attacks.scenario import LABKIT_MODE, Outcome, RegistryTarget, Verdict
from labkit.attacks.vulnerable import MODES

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["matrix_frame", "matrix_html", "run_all", "summary_frame", "table_html"]


def run_all(ids: Sequence[str] | None = None, *, registry: RegistryTarget | None = None) -> list[Outcome]:
    """Run every scenario (or those in `ids`) in catalogue order."""
    chosen = [s for s in scenarios() if ids is None or s.id in ids]
    return [s.run(registry=registry) for s in chosen]


def _cell(outcome: Outcome, mode: str) -> str:
    for v in outcome.verdicts:
        if v.mode == mode:
            if v.verdict is Verdict.REJECTED:
                return f"rejected ({v.reason})"
            return str(v.verdict.value)
    return ""


def _mode_columns(outcomes: Sequence[Outcome]) -> list[str]:
    used = {v.mode for o in outcomes for v in o.verdicts}
    # Vulnerable modes first (registry order), then the patched reference, labkit last.
    vulnerable = [m for m in MODES if m in used and MODES[m].vulnerable]
    reference = [m for m in MODES if m in used and not MODES[m].vulnerable and m != LABKIT_MODE]
    return [*vulnerable, *reference, *([LABKIT_MODE] if LABKIT_MODE in used else [])]


def matrix_frame(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """The matrix of already-run outcomes as a DataFrame (index: scenario id)."""
    import pandas as pd

    modes = _mode_columns(outcomes)
    rows: list[dict[str, Any]] = []
    for o in outcomes:
        row: dict[str, Any] = {"#": o.scenario.number, "scenario": o.scenario.id, "title": o.scenario.title}
        for m in modes:
            row[MODES[m].label] = _cell(o, m)
        row["reproduces"] = "yes" if o.reproduced else "NO"
        row["caught by"] = o.caught_by or "-"
        row["ok"] = o.ok
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.set_index("scenario")
    out: pd.DataFrame = frame
    return out


def summary_frame(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """A narrow view: per scenario, the vulnerable mode(s) and their verdict, the fixed cosign, labkit."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for o in outcomes:
        vuln = [v for v in o.verdicts if v.vulnerable]
        rows.append({
            "scenario": o.scenario.id,
            "attack": o.scenario.title,
            "vulnerable mode": "; ".join(v.label for v in vuln),
            "vulnerable verdict": "; ".join(_cell(o, v.mode) for v in vuln),
            "cosign (fixed)": _cell(o, "cosign-patched-legacy") or "-",
            "labkit": _cell(o, LABKIT_MODE),
            "ok": o.ok,
        })
    frame = pd.DataFrame(rows)
    out: pd.DataFrame = frame.set_index("scenario") if not frame.empty else frame
    return out


def attack_matrix(ids: Sequence[str] | None = None, *, registry: RegistryTarget | None = None) -> pd.DataFrame:
    """Run the scenarios and return the matrix DataFrame."""
    return matrix_frame(run_all(ids, registry=registry))


_CELL = f"border:1px solid {BORDER};padding:2px 6px;text-align:left;vertical-align:top"
#: Data cells may break long reason codes anywhere (headers keep their words whole).
_TD = _CELL + ";overflow-wrap:anywhere"
_SHORT = 8
_TABLE = f"border-collapse:collapse;font-size:85%;max-width:100%;color:{FG}"
_STYLE = {
    "accepted": f"background:{tint(ERROR, 18)}",
    "rejected": f"background:{tint(SUCCESS, 14)}",
    "unavailable": f"background:{tint(WARN, 18)}",
}


def _verdict_style(text: str) -> str:
    return next((v for k, v in _STYLE.items() if text.startswith(k)), "")


def _td(text: str, style: str = "") -> str:
    wrap = ";white-space:nowrap" if len(text) <= _SHORT else ""  # numbers and yes/no stay whole
    return f'<td style="{_TD}{wrap};{style}">{html.escape(text)}</td>'


def matrix_html(frame: pd.DataFrame) -> str:
    """A deterministic HTML table of the matrix: red = accepted (attack works), green = rejected.

    It fits a notebook beside JupyterLab's file browser: the verifier-mode columns a scenario has verdicts
    in are listed in one cell (one line each, mode and verdict), and labkit's verdict keeps its own column.
    """
    labels = {m.label for m in MODES.values()}
    labkit = MODES[LABKIT_MODE].label
    cols = [str(c) for c in frame.columns]
    modes = [c for c in cols if c in labels and c != labkit]
    first_mode = min((cols.index(c) for c in cols if c in labels), default=len(cols))
    before = [c for c in cols[:first_mode] if c not in labels]
    after = [c for c in cols[first_mode:] if c not in labels]
    heads = ["scenario", *before, *(["other verifiers (vulnerable and fixed)"] if modes else []),
             *([labkit] if labkit in cols else []), *after]
    head = "".join(f'<th style="{_CELL};background:{HEAD_BG}">{html.escape(h)}</th>' for h in heads)
    body = []
    for sid, row in frame.iterrows():
        values = {c: "" if row[c] is None else str(row[c]) for c in cols}
        cells = [f'<td style="{_CELL}"><code style="white-space:nowrap">{html.escape(str(sid))}</code></td>']
        cells.extend(_td(values[c], _verdict_style(values[c])) for c in before)
        if modes:
            lines = "".join(
                f'<div style="{_verdict_style(values[c])};padding:1px 3px;margin:1px 0">'
                f"{html.escape(c)}: <b>{html.escape(values[c])}</b></div>"
                for c in modes if values[c]
            )
            cells.append(f'<td style="{_TD}">{lines}</td>')
        if labkit in cols:
            cells.append(_td(values[labkit], _verdict_style(values[labkit])))
        cells.extend(_td(values[c], _verdict_style(values[c])) for c in after)
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="labkit-attack-matrix" style="{_TABLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


_ROW_STYLE = {
    "fail": f"background:{tint(ERROR, 18)};font-weight:bold",
    "pass": f"background:{tint(SUCCESS, 14)}",
    "skip": f"color:{MUTED}",
}


def _status_class(value: str) -> str:
    v = value.lower()
    if v.startswith(("fail", "no", "accepted")):
        return "fail"
    if v.startswith(("pass", "ok", "yes", "rejected")):
        return "pass"
    return "skip" if v.startswith("skip") else ""


def table_html(rows: Sequence[dict[str, Any]], *, status_key: str = "status", max_rows: int | None = None) -> str:
    """A deterministic HTML table of `rows`; the row's `status_key` colours it (failed = red)."""
    if not rows:
        return "<p><em>(no rows)</em></p>"
    shown = list(rows)[:max_rows] if max_rows else list(rows)
    cols = list(shown[0])
    head = "".join(f'<th style="{_CELL};background:{HEAD_BG}">{html.escape(str(c))}</th>' for c in cols)
    body = []
    for r in shown:
        style = _ROW_STYLE.get(_status_class(str(r.get(status_key, ""))), "")
        attr = f' style="{style}"' if style else ""
        body.append(f"<tr{attr}>" + "".join(
            f'<td style="{_TD}">{hash_spans(html.escape(str(r.get(c, ""))))}</td>' for c in cols) + "</tr>")
    return (f'<table class="labkit-steps" style="{_TABLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
