"""The TrustedRoot labkit writes: read back by sigstore-python and by labkit's own parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.errors import KeylessError
from labkit.keyless.instance import Instance
from labkit.keyless.trustroot import TRUSTED_ROOT_MEDIA_TYPE, key_details, rfc3339, trusted_root


def test_document_shape(instance: Instance) -> None:
    doc = json.loads(instance.trusted_root_json())
    assert doc["mediaType"] == TRUSTED_ROOT_MEDIA_TYPE
    assert list(doc) == ["mediaType", "tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"]
    (tlog,) = doc["tlogs"]
    assert tlog["publicKey"]["keyDetails"] == "PKIX_ECDSA_P256_SHA_256"
    assert tlog["publicKey"]["validFor"] == {"start": "2026-01-01T12:00:00Z"}
    (ca,) = doc["certificateAuthorities"]
    assert len(ca["certChain"]["certificates"]) == 2  # intermediate, then root
    (ct,) = doc["ctlogs"]
    assert ct["logId"]["keyId"]


def test_sigstore_python_reads_it(instance: Instance, tmp_path: Path) -> None:
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.models import TrustedRoot

    root = TrustedRoot.from_file(str(instance.write_trusted_root(tmp_path / "root.json")))
    assert root.get_fulcio_certs() == [instance.ca.intermediate_cert, instance.ca.root_cert]
    root.rekor_keyring(KeyringPurpose.VERIFY)
    root.ct_keyring(KeyringPurpose.VERIFY)


def test_sigstore_python_reads_the_client_trust_config(instance: Instance) -> None:
    from sigstore.models import ClientTrustConfig

    config = ClientTrustConfig.from_json(instance.client_trust_config_json().decode())
    assert config.trusted_root.get_fulcio_certs()[0] == instance.ca.intermediate_cert


def test_labkit_parser_reads_it(instance: Instance) -> None:
    from labkit.verify import TrustedRoot

    root = TrustedRoot.from_json(instance.trusted_root_json())
    assert root.tlog(instance.tlog_key.public_key().key_id()) is not None
    assert root.ctlog(instance.ctlog.log_id) is not None


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = Instance.create(tmp_path / "a", seed="s").trusted_root_json()
    b = Instance.create(tmp_path / "b", seed="s").trusted_root_json()
    c = Instance.create(tmp_path / "c", seed="t").trusted_root_json()
    assert a == b != c


def test_refusals() -> None:
    import datetime as dt

    with pytest.raises(KeylessError):
        trusted_root(tlogs=[], certificate_authorities=[])
    with pytest.raises(KeylessError):
        rfc3339(dt.datetime(2026, 1, 1))
    from labkit.keys import generate

    assert key_details(generate("ed25519").public_key()) == "PKIX_ED25519"
