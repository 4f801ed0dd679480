"""Strict base64: every character validated, URL-safe and unpadded forms only where the format allows them."""

from __future__ import annotations

import pytest

from labkit._internal.encoding import b64decode_field, b64encode
from labkit.errors import BundleFormatError


def test_round_trip() -> None:
    assert b64decode_field(b64encode(b"\xfb\xff hello"), "x", BundleFormatError) == b"\xfb\xff hello"


def test_urlsafe_and_unpadded_when_allowed() -> None:
    assert b64decode_field("-_8", "x", BundleFormatError) == b"\xfb\xff"
    with pytest.raises(BundleFormatError, match="x is not valid base64"):
        b64decode_field("-_8", "x", BundleFormatError, urlsafe=False)


@pytest.mark.parametrize("bad", ["aGVsbG8*", "aGVs bG8=", "aGVsbG8=E", "E=", "aGVsbG8=!"])
def test_stray_characters_are_refused_not_dropped(bad: str) -> None:
    with pytest.raises(BundleFormatError, match="not valid base64"):
        b64decode_field(bad, "field", BundleFormatError)


def test_non_string_is_refused() -> None:
    with pytest.raises(BundleFormatError, match="must be a base64 string"):
        b64decode_field(12, "field", BundleFormatError)
