"""TrustedRoot parsing: strict fields, closed validity windows, the pinned production root."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from labkit.verify.trustroot import TimeRange, TrustedRoot, TrustRootError, parse_rfc3339
from tests.conftest import SHARED

UTC = dt.timezone.utc


def test_pinned_production_root_is_the_shared_copy() -> None:
    import importlib.resources

    ours = importlib.resources.files("labkit").joinpath("_store/production_trusted_root.json").read_bytes()
    theirs = (SHARED / "conformance" / "trust-roots" / "production_trusted_root.json").read_bytes()
    assert ours == theirs
    assert hashlib.sha256(ours).hexdigest().startswith("6494e21e")
    root = TrustedRoot.production()
    assert root.tlog(bytes.fromhex("c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d")) is not None


def test_time_range_is_closed() -> None:
    start, end = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2025, 6, 1, tzinfo=UTC)
    r = TimeRange(start, end)
    assert r.contains(start) and r.contains(end)
    assert not r.contains(end + dt.timedelta(microseconds=1))
    assert not r.contains(start - dt.timedelta(seconds=1))
    assert TimeRange(start).contains(dt.datetime(2999, 1, 1, tzinfo=UTC))


def test_rfc3339_forms() -> None:
    assert parse_rfc3339("2022-12-31T23:59:59.999Z", "t") == dt.datetime(2022, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert parse_rfc3339("2025-01-01T02:00:00+02:00", "t") == dt.datetime(2025, 1, 1, tzinfo=UTC)
    for bad in ("2025-01-01", "yesterday", 5, "2025-13-01T00:00:00Z"):
        with pytest.raises(TrustRootError):
            parse_rfc3339(bad, "t")


def _prod() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (SHARED / "conformance" / "trust-roots" / "production_trusted_root.json").read_text()
    )
    return doc


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["tlogs"][0]["publicKey"]["validFor"].pop("start"),
        lambda d: d["tlogs"][0]["publicKey"].update(validFor="always"),
        lambda d: d["tlogs"][0]["logId"].update(keyId="***"),
        lambda d: d.update(mediaType="application/json"),
        lambda d: d["certificateAuthorities"][0]["certChain"].update(certificates=[]),
        lambda d: d["certificateAuthorities"][0]["certChain"]["certificates"][0].update(rawBytes="AAAA"),
        lambda d: d.update(tlogs={}),
        lambda d: d["ctlogs"][0]["publicKey"]["validFor"].update(end="2000-01-01T00:00:00Z"),
    ],
)
def test_malformed_roots_are_rejected(mutate: Callable[[dict[str, Any]], object]) -> None:
    doc = _prod()
    mutate(doc)
    with pytest.raises(TrustRootError):
        TrustedRoot.from_json(json.dumps(doc))


def test_json_nulls_mean_absent() -> None:
    doc = _prod()
    doc["tlogs"][0]["publicKey"]["validFor"]["end"] = None
    doc["tlogs"][0]["operator"] = None
    root = TrustedRoot.from_json(json.dumps(doc))
    assert root.tlogs[0].valid_for.end is None
    assert root.tlogs[0].origin_host == "rekor.sigstore.dev"
