"""Lesson primitives for notebooks: an intended failure as a card, the CLI twin of a cell, spec links.

`expected_failure` runs a call that must fail and shows the labkit error it
raised as a card (message, failed step, hint, and the lesson the failure
teaches) instead of a traceback through labkit's source; a call that does not
fail raises `FailureDidNotHappen`, so an intended failure never looks like
success. `cli_twin` shows the ``labkit`` command that does what the cell above
did, with a copy button. `step_table` lists a step table's checks (id, title, linked spec).
`spec_link` maps a spec name (RFC, C2SP, protobuf-specs,
advisory) to its public address. Colours are JupyterLab theme variables with
fallbacks, so the output stays legible in the dark theme; the markup holds no
ids and no timestamps.
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable, Mapping

from labkit._internal.specs import spec_link, spec_markup
from labkit._internal.theme import BG, BORDER, ERROR, FG, MUTED, RAISED, ink
from labkit.display.html import HTML
from labkit.errors import LabkitError

__all__ = ["FailureDidNotHappen", "cli_twin", "expected_failure", "spec_link", "spec_markup", "step_table"]

_FONT = "font-family:var(--jp-ui-font-family, sans-serif);font-size:12px"
_MONO = "font-family:var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace);font-size:12px"
_FG, _MUTED, _ERROR, _BG, _BORDER = FG, MUTED, ink(ERROR), BG, BORDER


class FailureDidNotHappen(LabkitError):
    """A call shown as an intended failure returned normally."""

    hint = "The cell shows a failure that did not occur: the lab or its inputs changed; do not read it as success."


def _esc(value: str | int | float) -> str:
    return _html.escape(str(value), quote=True)


def _row(label: str, value: str, *, mono: bool = False) -> str:
    style = _MONO if mono else _FONT
    return (
        f'<div style="margin:2px 0"><span style="{_FONT};color:{_MUTED};font-weight:bold">{label}</span> '
        f'<span style="{style};color:{_FG};word-break:break-word;white-space:pre-wrap">{value}</span></div>'
    )


def _card(err: LabkitError, lesson: str) -> HTML:
    name = type(err).__name__
    step = str(getattr(err, "step", "") or err.details.get("step", "") or "")
    reason = str(getattr(err, "reason", "") or err.details.get("reason", "") or "")
    # The step and reason have their own row; the other details follow it.
    details = {k: v for k, v in err.details.items() if not (step and k in {"step", "reason"})}
    rows = [_row("error", _esc(err.message))]
    if step:
        rows.append(_row("failed step", _esc(step) + (f" · reason {_esc(reason)}" if reason != step else ""),
                         mono=True))
    rows.extend(_row(_esc(key), _esc(str(value)), mono=True) for key, value in details.items())
    if err.hint:
        rows.append(_row("hint", _esc(err.hint)))
    markup = (
        f'<div style="{_FONT};color:{_FG};background:{_BG};border:1px solid {_BORDER};'
        f'border-left:4px solid {_ERROR};border-radius:4px;padding:6px 10px;margin:4px 0;max-width:100%">'
        f'<div style="font-weight:bold;color:{_ERROR};margin-bottom:2px">✘ refused, as intended: {_esc(name)}</div>'
        + "".join(rows)
        + f'<div style="margin-top:4px;padding-top:4px;border-top:1px solid {_BORDER}">'
        f'<span style="font-weight:bold">Lesson:</span> {_esc(lesson)}</div></div>'
    )
    text_lines = [f"refused, as intended: {name}: {err.message}"]
    if step:
        text_lines.append(f"  failed step: {step}" + (f" (reason {reason})" if reason != step else ""))
    text_lines.extend(f"  {key}: {value}" for key, value in details.items())
    if err.hint:
        text_lines.append(f"  hint: {err.hint}")
    text_lines.append(f"Lesson: {lesson}")
    return HTML(markup, "\n".join(text_lines))


def expected_failure(fn: Callable[[], object], *, lesson: str) -> HTML:
    """Call `fn`, which must raise a `LabkitError`, and show that error as a card with `lesson`.

    Any other exception propagates (it is a bug, not a lesson). If `fn` returns, raise `FailureDidNotHappen`.
    """
    try:
        fn()
    except LabkitError as err:
        return _card(err, lesson)
    raise FailureDidNotHappen(
        "the intended failure did not happen: the call returned normally",
        details={"lesson": lesson},
    )


def cli_twin(command: str) -> HTML:
    """A small box with the ``labkit`` command doing the same thing, and a copy button (no widgets needed)."""
    button = (
        '<button type="button" title="copy the command" '
        'onclick="navigator.clipboard.writeText(this.parentElement.querySelector(\'code\').textContent)'
        ".then(() => { this.textContent = 'copied'; })\" "
        f'style="{_FONT};margin-left:8px;padding:1px 8px;cursor:pointer;color:{_FG};'
        f'background:{RAISED};border:1px solid {_BORDER};border-radius:3px">copy</button>'
    )
    markup = (
        f'<div style="{_FONT};color:{_FG};background:{_BG};border:1px dashed {_BORDER};'
        'border-radius:4px;padding:4px 8px;margin:4px 0;display:flex;align-items:center;max-width:100%">'
        f'<span style="color:{_MUTED};margin-right:8px;white-space:nowrap">same thing from the command line</span>'
        f'<code style="{_MONO};color:{_FG};background:transparent;overflow-x:auto;white-space:pre;flex:1">'
        f"{_esc(command)}</code>{button}</div>"
    )
    return HTML(markup, f"$ {command}")


def step_table(steps: Mapping[str, tuple[str, str]], *, title: str | None = None) -> HTML:
    """A step table (id -> (title, spec), e.g. `labkit.verify.STEPS`) in order, each spec name a link."""
    cell = f"border-bottom:1px solid {_BORDER};padding:3px 8px;text-align:left;vertical-align:top;color:{_FG}"
    head = "".join(f'<th style="{cell};font-weight:bold">{h}</th>' for h in ("#", "id", "check", "spec"))
    rows = "".join(
        f'<tr><td style="{cell};color:{_MUTED}">{i}</td>'
        f'<td style="{cell};{_MONO};white-space:nowrap">{_esc(step_id)}</td>'
        f'<td style="{cell}">{_esc(name)}</td><td style="{cell};color:{_MUTED}">{spec_markup(spec)}</td></tr>'
        for i, (step_id, (name, spec)) in enumerate(steps.items(), start=1)
    )
    caption = f'<div style="font-weight:bold;margin:6px 0 2px 0">{_esc(title)}</div>' if title else ""
    markup = (f'<div style="{_FONT};color:{_FG}">{caption}<table style="border-collapse:collapse;margin:4px 0">'
              f"<tr>{head}</tr>{rows}</table></div>")
    text = "\n".join(f"{i:>2} {step_id}: {name} [{spec}]" for i, (step_id, (name, spec)) in enumerate(steps.items(), 1))
    return HTML(markup, (title + "\n" if title else "") + text)
