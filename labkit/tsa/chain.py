"""A timestamp authority's keys and certificates, and its entry in a Sigstore trusted root.

`create_tsa` makes a self-signed TSA root and a TSA leaf it signs. The leaf
carries what RFC 3161 §2.3 demands of a TSA certificate, the critical extended
key usage id-kp-timeStamping and nothing else, plus key usage
digitalSignature. With a `Lab` the keys and serial numbers come from the seed
and the validity starts at the lab clock (the same bytes every run); without
one they are random and the window starts now.

`tsa_entry` describes the TSA for a trusted root's ``timestampAuthorities``
(protobuf-specs ``CertificateAuthority``: subject, uri, certChain leaf first,
validFor), as `labkit.keyless.trustroot.trusted_root` writes it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit.errors import KeylessError
from labkit.keyless.trustroot import CAEntry
from labkit.keys import KeyAlgorithm, SigningKey, generate
from labkit.lab import Entropy, Lab, SystemClock, SystemEntropy, utc

__all__ = ["DEFAULT_TSA_URL", "TSAMaterial", "create_tsa", "tsa_entry"]

#: Where the lab instance's TSA claims to live (``.invalid`` never resolves, RFC 6761 §6.4).
DEFAULT_TSA_URL = "https://tsa.labkit.invalid/api/v1/timestamp"
#: The label a lab TSA's signing key is derived under (`labkit.keys.generate`).
LEAF_KEY_LABEL = "tsa/leaf"


class TSAError(KeylessError):
    """A timestamp authority's key or certificate chain is unusable."""

    hint = "A TSA needs an ECDSA P-256/P-384 key whose certificate has the critical id-kp-timeStamping EKU."


@dataclass(frozen=True)
class TSAMaterial:
    """A TSA's signing key and chain [leaf, root].

    `root_key` signs nothing but the leaf and need not be kept (`load_tsa` gives None).
    """

    signing_key: SigningKey
    chain: tuple[x509.Certificate, ...]
    root_key: SigningKey | None = None

    @property
    def lab(self) -> bool:
        """True when the keys come from a lab seed."""
        return self.signing_key.lab

    def chain_pem(self) -> bytes:
        """The chain, leaf first, as concatenated PEM (what ``/api/v1/timestamp/certchain`` serves)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if not isinstance(key.key, ec.EllipticCurvePrivateKey):
        raise TSAError("TSA keys must be ECDSA P-256 or P-384")
    alg = hashes.SHA384() if key.algorithm is KeyAlgorithm.ECDSA_P384 else hashes.SHA256()
    return builder.sign(key.key, alg, ecdsa_deterministic=key.deterministic)


def _serial(entropy: Entropy, label: str) -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets.
    return int.from_bytes(entropy.random_bytes(label, 16), "big") | (1 << 120)


def create_tsa(
    *,
    lab: Lab | None = None,
    now: _dt.datetime | None = None,
    algorithm: str | KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
    organization: str = "labkit",
    years: int = 10,
) -> TSAMaterial:
    """A TSA root and leaf valid for `years` from `now` (default: the lab clock, else the real clock)."""
    alg = KeyAlgorithm.parse(algorithm)
    if alg not in (KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384):
        raise TSAError(f"TSA keys must be ECDSA P-256 or P-384, not {alg.value}")
    entropy: Entropy = lab.entropy if lab is not None else SystemEntropy()
    start = utc(now) if now is not None else (lab.clock.now() if lab is not None else SystemClock().now())
    end = start + _dt.timedelta(days=365 * years)
    root_key = generate(alg, lab=lab, label="tsa/root")
    leaf_key = generate(alg, lab=lab, label=LEAF_KEY_LABEL)
    root_name = _name(organization, f"{organization} timestamp root")
    root_pub = root_key.public_key().key
    root = _sign(
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_pub).serial_number(_serial(entropy, "tsa/root-serial"))
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_pub), critical=False),
        root_key,
    )
    leaf_pub = leaf_key.public_key().key
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    leaf = _sign(
        x509.CertificateBuilder().subject_name(_name(organization, f"{organization} timestamp authority"))
        .issuer_name(root_name).public_key(leaf_pub).serial_number(_serial(entropy, "tsa/leaf-serial"))
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        # RFC 3161 §2.3: the only EKU, and critical.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False),
        root_key,
    )
    return TSAMaterial(leaf_key, (leaf, root), root_key)


def check_tsa_chain(signing_key: SigningKey, chain: Sequence[x509.Certificate]) -> None:
    """Raise `TSAError` unless `chain` (leaf first) suits `signing_key` as an RFC 3161 TSA."""
    if not chain:
        raise TSAError("a TSA needs its certificate chain, leaf first")
    if signing_key.algorithm not in (KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384):
        raise TSAError(f"TSA keys must be ECDSA P-256 or P-384, not {signing_key.algorithm.value}")
    leaf = chain[0]
    leaf_spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if leaf_spki != signing_key.public_key().der():
        raise TSAError("the TSA certificate does not certify the TSA signing key")
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise TSAError(
            "the TSA certificate has no extended key usage; it needs id-kp-timeStamping (RFC 3161 §2.3)"
        ) from None
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise TSAError("the TSA certificate's EKU must be exactly id-kp-timeStamping, marked critical (RFC 3161 §2.3)")


def tsa_entry(
    chain: Sequence[x509.Certificate],
    *,
    uri: str = DEFAULT_TSA_URL,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    organization: str = "labkit",
    common_name: str = "labkit timestamp authority",
) -> CAEntry:
    """The TSA as a trusted-root ``CertificateAuthority`` (leaf first); the window defaults to the leaf's validity.

    ``tsa_entry(chain).to_dict()`` is the JSON object; pass the `CAEntry` to
    ``trusted_root(timestamp_authorities=[...])`` to write a whole root.
    """
    if not chain:
        raise TSAError("a TSA entry needs the TSA's certificate chain")
    leaf = chain[0]
    return CAEntry(
        uri=uri,
        chain=tuple(chain),
        start=start or leaf.not_valid_before_utc,
        end=end or leaf.not_valid_after_utc,
        organization=organization,
        common_name=common_name,
    )


def tsa_entry_json(
    chain: Sequence[x509.Certificate],
    *,
    uri: str = DEFAULT_TSA_URL,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
) -> dict[str, Any]:
    """`tsa_entry(...).to_dict()`: the ``timestampAuthorities`` item as JSON-ready data."""
    return tsa_entry(chain, uri=uri, start=start, end=end).to_dict()
