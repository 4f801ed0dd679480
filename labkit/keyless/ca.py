"""A certificate authority in the Fulcio mould.

It checks an identity token (signature against the issuer's JWKS, issuer,
audience, expiry) and a proof of possession of the ephemeral key, then
issues a 10-minute code-signing certificate: empty subject, the identity in
a critical SubjectAlternativeName (email or URI), the Fulcio OIDC issuer
extensions and, for CI tokens, the GitHub workflow extensions. The chain is
leaf → intermediate → root; with a `CTLog` the leaf embeds one SCT.

Extension encodings follow Fulcio's ``docs/oid-info.md``: 1.3.6.1.4.1.57264.1.1
through .1.6 hold the raw string bytes, .1.8 onwards a DER UTF8String.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit.checks import Recorder
from labkit.errors import KeylessError, VerificationError
from labkit.keyless.checks import ISSUANCE_STEPS, IssuanceCheck
from labkit.keyless.ctlog import SCT_LIST_OID, CTLog, encode_sct_list_extension
from labkit.keyless.identity import email_problem, uri_problem
from labkit.keyless.oidc import DEFAULT_AUDIENCE, IdentityToken, decode_unverified, explain_token
from labkit.keys import SigningKey, VerifyingKey
from labkit.lab import Clock, Entropy, SystemClock, SystemEntropy

__all__ = ["CertificateRequest", "certificate_fields"]

#: Fulcio issues certificates valid for ten minutes.
_CERT_LIFETIME = _dt.timedelta(minutes=10)
#: OIDC issuer, raw string (deprecated but still written by Fulcio).
OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
#: OIDC issuer, DER UTF8String.
OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_GITHUB = "https://github.com"

#: (OID suffix, label, claim→value, DER-encoded?) for tokens carrying GitHub workflow claims.
_GITHUB_EXTENSIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("2", "GitHub Workflow Trigger", "{event_name}", False),
    ("3", "GitHub Workflow SHA", "{sha}", False),
    ("4", "GitHub Workflow Name", "{workflow}", False),
    ("5", "GitHub Workflow Repository", "{repository}", False),
    ("6", "GitHub Workflow Ref", "{ref}", False),
    ("9", "Build Signer URI", _GITHUB + "/{job_workflow_ref}", True),
    ("10", "Build Signer Digest", "{job_workflow_sha}", True),
    ("11", "Runner Environment", "{runner_environment}", True),
    ("12", "Source Repository URI", _GITHUB + "/{repository}", True),
    ("13", "Source Repository Digest", "{sha}", True),
    ("14", "Source Repository Ref", "{ref}", True),
    ("15", "Source Repository Identifier", "{repository_id}", True),
    ("16", "Source Repository Owner URI", _GITHUB + "/{repository_owner}", True),
    ("17", "Source Repository Owner Identifier", "{repository_owner_id}", True),
    ("18", "Build Config URI", _GITHUB + "/{workflow_ref}", True),
    ("19", "Build Config Digest", "{workflow_sha}", True),
    ("20", "Build Trigger", "{event_name}", True),
    ("21", "Run Invocation URI", _GITHUB + "/{repository}/actions/runs/{run_id}/attempts/{run_attempt}", True),
    ("22", "Source Repository Visibility At Signing", "{repository_visibility}", True),
)
_OID_LABELS = {f"1.3.6.1.4.1.57264.1.{s}": label for s, label, _, _ in _GITHUB_EXTENSIONS}
_OID_LABELS.update({OID_ISSUER_V1: "Issuer (V1)", OID_ISSUER_V2: "Issuer (V2)", SCT_LIST_OID: "Embedded SCTs"})


def der_utf8_string(value: str) -> bytes:
    """DER UTF8String (X.690 §8.23): tag 0x0C, length, UTF-8 bytes."""
    raw = value.encode()
    n = len(raw)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return b"\x0c" + length + raw


def _decode_der_utf8(value: bytes) -> str:
    if len(value) >= 2 and value[0] == 0x0C:
        n = value[1]
        start = 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(value[2 : 2 + k], "big")
            start = 2 + k
        return value[start : start + n].decode(errors="replace")
    return value.decode(errors="replace")


def fulcio_extensions(issuer: str, claims: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """The Fulcio OIDC extensions for a token: (OID, extnValue bytes), in OID order."""
    out = [(OID_ISSUER_V1, issuer.encode()), (OID_ISSUER_V2, der_utf8_string(issuer))]
    if "job_workflow_ref" in claims:
        values = {k: str(v) for k, v in claims.items()}
        for suffix, _, template, der in _GITHUB_EXTENSIONS:
            try:
                value = template.format(**values)
            except KeyError:
                continue  # claim absent: Fulcio omits the extension
            out.append((f"1.3.6.1.4.1.57264.1.{suffix}", der_utf8_string(value) if der else value.encode()))
    return out


@dataclass(frozen=True)
class CertificateRequest:
    """An ephemeral public key plus proof that the requester holds its private key.

    The proof is either a signature over the token's subject (the email for
    email tokens, as Fulcio's ``signedEmailAddress``) or a PKCS#10 CSR.
    """

    public_key: VerifyingKey
    proof: bytes = b""
    csr: x509.CertificateSigningRequest | None = None

    @classmethod
    def create(cls, key: SigningKey, token: str) -> CertificateRequest:
        """Sign the token's subject with the ephemeral `key` (Fulcio's challenge)."""
        return cls(key.public_key(), key.sign(_challenge(decode_unverified(token).claims).encode()))

    @classmethod
    def from_csr(cls, data: bytes) -> CertificateRequest:
        """Parse a PEM or DER CSR; its self-signature is the proof of possession."""
        try:
            csr = (
                x509.load_pem_x509_csr(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_csr(data)
            )
            pub = csr.public_key()
        except ValueError as exc:
            raise KeylessError(f"not a certificate signing request: {exc}") from None
        if not isinstance(pub, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
            raise KeylessError("the CSR key must be ECDSA or RSA")
        return cls(VerifyingKey.from_key(pub), csr=csr)

    @classmethod
    def create_csr(cls, key: SigningKey) -> CertificateRequest:
        """Build a CSR signed by `key` (deterministic for lab keys)."""
        if not isinstance(key.key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise KeylessError("a CSR key must be ECDSA or RSA")
        builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
        if isinstance(key.key, ec.EllipticCurvePrivateKey):
            csr = builder.sign(key.key, hashes.SHA256(), ecdsa_deterministic=key.deterministic)
        else:
            csr = builder.sign(key.key, hashes.SHA256())
        return cls(key.public_key(), csr=csr)


def _challenge(claims: Mapping[str, Any]) -> str:
    """What the proof of possession signs: the email if the token has one, else ``sub``."""
    return str(claims.get("email") or claims.get("sub") or "")


@dataclass(frozen=True)
class IssuedCertificate:
    """A leaf certificate with its chain (intermediate, root) and the report of the checks made."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    report: IssuanceCheck = field(compare=False)

    def der(self) -> bytes:
        """The leaf as DER."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def pem(self) -> bytes:
        """The leaf as PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        """Intermediate then root, as concatenated PEM (cosign's ``--certificate-chain``)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)


def _ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if isinstance(key.key, ec.EllipticCurvePrivateKey):
        alg = hashes.SHA384() if key.algorithm.hash_name == "sha384" else hashes.SHA256()
        return builder.sign(key.key, alg, ecdsa_deterministic=key.deterministic)
    if isinstance(key.key, rsa.RSAPrivateKey):
        return builder.sign(key.key, hashes.SHA256())
    raise KeylessError("CA keys must be ECDSA or RSA (X.509 path validation rejects Ed25519 issuers)")


def _serial(entropy: Entropy, label: str) -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets.
    return int.from_bytes(entropy.random_bytes(label, 16), "big") | (1 << 120)


class CertificateAuthority:
    """Issues Fulcio-style code-signing certificates for tokens from one trusted issuer."""

    def __init__(
        self,
        *,
        root_cert: x509.Certificate,
        intermediate_key: SigningKey,
        intermediate_cert: x509.Certificate,
        issuer_url: str,
        jwks: Mapping[str, Any],
        clock: Clock | None = None,
        entropy: Entropy | None = None,
        ctlog: CTLog | None = None,
        audience: str = DEFAULT_AUDIENCE,
        lifetime: _dt.timedelta = _CERT_LIFETIME,
        serial_counter: Callable[[], int] | None = None,
    ) -> None:
        self.root_cert = root_cert
        self.intermediate_key = intermediate_key
        self.intermediate_cert = intermediate_cert
        self.issuer_url = issuer_url
        self.jwks = dict(jwks)
        self.clock: Clock = clock or SystemClock()
        self.entropy: Entropy = entropy or SystemEntropy()
        self.ctlog = ctlog
        self.audience = audience
        self.lifetime = lifetime
        #: Numbers this CA's leaves across processes (an instance persists it); None: count in this object.
        self.serial_counter = serial_counter

    @staticmethod
    def create_root_and_intermediate(
        root_key: SigningKey,
        intermediate_key: SigningKey,
        *,
        now: _dt.datetime,
        entropy: Entropy,
        organization: str = "labkit",
        years: int = 10,
    ) -> tuple[x509.Certificate, x509.Certificate]:
        """Build a self-signed root and an intermediate it signs (Fulcio's profile)."""
        end = now + _dt.timedelta(days=365 * years)
        root_name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} lab root"),
        ])
        root_pub = root_key.key.public_key()
        root_builder = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_pub)
            .serial_number(_serial(entropy, "ca/root-serial"))
            .not_valid_before(now)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ku(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_pub), critical=False)
        )
        root = _sign(root_builder, root_key)
        inter_name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} lab intermediate"),
        ])
        inter_pub = intermediate_key.key.public_key()
        inter_builder = (
            x509.CertificateBuilder()
            .subject_name(inter_name)
            .issuer_name(root_name)
            .public_key(inter_pub)
            .serial_number(_serial(entropy, "ca/intermediate-serial"))
            .not_valid_before(now)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ku(cert_sign=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(inter_pub), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(root)), critical=False)
        )
        return root, _sign(inter_builder, root_key)

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Intermediate, root."""
        return (self.intermediate_cert, self.root_cert)

    def explain_request(
        self, token: str, request: CertificateRequest, *, now: _dt.datetime | None = None
    ) -> tuple[IssuanceCheck, IdentityToken | None, x509.GeneralName | None]:
        """Every check the CA makes before issuing, in order; never raises on bad input."""
        when = now or self.clock.now()
        report, decoded = explain_token(token, self.jwks, issuer=self.issuer_url, audience=self.audience, now=when)
        report.subject = "certificate request"
        if decoded is None or not report.verified:
            return report, decoded, None
        run = Recorder(report, ISSUANCE_STEPS)
        pop_ok, pop_actual, pop_msg = self._check_possession(decoded, request)
        if not run.record("csr.proof_of_possession", pop_ok, pop_msg, expected="valid signature by the requested key",
                          actual=pop_actual):
            return report, decoded, None
        san, san_actual, san_msg = _identity_of(decoded.claims)
        run.record("identity.certifiable", san is not None, san_msg,
                   expected="verified email, CI workflow or URI subject", actual=san_actual)
        key_ok = isinstance(request.public_key.key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey))
        run.record("key.algorithm", key_ok, "" if key_ok else "the CA only certifies ECDSA and RSA keys",
                   expected="ecdsa-p256, ecdsa-p384 or rsa", actual=request.public_key.algorithm.value)
        return report, decoded, san if key_ok else None

    def _check_possession(self, token: IdentityToken, request: CertificateRequest) -> tuple[bool, str, str]:
        if request.csr is not None:
            try:
                ok = request.csr.is_signature_valid
            except (ValueError, TypeError):
                ok = False
            same = request.csr.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ) == request.public_key.der()
            ok = ok and same
            return (
                ok,
                "CSR self-signature " + ("valid" if ok else "invalid"),
                "" if ok else "the CSR's signature does not verify",
            )
        challenge = _challenge(token.claims)
        try:
            request.public_key.verify(request.proof, challenge.encode())
        except VerificationError:
            return (
                False,
                f"signature over {challenge!r} invalid",
                "proof of possession does not verify with the requested key",
            )
        return True, f"signature over {challenge!r} valid", ""

    def issue(self, token: str, request: CertificateRequest) -> IssuedCertificate:
        """Check the token and the proof of possession, then issue; raises `IssuanceRefused`."""
        now = self.clock.now()
        report, decoded, san = self.explain_request(token, request, now=now)
        report.raise_for_failure()
        assert decoded is not None and san is not None
        cert = self._build_leaf(request.public_key, san, decoded, now)
        return IssuedCertificate(cert, self.chain, report)

    def _leaf_serial(self) -> int:
        """RFC 5280 §4.1.2.2: unique per CA. Lab serials stay deterministic: the n-th leaf the CA ever issued
        (numbered by `serial_counter`, shared by every process of an instance) gets the seed's n-th serial."""
        if self.serial_counter is None:
            return _serial(self.entropy, "ca/leaf-serial")
        raw = self.entropy.numbered_bytes("ca/leaf-serial", self.serial_counter(), 16)
        return int.from_bytes(raw, "big") | (1 << 120)

    def _build_leaf(
        self, public_key: VerifyingKey, san: x509.GeneralName, token: IdentityToken, now: _dt.datetime
    ) -> x509.Certificate:
        pub = public_key.key
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_cert.subject)
            .public_key(pub)
            .serial_number(self._leaf_serial())
            .not_valid_before(now)
            .not_valid_after(now + self.lifetime)
            .add_extension(_ku(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(self.intermediate_cert)),
                critical=False,
            )
            # RFC 5280 §4.2.1.6: with an empty subject the SAN MUST be critical.
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
        )
        for oid, value in fulcio_extensions(token.issuer, token.claims):
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False
            )
        if self.ctlog is None:
            return _sign(builder, self.intermediate_key)
        # RFC 6962 §3.1: the SCT signs the TBSCertificate without the SCT list extension,
        # which is exactly the TBS of this certificate before we add it.
        precert = _sign(builder, self.intermediate_key)
        sct = self.ctlog.sign_precert(precert.tbs_certificate_bytes, self.intermediate_key.public_key().der(), now)
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(SCT_LIST_OID), encode_sct_list_extension([sct])),
            critical=False,
        )
        leaf = _sign(builder, self.intermediate_key)
        if leaf.tbs_precertificate_bytes != precert.tbs_certificate_bytes:  # pragma: no cover - invariant
            raise KeylessError("internal error: precertificate TBS does not match the issued certificate")
        return leaf


def _ku(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False,
    )


def _identity_of(claims: Mapping[str, Any]) -> tuple[x509.GeneralName | None, str, str]:
    """Fulcio's identity rules: which SAN a token earns, or why it earns none.

    The SAN grammar (e-mail addr-spec, URI) is `labkit.keyless.identity`'s.
    """
    if "job_workflow_ref" in claims:
        uri = f"{_GITHUB}/{claims['job_workflow_ref']}"
        problem = uri_problem(uri)
        if problem is not None:
            return None, f"CI workflow {uri!r}", f"the workflow identity is not a valid URI: {problem}"
        return x509.UniformResourceIdentifier(uri), f"CI workflow {uri}", ""
    email = claims.get("email")
    if email is not None:
        if claims.get("email_verified") is not True:
            return None, f"email {email!r} (email_verified={claims.get('email_verified')})", "the email is not verified"
        problem = email_problem(email)
        if problem is not None:
            return None, f"email {email!r}", f"the email claim is not an e-mail address: {problem}"
        return x509.RFC822Name(email), f"email {email}", ""
    sub = claims.get("sub", "")
    problem = uri_problem(sub)
    if problem is None:
        return x509.UniformResourceIdentifier(str(sub)), f"URI {sub}", ""
    return None, f"sub {sub!r}", "the subject is neither a verified email nor a URI"


def _ext_value(ext: x509.Extension[x509.ExtensionType]) -> str:
    value = ext.value
    oid = ext.oid.dotted_string
    if isinstance(value, x509.UnrecognizedExtension):
        raw = value.value
        if oid.startswith("1.3.6.1.4.1.57264.1."):
            suffix = int(oid.rsplit(".", 1)[1])
            return raw.decode(errors="replace") if suffix < 8 else _decode_der_utf8(raw)
        return raw.hex()
    if isinstance(value, x509.SubjectAlternativeName):
        return ", ".join(str(n.value) for n in value)
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(u._name for u in value)
    if isinstance(value, x509.KeyUsage):
        names = ["digital_signature", "key_cert_sign", "crl_sign"]
        return ", ".join(n for n in names if getattr(value, n))
    if isinstance(value, x509.BasicConstraints):
        return f"CA={value.ca}, pathlen={value.path_length}"
    if isinstance(value, (x509.SubjectKeyIdentifier,)):
        return value.digest.hex()
    if isinstance(value, x509.AuthorityKeyIdentifier):
        return (value.key_identifier or b"").hex()
    if isinstance(value, x509.PrecertificateSignedCertificateTimestamps):
        return "; ".join(f"log {s.log_id.hex()[:16]}… at {s.timestamp:%Y-%m-%dT%H:%M:%SZ}" for s in value)
    return str(value)


def certificate_fields(cert: x509.Certificate) -> list[tuple[str, str]]:
    """The certificate as (field, value) rows, for a table: validity, subject, SAN, every extension."""
    rows = [
        ("serial", format(cert.serial_number, "x")),
        ("subject", cert.subject.rfc4514_string() or "(empty)"),
        ("issuer", cert.issuer.rfc4514_string()),
        ("not before", cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("not after", cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("public key", VerifyingKey.from_key(cert.public_key()).algorithm.value),  # type: ignore[arg-type]
    ]
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        name = _OID_LABELS.get(oid) or getattr(ext.oid, "_name", oid)
        crit = " (critical)" if ext.critical else ""
        rows.append((f"{name} [{oid}]{crit}", _ext_value(ext)))
    return rows
