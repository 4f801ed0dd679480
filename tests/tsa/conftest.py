"""Fixtures for the timestamp-authority tests: a lab TSA and a trusted root that lists it."""

from __future__ import annotations

import datetime as dt

import pytest

from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority, tsa_entry
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
