"""The Fulcio-style CA: what it checks, what it issues, and what it refuses."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

from labkit.keyless.ca import (
    OID_ISSUER_V1,
    OID_ISSUER_V2,
    CertificateRequest,
    certificate_fields,
    der_utf8_string,
    fulcio_extensions,
)
from labkit.keyless.checks import IssuanceRefused
from labkit.keyless.instance import Instance
from labkit.keyless.oidc import github_claims
from labkit.keys import generate


def _ext(cert: x509.Certificate, oid: str) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))


def _chain_verifies(instance: Instance, cert: x509.Certificate) -> list[x509.Certificate]:
    """Path validation exactly as sigstore-python configures it (webpki profile, code-signing EKU allowed)."""
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    verifier = (
        PolicyBuilder().store(Store(list(instance.ca.chain))).time(cert.not_valid_before_utc)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy).build_client_verifier()
    )
    return list(verifier.verify(cert, []).chain[1:])


def _issue(instance: Instance, identity: str | None = "alice@example.com", **mint: object) -> x509.Certificate:
    key = generate("ecdsa-p256", lab=instance.lab, label="eph")
    token = instance.issuer.mint(identity, **mint)  # type: ignore[arg-type]
    return instance.ca.issue(token, CertificateRequest.create(key, token)).certificate


def test_email_certificate_follows_the_fulcio_profile(instance: Instance) -> None:
    cert = _issue(instance)
    assert cert.subject == x509.Name([])
    assert cert.issuer == instance.ca.intermediate_cert.subject
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(minutes=10)
    san = _ext(cert, "2.5.29.17")
    assert san.critical and san.value.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]  # type: ignore[attr-defined]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CODE_SIGNING
    ]
    # 1.1 holds the raw string, 1.8 a DER UTF8String (Fulcio docs/oid-info.md).
    assert _ext(cert, OID_ISSUER_V1).value.value == instance.issuer.url.encode()  # type: ignore[attr-defined]
    issuer_v2 = _ext(cert, OID_ISSUER_V2).value.value  # type: ignore[attr-defined]
    assert issuer_v2 == b"\x0c" + bytes([len(instance.issuer.url)]) + instance.issuer.url.encode()
    # The trusted root lists the intermediate too, so it anchors the path (as in sigstore-python).
    assert _chain_verifies(instance, cert)[0] == instance.ca.intermediate_cert


def test_embedded_sct_verifies_with_sigstore_python(instance: Instance) -> None:
    from sigstore._internal.sct import verify_sct
    from sigstore._internal.trust import Keyring
    from sigstore_models.common import v1

    cert = _issue(instance)
    scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    assert len(scts) == 1 and scts[0].log_id == instance.ctlog.log_id
    keyring = Keyring([v1.PublicKey(
        raw_bytes=base64.b64encode(instance.ctlog.public_key.der()),
        key_details=v1.PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
    )])
    verify_sct(cert, _chain_verifies(instance, cert), keyring)  # type: ignore[arg-type]


def test_github_token_gets_uri_san_and_workflow_extensions(instance: Instance) -> None:
    from sigstore.verify.policy import (
        AllOf,
        GitHubWorkflowRef,
        GitHubWorkflowRepository,
        GitHubWorkflowSHA,
        GitHubWorkflowTrigger,
        Identity,
    )

    claims = github_claims("octo/app", sha="ab" * 20)
    cert = _issue(instance, None, claims=claims)
    uri = "https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main"
    AllOf([
        Identity(identity=uri, issuer=instance.issuer.url),
        GitHubWorkflowRepository("octo/app"),
        GitHubWorkflowRef("refs/heads/main"),
        GitHubWorkflowSHA("ab" * 20),
        GitHubWorkflowTrigger("push"),
    ]).verify(cert)
    rows = dict(certificate_fields(cert))
    assert rows["Source Repository URI [1.3.6.1.4.1.57264.1.12]"] == "https://github.com/octo/app"
    assert rows["Run Invocation URI [1.3.6.1.4.1.57264.1.21]"] == "https://github.com/octo/app/actions/runs/1/attempts/1"


def test_uri_subject_is_certified_as_uri(instance: Instance) -> None:
    cert = _issue(instance, "https://ci.example.com/pipelines/7")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["https://ci.example.com/pipelines/7"]


def test_csr_is_accepted_as_proof_of_possession(instance: Instance) -> None:
    key = generate("ecdsa-p256", lab=instance.lab, label="csr")
    token = instance.issuer.mint("alice@example.com")
    csr = CertificateRequest.create_csr(key).csr
    assert csr is not None
    request = CertificateRequest.from_csr(csr.public_bytes(serialization.Encoding.PEM))
    issued = instance.ca.issue(token, request)
    assert issued.certificate.public_key().public_numbers() == key.key.public_key().public_numbers()  # type: ignore[union-attr]
    assert issued.report.verified and "csr.proof_of_possession" in [s.id for s in issued.report]


def _refusal(instance: Instance, token: str, request: CertificateRequest) -> str:
    report, _, _ = instance.ca.explain_request(token, request)
    assert not report.verified
    with pytest.raises(IssuanceRefused) as err:
        instance.ca.issue(token, request)
    assert report.failed_step is not None and err.value.step == report.failed_step.id
    return err.value.step


def test_proof_of_possession_by_another_key_is_refused(instance: Instance) -> None:
    token = instance.issuer.mint("alice@example.com")
    mine = generate("ecdsa-p256", lab=instance.lab, label="mine")
    theirs = generate("ecdsa-p256", lab=instance.lab, label="theirs")
    forged = CertificateRequest(theirs.public_key(), CertificateRequest.create(mine, token).proof)
    assert _refusal(instance, token, forged) == "csr.proof_of_possession"


def test_csr_with_broken_signature_is_refused(instance: Instance) -> None:
    key = generate("ecdsa-p256", lab=instance.lab, label="csr")
    der = bytearray(CertificateRequest.create_csr(key).csr.public_bytes(serialization.Encoding.DER))  # type: ignore[union-attr]
    der[-5] ^= 0x01  # inside the signature
    token = instance.issuer.mint("alice@example.com")
    assert _refusal(instance, token, CertificateRequest.from_csr(bytes(der))) == "csr.proof_of_possession"


@pytest.mark.parametrize(
    ("claims", "step"),
    [
        ({"sub": "alice@example.com", "email": "alice@example.com", "email_verified": False}, "identity.certifiable"),
        ({"sub": "just-a-username"}, "identity.certifiable"),
        ({"sub": "x", "email": "not-an-email", "email_verified": True}, "identity.certifiable"),
    ],
    ids=["unverified-email", "bare-username", "bad-email"],
)
def test_identities_the_ca_will_not_certify(instance: Instance, claims: dict[str, object], step: str) -> None:
    token = instance.issuer.mint(claims=claims)
    key = generate("ecdsa-p256", lab=instance.lab, label="eph")
    assert _refusal(instance, token, CertificateRequest.create(key, token)) == step


def test_expired_and_foreign_tokens_get_no_certificate(instance: Instance) -> None:
    key = generate("ecdsa-p256", lab=instance.lab, label="eph")
    old = instance.issuer.mint("alice@example.com", now=instance.clock.now() - dt.timedelta(hours=2))
    assert _refusal(instance, old, CertificateRequest.create(key, old)) == "token.time"
    other = Instance.create(instance.path.parent / "other", seed="someone else")
    forged = other.issuer.mint("alice@example.com")
    assert _refusal(instance, forged, CertificateRequest.create(key, forged)) == "token.signature"
    aud = instance.issuer.mint("alice@example.com", audience="not-sigstore")
    assert _refusal(instance, aud, CertificateRequest.create(key, aud)) == "token.audience"


def test_ed25519_ephemeral_key_is_refused(instance: Instance) -> None:
    key = generate("ed25519", lab=instance.lab, label="eph")
    token = instance.issuer.mint("alice@example.com")
    assert _refusal(instance, token, CertificateRequest.create(key, token)) == "key.algorithm"


def test_malformed_csr_is_a_keyless_error() -> None:
    from labkit.errors import KeylessError

    with pytest.raises(KeylessError):
        CertificateRequest.from_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")


def test_issuance_is_reproducible_in_lab_mode(tmp_path: Path) -> None:
    base = tmp_path
    a = Instance.create(base / "a", seed="same")
    b = Instance.create(base / "b", seed="same")
    assert _issue(a).public_bytes(serialization.Encoding.DER) == _issue(b).public_bytes(serialization.Encoding.DER)


def test_extension_encodings() -> None:
    assert der_utf8_string("a" * 200)[:3] == b"\x0c\x81\xc8"
    exts = dict(fulcio_extensions("https://i", {"job_workflow_ref": "o/r/.github/workflows/w.yml@refs/heads/main"}))
    assert exts["1.3.6.1.4.1.57264.1.9"] == der_utf8_string("https://github.com/o/r/.github/workflows/w.yml@refs/heads/main")
    assert "1.3.6.1.4.1.57264.1.21" not in exts  # run_id absent: extension omitted


def _cert_for(instance: Instance, identity: str) -> x509.Certificate:
    key = generate("ecdsa-p256")
    token = instance.issuer.mint(identity)
    return instance.ca.issue(token, CertificateRequest.create(key, token)).certificate


def test_serials_are_unique_per_ca_across_processes(tmp_path: Path) -> None:
    """Each `Instance.open` starts a fresh lab counter, as a new process does: serials must still differ."""
    from labkit.lab import Lab

    Instance.create(tmp_path / "i", seed="serials").close()
    with Instance.open(tmp_path / "i") as first_process:
        alice = _cert_for(first_process, "alice@example.com")
    with Instance.open(tmp_path / "i") as second_process:
        bob = _cert_for(second_process, "bob@example.com")
        bob2 = _cert_for(second_process, "bob@example.com")
    serials = {alice.serial_number, bob.serial_number, bob2.serial_number}
    assert len(serials) == 3
    for s in serials:  # RFC 5280 §4.1.2.2: positive, at most 20 octets
        assert 0 < s < 1 << (8 * 20 - 1)
    # still deterministic: the instance's n-th leaf has the seed's n-th serial
    lab = Lab(seed="serials")
    expected = [int.from_bytes(lab.derive(f"ca/leaf-serial#{n}", 16), "big") | (1 << 120) for n in range(3)]
    assert [alice.serial_number, bob.serial_number, bob2.serial_number] == expected
