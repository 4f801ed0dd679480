"""Trusted roots read by the bundle's proto3-JSON reader (issue 12 item 22)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from labkit._internal.protojson import proto_name
from labkit.verify.trustroot import TimeRange, TrustedRoot, TrustRootError
from tests.conftest import SHARED

PROD = SHARED / "conformance" / "trust-roots" / "production_trusted_root.json"


def _prod() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(PROD.read_text())
    return doc


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {proto_name(k): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _tlog_key(d: dict[str, Any]) -> dict[str, Any]:
    key: dict[str, Any] = d["tlogs"][0]["publicKey"]
    return key


def test_proto_field_names_alone_read_as_the_json_names() -> None:
    assert TrustedRoot.from_json(json.dumps(_snake_keys(_prod()))) == TrustedRoot.from_json(PROD.read_bytes())


def test_urlsafe_and_unpadded_base64_as_in_bundles() -> None:
    doc = _prod()
    want = TrustedRoot.from_json(json.dumps(doc))
    for item in doc["tlogs"] + doc["ctlogs"]:
        item["publicKey"]["rawBytes"] = item["publicKey"]["rawBytes"].rstrip("=").replace("+", "-").replace("/", "_")
        item["logId"]["keyId"] = item["logId"]["keyId"].rstrip("=")
    cert = doc["certificateAuthorities"][0]["certChain"]["certificates"][0]
    cert["rawBytes"] = "\n".join(cert["rawBytes"][i:i + 64] for i in range(0, len(cert["rawBytes"]), 64))
    assert TrustedRoot.from_json(json.dumps(doc)) == want


def test_a_key_without_valid_for_is_valid_at_all_times() -> None:
    doc = _prod()
    del _tlog_key(doc)["validFor"]
    log = TrustedRoot.from_json(json.dumps(doc)).tlogs[0]
    assert log.valid_for == TimeRange.ALWAYS
    assert log.valid_for.contains(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    assert log.valid_for.contains(dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc))
    # a CA still needs its validFor
    del doc["certificateAuthorities"][0]["validFor"]
    with pytest.raises(TrustRootError, match="validFor is missing"):
        TrustedRoot.from_json(json.dumps(doc))


def test_enum_numbers_read_as_names() -> None:
    doc = _prod()
    _tlog_key(doc)["keyDetails"] = 5
    doc["tlogs"][0]["hashAlgorithm"] = 1
    assert TrustedRoot.from_json(json.dumps(doc)).tlogs[0].key_details == "PKIX_ECDSA_P256_SHA_256"


MUTANTS: dict[str, Callable[[dict[str, Any]], object]] = {
    "baseUrl and base_url": lambda d: d["tlogs"][0].update(base_url="https://evil.example"),
    "rawBytes and raw_bytes": lambda d: _tlog_key(d).update(raw_bytes=_tlog_key(d)["rawBytes"]),
    "keyDetails not an enum name": lambda d: _tlog_key(d).update(keyDetails="PKIX_ECDSA_P256"),
    "hashAlgorithm not an enum name": lambda d: d["tlogs"][0].update(hashAlgorithm="SHA1"),
    "P-256 key said to be Ed25519": lambda d: _tlog_key(d).update(keyDetails="PKIX_ED25519"),
    "P-256 key said to be P-384": lambda d: _tlog_key(d).update(keyDetails="PKIX_ECDSA_P384_SHA_384"),
    "P-256 key said to be RSA": lambda d: _tlog_key(d).update(keyDetails="PKIX_RSA_PKCS1V15_2048_SHA256"),
    "P-256 key said to be ML-DSA": lambda d: _tlog_key(d).update(keyDetails="ML_DSA_65"),
    "object for ctlogs": lambda d: d.update(ctlogs={}),
    "object for certificates": lambda d: d["certificateAuthorities"][0]["certChain"].update(certificates={}),
    "character outside the alphabet": lambda d: _tlog_key(d).update(rawBytes=_tlog_key(d)["rawBytes"] + "*"),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_proto3_json_mutants_are_refused(name: str) -> None:
    doc = _prod()
    MUTANTS[name](doc)
    with pytest.raises(TrustRootError):
        TrustedRoot.from_json(json.dumps(doc))


@pytest.mark.parametrize("text", [
    lambda t: t.replace('"baseUrl"', '"baseUrl": "x", "baseUrl"', 1),
    lambda t: t.replace('"baseUrl"', '"operator": NaN, "baseUrl"', 1),
    lambda t: t.encode("utf-16"),
    lambda t: t.replace('"baseUrl"', '"operator": "\\udc00", "baseUrl"', 1),
])
def test_non_json_text_is_refused(text: Callable[[str], str | bytes]) -> None:
    original = PROD.read_text()
    mutated = text(original)
    assert mutated != original
    with pytest.raises(TrustRootError):
        TrustedRoot.from_json(mutated)
