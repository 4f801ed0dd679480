"""TSA keys and chains (RFC 3161 §2.3) and the trusted root's timestampAuthorities entry."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit.keyless.trustroot import trusted_root_json
from labkit.lab import Lab
from labkit.tsa import DEFAULT_TSA_URL, TSAError, create_tsa, tsa_entry, tsa_entry_json
from tests.tsa.conftest import root_with

_UTC = dt.timezone.utc


def test_leaf_has_the_critical_timestamping_eku_and_digital_signature() -> None:
    material = create_tsa(lab=Lab(seed="chain"))
    leaf, root = material.chain
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert leaf.not_valid_before_utc == dt.datetime(2026, 1, 1, 12, tzinfo=_UTC)
    assert leaf.not_valid_after_utc == leaf.not_valid_before_utc + dt.timedelta(days=3650)
    assert material.lab and material.chain_pem().count(b"BEGIN CERTIFICATE") == 2


def test_lab_chains_repeat_and_real_chains_do_not() -> None:
    assert create_tsa(lab=Lab(seed="same")).chain == create_tsa(lab=Lab(seed="same")).chain
    assert create_tsa(lab=Lab(seed="same")).chain != create_tsa(lab=Lab(seed="other")).chain
    a, b = create_tsa(), create_tsa()
    assert not a.lab and a.chain != b.chain
    assert abs(a.chain[0].not_valid_before_utc - dt.datetime.now(_UTC)) < dt.timedelta(minutes=1)


def test_p384_and_refused_algorithms() -> None:
    material = create_tsa(lab=Lab(seed="p384"), algorithm="ecdsa-p384")
    assert material.signing_key.algorithm.value == "ecdsa-p384"
    with pytest.raises(TSAError):
        create_tsa(lab=Lab(seed="x"), algorithm="ed25519")


def test_trusted_root_entry_shape() -> None:
    material = create_tsa(lab=Lab(seed="entry"))
    entry = tsa_entry_json(material.chain)
    assert list(entry) == ["subject", "uri", "certChain", "validFor"]
    assert entry["subject"] == {"organization": "labkit", "commonName": "labkit timestamp authority"}
    assert entry["uri"] == DEFAULT_TSA_URL
    ders = [base64.b64decode(c["rawBytes"]) for c in entry["certChain"]["certificates"]]
    assert ders == [c.public_bytes(serialization.Encoding.DER) for c in material.chain]  # leaf first
    assert entry["validFor"] == {"start": "2026-01-01T12:00:00Z", "end": "2035-12-30T12:00:00Z"}
    window = tsa_entry(material.chain, start=dt.datetime(2026, 6, 1, tzinfo=_UTC)).to_dict()["validFor"]
    assert window["start"] == "2026-06-01T00:00:00Z"


def test_labkit_trust_root_parser_reads_the_entry() -> None:
    from labkit.tsa import TimestampAuthority

    tsa = TimestampAuthority.create(lab=Lab(seed="parse"))
    root = root_with(tsa)
    (ca,) = root.timestamp_authorities
    assert ca.certificates() == list(tsa.chain)
    assert ca.valid_for.contains(dt.datetime(2030, 1, 1, tzinfo=_UTC))
    assert not ca.valid_for.contains(dt.datetime(2025, 12, 31, tzinfo=_UTC))


def test_sigstore_python_reads_the_entry(tmp_path: Path) -> None:
    """sigstore-python 4.5.1's trusted-root model lists the TSA with its chain and window."""
    from sigstore.models import TrustedRoot as SigstoreRoot

    from labkit.keyless.trustroot import LogEntryKey, trusted_root
    from labkit.keys import generate

    material = create_tsa(lab=Lab(seed="sigstore"))
    key = generate("ecdsa-p256", lab=Lab(seed="sigstore-log")).public_key()
    doc = trusted_root(tlogs=[LogEntryKey("https://rekor.labkit.invalid", key, key.key_id(),
                                          dt.datetime(2025, 1, 1, tzinfo=_UTC))],
                       certificate_authorities=[], timestamp_authorities=[tsa_entry(material.chain)])
    path = tmp_path / "trusted_root.json"
    path.write_bytes(trusted_root_json(doc))
    (authority,) = SigstoreRoot.from_file(str(path)).get_timestamp_authorities()
    assert authority.validity_period_start == dt.datetime(2026, 1, 1, 12, tzinfo=_UTC)
    certs = authority.certificates(allow_expired=True)
    assert [c.public_bytes(serialization.Encoding.DER) for c in certs] == [
        c.public_bytes(serialization.Encoding.DER) for c in material.chain
    ]
