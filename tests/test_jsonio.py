"""The one bounded JSON reader: size, depth, constants, encodings, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit._internal.jsonio import loads, read_json_file
from labkit.errors import InputError, PayloadError


@pytest.mark.parametrize(
    ("mutation", "data", "message"),
    [
        ("nested_5000_deep", b"[" * 5000 + b"]" * 5000, "nested more than"),
        ("nested_65_deep", b"[" * 65 + b"]" * 65, "nested more than 64"),
        ("bare_nan", b"[NaN]", "NaN is not a JSON value"),
        ("bare_infinity", b"-Infinity", "Infinity is not a JSON value"),
        ("lone_surrogate", b'["\\ud800"]', "lone UTF-16 surrogate"),
        ("lone_surrogate_in_key", b'{"\\udfff": 1}', "lone UTF-16 surrogate"),
        ("not_utf8", b'"\xff"', "not UTF-8"),
        ("utf16_bom", '"a"'.encode("utf-16"), "not UTF-8"),
        ("truncated", b'{"a": [1, 2', "not valid JSON"),
    ],
)
def test_refused(mutation: str, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        loads(data)


def test_depth_at_the_limit_and_surrogate_pairs_are_fine() -> None:
    assert loads(b"[" * 64 + b"]" * 64) == loads(b"[" * 64 + b"]" * 64)
    assert loads(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_size_cap_and_the_callers_error_class() -> None:
    with pytest.raises(PayloadError, match="predicate is 11 bytes, over the 10-byte limit"):
        loads(b'"123456789"', what="predicate", error=PayloadError, max_bytes=10)


def test_duplicate_keys_only_when_asked() -> None:
    assert loads(b'{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(InputError, match="duplicate key 'a'"):
        loads(b'{"a": 1, "a": 2}', reject_duplicate_keys=True)


def test_read_json_file_reads_no_more_than_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'"' + b"x" * 100 + b'"')
    with pytest.raises(InputError, match="over the 50-byte limit"):
        read_json_file(big, max_bytes=50)
    with pytest.raises(InputError, match="no such file"):
        read_json_file(tmp_path / "missing.json")
    with pytest.raises(InputError, match="is a directory"):
        read_json_file(tmp_path)
