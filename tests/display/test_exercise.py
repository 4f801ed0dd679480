"""labkit.display.exercise: a blank stops the checking cell with the hint, an answer passes."""

from __future__ import annotations

import pytest

from labkit.display.exercise import NotAnswered, check, is_blank
from labkit.errors import LabkitError


def test_a_blank_raises_the_hint_naming_the_blank() -> None:
    with pytest.raises(NotAnswered) as info:
        check("Set my_key to an Ed25519 key.", my_key=..., my_bundle="done")
    assert isinstance(info.value, LabkitError)
    assert "`my_key`" in str(info.value) and "my_bundle" not in str(info.value)
    assert info.value.hint == "Set my_key to an Ed25519 key."


def test_ipython_shows_two_plain_lines_not_a_traceback() -> None:
    with pytest.raises(NotAnswered) as info:
        check("Write the pattern.", pattern=...)
    lines = info.value._render_traceback_()
    assert lines == ["Not answered yet: `pattern` is still `...`", "Hint: Write the pattern."]
    assert not any("labkit/" in line or "File " in line for line in lines)


def test_answers_pass_quietly() -> None:
    check("unused", a=0, b=None, c=[1, {"x": 2}], d="...")


@pytest.mark.parametrize("value", [..., [1, ...], {"k": (2, ...)}, {frozenset({...})}.pop()])
def test_nested_blanks_count(value: object) -> None:
    assert is_blank(value)


def test_depth_is_bounded() -> None:
    deep: object = ...
    for _ in range(50):
        deep = [deep]
    assert not is_blank(deep)
