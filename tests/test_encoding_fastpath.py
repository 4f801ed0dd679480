"""The padded-standard base64 shortcut answers exactly as the general readings it skips (differential gate)."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit._internal import encoding, jsonio
from labkit._internal.protojson import Message
from labkit.errors import InputError

CONFORMANCE = Path(__file__).parent / "vendor" / "conformance" / "bundle-verify"

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="strict base64 needs Python 3.11")


def _strings() -> Iterator[str]:
    """Every short string over base64's hard cases, longer ones over the padding cases, and real fields."""
    for n in range(6):
        for chars in itertools.product("AQ+/=-_\n .", repeat=n):
            yield "".join(chars)
    for chars in itertools.product("AQ=-", repeat=8):
        yield "".join(chars)
    for path in sorted(CONFORMANCE.glob("*/bundle.sigstore.json")):
        try:
            stack: list[object] = [json.loads(path.read_text())]
        except ValueError:
            continue  # the malformed-JSON cases
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, str):
                yield node


def _outcome(fn: object, value: str) -> bytes | str:
    try:
        return fn(value)  # type: ignore[operator,no-any-return]
    except (binascii.Error, ValueError):
        return "refused"


def _standard_reference(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _standard_now(value: str) -> bytes:
    return encoding.b64decode_field(value, "x", ValueError, urlsafe=False)


def test_protojson_reading_unchanged() -> None:
    for value in _strings():
        assert _outcome(encoding._decode_protojson, value) == _outcome(encoding._decode_protojson_general, value), value


def test_standard_reading_unchanged() -> None:
    for value in _strings():
        assert _outcome(_standard_now, value) == _outcome(_standard_reference, value), value


def test_shortcut_taken_only_for_padded_standard() -> None:
    assert encoding.decode_padded_standard("QUJD") == b"ABC"
    assert encoding.decode_padded_standard("QQ==") == b"A"
    for value in ("QQ", "QUJD====", "QUJD=", "QU-D", "QU\nD", "QU D", "é" * 4):
        assert encoding.decode_padded_standard(value) is None, value


def test_duplicate_keys_still_refused() -> None:
    with pytest.raises(InputError, match="duplicate key 'a'"):
        jsonio.loads('{"b": {"a": 1, "c": 2, "a": 3}}', reject_duplicate_keys=True)
    assert jsonio.loads('{"a": 1, "b": {"a": 2}}', reject_duplicate_keys=True) == {"a": 1, "b": {"a": 2}}


def test_message_bytes_fields_same_answers() -> None:
    m = Message({"a": "QUJD", "b": "QUJD-_", "hashes": ["QQ==", "QUJD", "QR"], "bad": ["QQ==", "Q!=="]}, "doc",
                InputError)
    assert (m.binary("a"), m.binary("b")) == (b"ABC", base64.urlsafe_b64decode("QUJD-_=="))
    assert m.binaries("hashes") == [b"A", b"ABC", b"A"]
    with pytest.raises(InputError, match=r"doc\.bad\[1\] is not valid base64"):
        m.binaries("bad")
    with pytest.raises(InputError, match=r"doc\.yZ is given twice"):
        Message({"y_z": "2", "yZ": "4"}, "doc", InputError)
    assert Message({"payload_type": "t"}, "doc", InputError).string("payloadType") == "t"
