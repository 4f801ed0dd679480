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


def test_line_wrapped_base64_decodes_as_protojson_does() -> None:
    """`base64(1)` wraps at 76 columns; Go's protojson skips CR and LF (issue 12 item 17)."""
    data = bytes(range(256)) * 2
    text = b64encode(data)
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    assert b64decode_field(wrapped, "x", BundleFormatError) == data
    assert b64decode_field(wrapped.replace("\n", "\r\n") + "\n", "x", BundleFormatError) == data
    with pytest.raises(BundleFormatError, match="not valid base64"):
        b64decode_field(wrapped, "x", BundleFormatError, urlsafe=False)


@pytest.mark.parametrize("text, data", [
    ("+/8=", b"\xfb\xff"), ("-_8=", b"\xfb\xff"), ("-_8", b"\xfb\xff"), ("+/8", b"\xfb\xff"), ("", b""),
    ("QUJD", b"ABC"), ("QUI", b"AB"), ("QQ", b"A"), ("QQ==", b"A"),
])
def test_standard_or_urlsafe_padded_or_not(text: str, data: bytes) -> None:
    assert b64decode_field(text, "x", BundleFormatError) == data


@pytest.mark.parametrize("bad", ["+_8=", "-/8", "Q", "QQ=", "Q===", "QU=I", "QUJD\t", "QUJD\v", "QU\x00JD"])
def test_mixed_alphabets_bad_padding_and_other_whitespace_are_refused(bad: str) -> None:
    with pytest.raises(BundleFormatError, match="not valid base64"):
        b64decode_field(bad, "x", BundleFormatError)
