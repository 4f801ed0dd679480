"""Exercise blanks and the checking cells that guard them.

The learner copy of a notebook (`tools/learner.py`) replaces each solution cell
with `...` placeholders. A checking cell starts with
``check("what to write", name=value, ...)``: while any answer is still a blank
the cell stops with that hint, shown as two plain lines (no traceback through
labkit); once every answer is filled in, `check` returns and the cell checks
the answer itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from labkit.errors import LabkitError

__all__ = ["NotAnswered", "check"]

_MAX_DEPTH = 8


class NotAnswered(LabkitError):
    """An exercise's answer is still the `...` placeholder."""

    hint = "Replace each `...` in the exercise cell above, run it, then run this cell again."

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the blank and the hint."""
        return [f"Not answered yet: {self.message}", f"Hint: {self.hint}"]


def is_blank(value: object, _depth: int = 0) -> bool:  # Any: a learner's answer, any Python value
    """True for `...`, or a list, tuple, set or mapping that still holds one."""
    if value is Ellipsis:
        return True
    if _depth >= _MAX_DEPTH:
        return False
    if isinstance(value, Mapping):
        return any(is_blank(v, _depth + 1) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_blank(v, _depth + 1) for v in value)
    return False


def check(hint: str, /, **answers: object) -> None:  # Any: a learner's answers, any Python values
    """Raise `NotAnswered` with `hint` when any answer is still `...`; return quietly otherwise."""
    blanks = [name for name, value in answers.items() if is_blank(value)]
    if blanks:
        names = ", ".join(f"`{name}`" for name in blanks)
        raise NotAnswered(f"{names} is still `...`", hint=hint)
