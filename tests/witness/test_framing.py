"""The framing tlog-proof and add-checkpoint share: one reader, the same refusals under each format's name."""

from __future__ import annotations

import base64

import pytest

from labkit.errors import LogError
from labkit.witness._framing import hash_lines, is_uint64, split_note, text_of


@pytest.mark.parametrize(("text", "ok"), [
    ("0", True), ("18446744073709551615", True), ("18446744073709551616", False), ("01", False),
    ("", False), ("-1", False), ("+1", False), ("١", False), (" 1", False),
])
def test_is_uint64(text: str, ok: bool) -> None:
    assert is_uint64(text) is ok


def test_split_note_names_the_format() -> None:
    assert split_note("a\nb\n\nnote\n", "x") == (["a", "b"], "note\n")
    with pytest.raises(LogError, match="^y has no empty line before the checkpoint$"):
        split_note("a\nnote\n", "y")


def test_text_of_refuses_bytes_that_are_not_utf8() -> None:
    assert text_of(b"ok", "z") == "ok"
    with pytest.raises(LogError, match="^z is not UTF-8$"):
        text_of(b"\xff", "z")


def test_hash_lines_refuse_bad_base64_and_wrong_lengths() -> None:
    h = bytes(32)
    assert hash_lines([base64.b64encode(h).decode()], "line") == [h]
    with pytest.raises(LogError, match="line is not base64"):
        hash_lines(["!!"], "line")
    with pytest.raises(LogError, match="line is 31 bytes, expected 32"):
        hash_lines([base64.b64encode(bytes(31)).decode()], "line")
