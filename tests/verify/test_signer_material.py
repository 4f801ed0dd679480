"""Signer material the specs constrain: one SAN per Fulcio certificate (#21), DSSE keyid = key hint (#23), issue 12."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

import labkit.keyless.ca as ca_module
from labkit.attest.attest import attest_blob
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.keys import generate
from labkit.sign import public_key_hint
from labkit.verify import Identity, explain_bundle
from labkit.verify._certs import check_leaf_profile

BLOB = b"one identity per certificate\n"


class _TwoSans:
    """`cryptography.x509` as the lab CA sees it, except that every SAN extension gets a first, extra name."""

    def __getattr__(self, name: str) -> Any:
        return getattr(x509, name)

    @staticmethod
    def SubjectAlternativeName(names: list[x509.GeneralName]) -> x509.SubjectAlternativeName:  # noqa: N802
        return x509.SubjectAlternativeName([x509.RFC822Name("mallory@example.com"), *names])


def test_a_second_san_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected identity as the certificate's second SAN: the Fulcio profile allows exactly one."""
    with Instance.create(tmp_path / "inst", seed="two-sans") as inst:
        monkeypatch.setattr(ca_module, "x509", _TwoSans())
        bundle = sign_blob_keyless(inst, BLOB, identity="alice@example.com")
        monkeypatch.undo()
        root = inst.trusted_root_json()
        policy = Identity(identity="alice@example.com", issuer=inst.issuer.url)
    result = explain_bundle(bundle, BLOB, root, policy)
    assert result.reason == "certificate.profile", result.checklist()
    step = result.failed_step
    assert step is not None and "2 subject alternative names" in step.detail
    assert step.expected == "exactly 1 SAN" and step.actual == "mallory@example.com, alice@example.com"
    # the identity policy alone never matches a second name either
    assert bundle.verification_material.certificate is not None
    leaf = x509.load_der_x509_certificate(bundle.verification_material.certificate)
    check = policy.check(leaf)
    assert not check.ok and check.reason == "policy.identity" and "2 SANs" in check.actual
    with pytest.raises(Exception, match="subject alternative names"):
        check_leaf_profile(leaf)


def _dsse_bundle(tmp_path: Path) -> tuple[dict[str, Any], Any, bytes]:
    inst = Instance.create(tmp_path / "inst", seed="dsse-keyid")
    key = generate("ecdsa-p256", lab=inst.lab, label="attester")
    bundle = attest_blob(BLOB, "custom", b"built on a Tuesday\n", key, instance=inst)
    root = inst.trusted_root_json()
    inst.close()
    doc: dict[str, Any] = json.loads(bundle.to_json())
    return doc, key, root


def test_a_dsse_keyid_other_than_the_key_hint_is_refused(tmp_path: Path) -> None:
    doc, key, root = _dsse_bundle(tmp_path)
    hint = public_key_hint(key.public_key())
    assert doc["verificationMaterial"]["publicKey"]["hint"] == hint
    assert explain_bundle(json.dumps(doc), BLOB, root, key=key.public_key()).verified  # no keyid: fine
    doc["dsseEnvelope"]["signatures"][0]["keyid"] = hint
    assert explain_bundle(json.dumps(doc), BLOB, root, key=key.public_key()).verified  # the same hint: fine
    doc["dsseEnvelope"]["signatures"][0]["keyid"] = "another-key"
    result = explain_bundle(json.dumps(doc), BLOB, root, key=key.public_key())
    assert result.reason == "material.key_hint", result.checklist()
    step = result.failed_step
    assert step is not None and step.id == "material.signer"
    assert (step.expected, step.actual) == (hint, "another-key")
