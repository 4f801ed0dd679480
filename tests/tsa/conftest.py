"""Fixtures for the timestamp-authority tests: a lab TSA and a trusted root that lists it."""

from __future__ import annotations

import datetime as dt

import pytest

from labkit._internal import der
from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tsa import FailureInfo, TimestampAuthority, tsa_entry
from labkit.verify.trustroot import TrustedRoot


@pytest.fixture
def tsa() -> TimestampAuthority:
    """A seeded TSA on a fixed clock (2026-01-01T12:00:00Z)."""
    return TimestampAuthority.create(lab=Lab(seed="tsa-tests"))


def root_with(tsa: TimestampAuthority) -> TrustedRoot:
    """A trusted root whose only timestamp authority is `tsa` (a lab log key fills the required tlog)."""
    key = generate("ecdsa-p256", lab=Lab(seed="tsa-tests-log")).public_key()
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    doc = trusted_root(tlogs=[LogEntryKey("https://rekor.labkit.invalid", key, key.key_id(), start)],
                       certificate_authorities=[], timestamp_authorities=[tsa_entry(tsa.chain)])
    return TrustedRoot.from_json(trusted_root_json(doc))


def response_status(response: bytes) -> tuple[int, FailureInfo | None, bool]:
    """(PKIStatus, the failInfo bit set, whether a token is present) of a TimeStampResp."""
    top = der.children(der.parse(response))
    info = der.children(top[0])
    bits = [x for x in info if x.tag == 0x03]
    fail = None
    if bits:
        unused, raw = bits[0].content[0], bits[0].content[1:]
        value = [i for i in range(8 * len(raw) - unused) if raw[i // 8] & (0x80 >> (i % 8))]
        assert len(value) == 1
        fail = FailureInfo(value[0])
    return der.decode_integer(info[0]), fail, len(top) == 2
