"""The cheaper certificate look-ups answer as the ones they replace (ADR 0006): by-OID extensions, self-signed."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from labkit.errors import LabkitError
from labkit.verify import TrustedRoot
from labkit.verify._certs import _extension, is_self_signed
from tests.verify.helpers import conformance_leaves

VENDOR = Path(__file__).resolve().parent.parent / "vendor" / "conformance"
KINDS = (x509.BasicConstraints, x509.SubjectAlternativeName, x509.KeyUsage, x509.ExtendedKeyUsage,
         x509.PrecertificateSignedCertificateTimestamps, x509.NameConstraints)


def _certificates() -> list[x509.Certificate]:
    out = conformance_leaves()
    for path in sorted(VENDOR.glob("**/trusted_root*.json")):
        try:
            root = TrustedRoot.from_json(path.read_bytes())
        except LabkitError:
            continue
        for ca in (*root.certificate_authorities, *root.timestamp_authorities):
            out.extend(ca.certificates())
    return out


def _by_class(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> object:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return "absent"
    except ValueError as exc:
        return f"error {exc}"


def _by_oid(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> object:
    try:
        return _extension(cert, kind)
    except x509.ExtensionNotFound:
        return "absent"
    except ValueError as exc:
        return f"error {exc}"


def test_extension_by_oid_is_extension_by_class() -> None:
    certs = _certificates()
    assert len(certs) > 50
    for cert in certs:
        for kind in KINDS:
            assert _by_oid(cert, kind) == _by_class(cert, kind), (cert.subject, kind)


def _reference_self_signed(cert: x509.Certificate) -> bool:
    """The previous reading: names compared as Python `Name`s first, then the signature."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # noqa: BLE001
        return False
    return True


def _cert(
    subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    now = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(now).not_valid_after(now + _dt.timedelta(days=1))
            .sign(signer, hashes.SHA256()))


@pytest.mark.parametrize("shape", ["self-signed", "same names, other signer", "other names, own key"])
def test_self_signed_synthetic(shape: str) -> None:
    k, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    cert = {"self-signed": _cert("a", "a", k, k), "same names, other signer": _cert("a", "a", k, other),
            "other names, own key": _cert("a", "b", k, k)}[shape]
    assert is_self_signed(cert) is (shape == "self-signed") is _reference_self_signed(cert)


def test_self_signed_over_conformance_material() -> None:
    for cert in _certificates():
        assert is_self_signed(cert) == _reference_self_signed(cert), cert.subject
