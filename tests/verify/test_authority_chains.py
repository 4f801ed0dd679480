"""Trusted-root CA and TSA chains (issue 12 #19).

The LAST certificate is the anchor and every link up to it verifies.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.errors import LabkitError
from labkit.verify import Artifact, Identity, TrustedRoot, explain_bundle
from labkit.verify._certs import authority_chain
from labkit.verify.timestamp import verify_timestamp
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
CASE = CASES / "rekor2-happy-path"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
POLICY = Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")

Chain = list[bytes]


def _root() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CASE / "trusted_root.json").read_text())
    return doc


def _chain(doc: dict[str, Any], kind: str) -> Chain:
    return [base64.b64decode(c["rawBytes"]) for c in doc[kind][0]["certChain"]["certificates"]]


def _set_chain(doc: dict[str, Any], kind: str, chain: Chain) -> bytes:
    doc[kind][0]["certChain"]["certificates"] = [{"rawBytes": base64.b64encode(d).decode()} for d in chain]
    return json.dumps(doc).encode()


def _bundle_leaf() -> bytes:
    doc = json.loads((CASE / "bundle.sigstore.json").read_text())
    return base64.b64decode(doc["verificationMaterial"]["certificate"]["rawBytes"])


def _flip_last_byte(der: bytes) -> bytes:
    """Change the signature's last byte: the certificate still parses, its signature no longer verifies."""
    return der[:-1] + bytes([der[-1] ^ 0x01])


def _corrupt_subject(der: bytes) -> bytes:
    """Change one character of the CN inside the signed TBS (a corrupted intermediate)."""
    assert der.count(b"sigstore-intermediate") == 1
    return der.replace(b"sigstore-intermediate", b"sigstore-intermediatX")


def _break_key(der: bytes) -> bytes:
    """Move the EC public point off the curve: the certificate parses, its key does not."""
    spki = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    at = der.index(spki) + len(spki) - 1
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]


def _other_root() -> bytes:
    """The public-good root: the same subject as the sigstage root, another key."""
    return TrustedRoot.production().certificate_authorities[-1].chain_der[-1]


MUTANTS: dict[str, tuple[str, Callable[[Chain], Chain], str]] = {
    "intermediate-bad-signature": (
        "certificateAuthorities",
        lambda c: [_flip_last_byte(c[0]), c[1]],
        "does not verify",
    ),
    "intermediate-corrupted": ("certificateAuthorities", lambda c: [_corrupt_subject(c[0]), c[1]], "does not verify"),
    "root-key-does-not-parse": ("certificateAuthorities", lambda c: [c[0], _break_key(c[1])], "does not parse"),
    "anchor-is-another-root": ("certificateAuthorities", lambda c: [c[0], _other_root()], "does not verify"),
    "chain-holds-the-bundle-leaf": ("certificateAuthorities", lambda c: [_bundle_leaf(), *c], "not a CA"),
    "chain-is-the-bundle-leaf": ("certificateAuthorities", lambda c: [_bundle_leaf()], "not a CA"),
    "tsa-root-key-does-not-parse": ("timestampAuthorities", lambda c: [c[0], _break_key(c[1])], "does not parse"),
    "tsa-leaf-bad-signature": ("timestampAuthorities", lambda c: [_flip_last_byte(c[0]), c[1]], "does not verify"),
    "tsa-chain-holds-the-bundle-leaf": ("timestampAuthorities", lambda c: [c[0], _bundle_leaf(), c[1]], "not a CA"),
}


def test_the_unchanged_root_verifies() -> None:
    result = explain_bundle((CASE / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"),
                            (CASE / "trusted_root.json").read_bytes(), POLICY)
    assert result.verified, result.checklist()


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_broken_authority_chain_is_refused_cleanly(name: str) -> None:
    kind, mutate, words = MUTANTS[name]
    doc = _root()
    root = _set_chain(doc, kind, mutate(_chain(doc, kind)))
    result = explain_bundle(
        (CASE / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"), root, POLICY
    )
    step = result.failed_step
    assert step is not None and not result.verified
    assert (step.id, result.reason) == ("trust_root.parse", "trust_root.chain"), result.checklist()
    assert words in step.detail and "unexpected" not in step.detail
    # the explain path shows what was expected and what was found
    assert step.expected and step.actual and words in step.actual


def test_a_tsa_chain_is_checked_when_used_too() -> None:
    doc = _root()
    root = TrustedRoot.from_json(
        _set_chain(
            doc,
            "timestampAuthorities",
            [_flip_last_byte(c) if n == 0 else c for n, c in enumerate(_chain(doc, "timestampAuthorities"))],
        )
    )
    bundle = json.loads((CASE / "bundle.sigstore.json").read_text())
    stamp = base64.b64decode(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
    )
    signature = base64.b64decode(bundle["messageSignature"]["signature"])
    with pytest.raises(LabkitError) as info:
        verify_timestamp(stamp, signature, root)
    assert "chain" in info.value.message and "does not verify" in info.value.message
    with pytest.raises(LabkitError, match="not a CA certificate"):
        authority_chain(root, root.timestamp_authorities[0])  # a TSA leaf is only allowed first
