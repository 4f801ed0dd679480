"""The proto3 JSON reader (issue 12 item 22): names both ways, no duplicates, strict int64, lists, enums."""

from __future__ import annotations

import pytest

from labkit._internal.jsonio import JSONValue
from labkit._internal.protojson import HASH_ALGORITHM, PUBLIC_KEY_DETAILS, Message, loads, proto_name, read_int64
from labkit.errors import BundleFormatError


def _m(doc: JSONValue) -> Message:
    return Message(doc, "doc", BundleFormatError)


def test_a_field_is_read_under_its_json_or_its_proto_name() -> None:
    assert _m({"payloadType": "t"}).string("payloadType") == "t"
    assert _m({"payload_type": "t"}).string("payloadType") == "t"
    assert _m({"rfc3161_timestamps": []}).repeated("rfc3161Timestamps") == []
    assert _m({"x509_certificate_chain": {}}).has("x509CertificateChain")
    assert proto_name("rfc3161Timestamps") == "rfc3161_timestamps"


def test_a_key_that_is_no_proto_name_stays_unknown() -> None:
    m = _m({"payload__type": "t", "payload_Type": "u"})
    assert not m.has("payloadType")


def test_a_field_under_both_names_is_refused() -> None:
    with pytest.raises(BundleFormatError, match=r"doc.payloadType is given twice"):
        _m({"payloadType": "a", "payload_type": "b"})


@pytest.mark.parametrize("text", [
    b'{"a": 1, "a": 2}',                      # duplicate key
    b'{"a": NaN}', b'{"a": Infinity}',        # not JSON numbers
    '{"a": 1}'.encode("utf-16"),              # UTF-16 (with BOM)
    '{"a": 1}'.encode("utf-16-le"),           # UTF-16 without BOM
    b'\xef\xbb\xbf{"a": 1}',                  # UTF-8 BOM
    b'{"a": "\\ud800"}',                      # lone surrogate
    b'{"a": "\xff"}',                         # not UTF-8
    b"[" * 5000 + b"]" * 5000,                # deeper than the nesting limit
])
def test_loads_refuses(text: bytes) -> None:
    with pytest.raises(BundleFormatError):
        loads(text, what="doc", error=BundleFormatError)


@pytest.mark.parametrize("value, number", [("0", 0), ("1", 1), ("-5", -5), (7, 7), ("9223372036854775807", 2**63 - 1)])
def test_int64_accepted(value: JSONValue, number: int) -> None:
    assert read_int64(value, "n", BundleFormatError) == number


@pytest.mark.parametrize("value", [
    " 1", "1 ", "01", "-01", "+1", "\uff10", "\u0661", "1.0", "1e3", "", "-", "0x1", 1.0, True, None, [],
    "9223372036854775808", 2**63,
])
def test_int64_refused(value: JSONValue) -> None:
    with pytest.raises(BundleFormatError):
        read_int64(value, "n", BundleFormatError)


def test_int64_minimum() -> None:
    with pytest.raises(BundleFormatError, match="out of range"):
        _m({"logIndex": "-1"}).int64("logIndex", minimum=0)


def test_repeated_fields_are_lists_and_null_is_empty() -> None:
    assert _m({"hashes": None}).repeated("hashes") == []
    assert _m({}).messages("hashes") == []
    with pytest.raises(BundleFormatError, match="doc.rfc3161Timestamps must be a list, not an object"):
        _m({"rfc3161Timestamps": {}}).repeated("rfc3161Timestamps")


def test_enums_by_name_or_number() -> None:
    assert _m({"a": "SHA2_384"}).enum("a", HASH_ALGORITHM) == "SHA2_384"
    assert _m({"a": 1}).enum("a", HASH_ALGORITHM) == "SHA2_256"
    assert _m({"a": 7}).enum("a", PUBLIC_KEY_DETAILS) == "PKIX_ED25519"
    assert _m({}).enum("a", HASH_ALGORITHM) == ""
    bad: object
    for bad in ("SHA1", "sha2_256", 99, True, {}):
        with pytest.raises(BundleFormatError, match="is not a HashAlgorithm value"):
            _m({"a": bad}).enum("a", HASH_ALGORITHM)


def test_bytes_and_strings_are_typed() -> None:
    assert _m({"rawBytes": "AQID"}).binary("rawBytes") == b"\x01\x02\x03"
    assert _m({"raw_bytes": "AQI"}).binary("rawBytes") == b"\x01\x02"
    with pytest.raises(BundleFormatError, match="must be a string"):
        _m({"hint": 5}).string("hint")
    with pytest.raises(BundleFormatError, match="doc.rawBytes is missing"):
        _m({}).binary("rawBytes", required=True)
