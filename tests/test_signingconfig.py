"""SigningConfig JSON: round trip, what sigstore-python reads, and one labkit error naming a bad field."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from labkit.errors import LabkitError
from labkit.signingconfig import (
    SIGNING_CONFIG_MEDIA_TYPE,
    SigningConfig,
    SigningConfigError,
    parse_selector,
    parse_service_spec,
)

START = "start-time=2026-01-01T00:00:00Z"


def _config() -> SigningConfig:
    return SigningConfig(
        ca_urls=(parse_service_spec(f"url=https://ca.example,api-version=1,{START},operator=lab"),),
        oidc_urls=(parse_service_spec(f"url=https://oidc.example,api-version=1,{START},operator=lab"),),
        rekor_tlog_urls=(parse_service_spec(f"url=https://rekor.example,api-version=1,{START},operator=lab"),),
        tsa_urls=(parse_service_spec(f"url=https://tsa.example/api/v1/timestamp,api-version=1,{START},operator=lab"),),
        rekor_tlog_config=parse_selector("ANY"),
        tsa_config=parse_selector("EXACT:1"),
    )


def test_round_trip_and_stable_bytes() -> None:
    config = _config()
    data = config.to_json()
    assert SigningConfig.from_json(data) == config and SigningConfig.from_json(data).to_json() == data
    doc = json.loads(data)
    assert doc["mediaType"] == SIGNING_CONFIG_MEDIA_TYPE and doc["tsaConfig"] == {"selector": "EXACT", "count": 1}
    wrapped = json.dumps({"mediaType": "x", "signingConfig": doc, "trustedRoot": {}})
    assert SigningConfig.from_json(wrapped) == config


def test_sigstore_python_reads_it() -> None:
    from sigstore.models import SigningConfig as PySigningConfig
    from sigstore_models.trustroot import v1 as trustroot_v1

    parsed = PySigningConfig(trustroot_v1.SigningConfig.from_json(_config().to_json()))
    assert [t.url for t in parsed.get_tsas()] == ["https://tsa.example/api/v1/timestamp"]
    assert parsed.get_fulcio().url == "https://ca.example"


def test_selection_from_the_config() -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    config = _config()
    assert config.ca(now).url == "https://ca.example" and [t.url for t in config.tsas(now)] == [
        "https://tsa.example/api/v1/timestamp"]
    assert SigningConfig().tsas(now) == [] and SigningConfig().tlogs(now) == []
    with pytest.raises(SigningConfigError, match="rule: window"):
        config.ca(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.update(mediaType="application/json"), "signingConfig.mediaType"),
    (lambda d: d["tsaUrls"][0].pop("url"), "signingConfig.tsaUrls[0].url"),
    (lambda d: d["tsaUrls"][0].update(majorApiVersion=0), "signingConfig.tsaUrls[0].majorApiVersion"),
    (lambda d: d["caUrls"][0]["validFor"].update(start="soon"), "signingConfig.caUrls[0].validFor.start"),
    (lambda d: d["rekorTlogConfig"].update(selector="SOME"), "signingConfig.rekorTlogConfig.selector"),
    (lambda d: d["tsaConfig"].update(selector="EXACT", count=0), "EXACT"),
    (lambda d: d.update(tsaUrls={"url": "x"}), "signingConfig.tsaUrls"),
])
def test_bad_configs_name_the_field(mutate: object, field: str) -> None:
    doc = json.loads(_config().to_json())
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(LabkitError) as info:
        SigningConfig.from_json(json.dumps(doc))
    assert isinstance(info.value, SigningConfigError) and field in info.value.message


def test_not_json() -> None:
    with pytest.raises(SigningConfigError):
        SigningConfig.from_json(b"{not json")
