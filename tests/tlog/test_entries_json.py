"""The log parses entry bodies and DSSE envelopes as bounded JSON (issue 12 item 24)."""

from __future__ import annotations

import pytest

from labkit.errors import LogError
from labkit.tlog.entries import dsse_body, parse_body

DEEP = b'{"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_a_deep_entry_body_is_a_log_error() -> None:
    with pytest.raises(LogError, match="nested more than"):
        parse_body(DEEP)


def test_a_deep_dsse_envelope_is_a_log_error() -> None:
    with pytest.raises(LogError, match="nested more than"):
        dsse_body(b'{"payloadType": "x", "payload": "", "signatures": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", [])


def test_nan_in_an_entry_body_is_a_log_error() -> None:
    with pytest.raises(LogError, match="not valid JSON"):
        parse_body(b'{"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": NaN}')
