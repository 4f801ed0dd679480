"""Deterministic HTML for any `labkit.checks.CheckResult`: the checklist and the failed step.

`checklist` shows one row per step: status, stable id, what was checked
(with its detail and, for the failed step, its reason code), expected and
actual values, and the spec the step enforces. Steps not reached after a
failure are folded into one row unless ``show_skipped``. `failure_card` puts
the failed step's expected and actual values side by side. No ids, no
timestamps, no dict-order accidents: nbval compares the markup byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from labkit._internal.checklist_html import checklist_markup, failure_markup
from labkit.checks import CheckResult, Step
from labkit.display.html import HTML

__all__ = ["checklist", "failure_card"]


def _as_result(result: CheckResult | Iterable[Step]) -> CheckResult:
    """`result` itself, or a `CheckResult` holding the given steps."""
    return result if isinstance(result, CheckResult) else CheckResult("", list(result))


def checklist(
    result: CheckResult | Iterable[Step],
    *,
    title: str | None = None,
    show_skipped: bool = False,
    collapse_passed: bool = False,
) -> HTML:
    """The whole check as a table, ending with the verdict; the text form is `CheckResult.checklist()`.

    ``collapse_passed`` folds each run of consecutive passed steps into one row naming them, so a long
    checklist shows what failed or was skipped at a glance.
    """
    r = _as_result(result)
    return HTML(
        checklist_markup(r, title=title, show_skipped=show_skipped, collapse_passed=collapse_passed),
        r.checklist(show_skipped=show_skipped),
    )


def failure_card(result: CheckResult | Iterable[Step], *, title: str | None = None) -> HTML:
    """The failed step alone: what it checks, the spec, expected and actual side by side."""
    markup, text = failure_markup(_as_result(result), title=title)
    return HTML(markup, text)
