"""The PEM key-field shortcut of entry binding answers as the general reading it skips (ADR 0006, differential gate)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from labkit.bundle import Bundle, MessageSignature
from labkit.errors import LabkitError
from labkit.keys import load_public_key
from labkit.verify import binding
from labkit.verify.binding import EntryBinding, bind_entry

CASES = Path(__file__).resolve().parent.parent / "vendor" / "conformance" / "bundle-verify"


def _both(monkeypatch: pytest.MonkeyPatch, fn: object) -> tuple[object, object]:
    """`fn()` with the shortcut on, then off."""
    fast = fn()  # type: ignore[operator]
    monkeypatch.setattr(binding, "ENTRY_PEM_FASTPATH", False)
    general = fn()  # type: ignore[operator]
    monkeypatch.setattr(binding, "ENTRY_PEM_FASTPATH", True)
    return fast, general


def _signer_der(case: Path, bundle: Bundle) -> bytes | None:
    der = bundle.verification_material.leaf_certificate
    if der is not None:
        return der
    try:
        return load_public_key((case / "key.pub").read_bytes()).der()
    except (LabkitError, OSError):
        return None


def _bind(bundle: Bundle, signer_der: bytes) -> list[EntryBinding]:
    content = bundle.content
    digest = ("sha256", content.digest) if isinstance(content, MessageSignature) else ("sha256", b"")
    return [bind_entry(e.kind, e.version, e.canonicalized_body, artifact_digest=digest, signer_der=signer_der,
                       content=content) for e in bundle.verification_material.tlog_entries]


def test_conformance_entries_bind_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = 0
    for case in sorted(CASES.iterdir()):
        try:
            bundle = Bundle.from_json((case / "bundle.sigstore.json").read_bytes())
        except (LabkitError, OSError):
            continue
        der = _signer_der(case, bundle)
        if der is None:
            continue
        for other in (der, der[:-1] + bytes([der[-1] ^ 1])):  # the signer, and a signer the entry does not record
            fast, general = _both(monkeypatch, lambda d=other, b=bundle: _bind(b, d))
            assert fast == general, case.name
            seen += 1
    assert seen > 50


def _spki() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _pem(der: bytes, label: str, width: int = 64, newline: str = "\n", tail: str = "\n") -> bytes:
    b64 = base64.b64encode(der).decode()
    lines = newline.join(b64[i:i + width] for i in range(0, len(b64), width))
    return f"-----BEGIN {label}-----{newline}{lines}{newline}-----END {label}-----{tail}".encode()


def _variants(der: bytes, label: str) -> Iterator[object]:
    other = _spki()
    for pem in (_pem(der, label), _pem(der, label, width=76), _pem(der, label, newline="\r\n"),
                _pem(der, label, tail=""), _pem(der, label, tail="\n\n"), _pem(der, label) + b" ",
                _pem(der, "PUBLIC KEY" if label == "CERTIFICATE" else "CERTIFICATE"), _pem(other, label),
                _pem(der[:-1], label), _pem(der, label).replace(b"-----END", b"-----end")):
        text = base64.b64encode(pem).decode()
        yield text
        yield text.rstrip("=")
        yield text + "="
        yield base64.urlsafe_b64encode(pem).decode()
    yield 42
    yield None
    yield ""


@pytest.mark.parametrize("label", ["CERTIFICATE", "PUBLIC KEY"])
def test_pem_field_variants_compare_the_same(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    leaf = Bundle.from_json((CASES / "happy-path-v0.1" / "bundle.sigstore.json").read_bytes())
    der = leaf.verification_material.leaf_certificate if label == "CERTIFICATE" else _spki()
    assert der is not None
    b = binding._Bundle(leaf.content, ("sha256", b""), "sha256:" + hashlib.sha256(der).hexdigest(), der)

    def outcome(value: object) -> object:
        try:
            return binding._pem_key(value, "k", "signature.publicKey", b)  # type: ignore[arg-type]
        except binding._BodyError as exc:
            return f"error: {exc}"

    for value in _variants(der, label):
        fast, general = _both(monkeypatch, lambda v=value: outcome(v))
        assert fast == general, value


def test_shortcut_taken_for_the_canonical_form() -> None:
    der = _spki()
    text = base64.b64encode(_pem(der, "PUBLIC KEY")).decode()
    assert binding._pem_b64(der, "PUBLIC KEY") == text
