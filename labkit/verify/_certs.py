"""Certificates: chain to a trusted CA at the signing time, the code-signing leaf profile, embedded SCTs.

* Chain building uses `cryptography`'s RFC 5280 path validation at the
  *verified* signing time (never the wall clock, never an unverified field):
  Fulcio leaves live ten minutes and are long expired when you verify.
  The CA part of the path is validated once per trusted root; per bundle the
  same path builder runs anchored at the issuing CA, and anything it does not
  accept goes through the full path (fenced fast path, ADR 0004).
* The leaf must be an end-entity code-signing certificate: not a CA, key
  usage digitalSignature, extended key usage id-kp-codeSigning (Fulcio
  certificate specification).
* Embedded SCTs (RFC 6962 §3.3, extension 1.3.6.1.4.1.11129.2.4.2) are
  verified against the CT logs in the trusted root: the log signs a
  ``digitally-signed`` struct over the precertificate TBS (the leaf TBS without
  the SCT list) and SHA-256 of the issuer's public key (RFC 6962 §3.2).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import struct
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
)
from cryptography.x509.verification import VerificationError as X509VerificationError

from labkit._internal import chain_fastpath
from labkit.errors import LabkitError, VerificationError
from labkit.verify.trustroot import CertificateAuthority, TrustedRoot, TrustRootError

__all__ = ["authority_chain", "build_chain"]


class CertificateCheckError(VerificationError):
    """A certificate check failed (chain, profile or SCT)."""


def load_certificate(der: bytes) -> x509.Certificate:
    """Parse a DER certificate, raising `CertificateCheckError` (reason ``material.certificate``)."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateCheckError(
            f"certificate does not parse: {exc}", step="material.signer", reason="material.certificate"
        ) from None


def not_before(cert: x509.Certificate) -> _dt.datetime:
    """The certificate's notBefore, timezone-aware UTC."""
    return cert.not_valid_before_utc


def not_after(cert: x509.Certificate) -> _dt.datetime:
    """The certificate's notAfter, timezone-aware UTC."""
    return cert.not_valid_after_utc


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E:
    """The value of `cert`'s extension of type `kind` (`x509.ExtensionNotFound` when absent).

    Looked up by the type's OID, which `cryptography` maps to exactly that type: the same answer as
    ``get_extension_for_class`` without an ABC ``isinstance`` test per extension.
    """
    oid = kind.oid
    value = cert.extensions.get_extension_for_oid(oid).value
    if not isinstance(value, kind):  # never for a known OID; kept so the answer is get_extension_for_class's
        raise x509.ExtensionNotFound(f"No {kind} extension was found", oid)
    return value


def _extension_values(cert: x509.Certificate) -> dict[x509.ObjectIdentifier, x509.ExtensionType]:
    """`cert`'s extension values by OID, the first of each OID kept (as ``get_extension_for_oid`` finds it)."""
    out: dict[x509.ObjectIdentifier, x509.ExtensionType] = {}
    for ext in cert.extensions:
        out.setdefault(ext.oid, ext.value)
    return out


def _value(found: dict[x509.ObjectIdentifier, x509.ExtensionType], kind: type[_E]) -> _E | None:
    """`_extension(cert, kind)` read from `_extension_values(cert)`: None where it raises ExtensionNotFound."""
    value = found.get(kind.oid)
    return value if isinstance(value, kind) else None


def _is_ca(cert: x509.Certificate) -> bool:
    """True if BasicConstraints says CA."""
    try:
        return bool(_extension(cert, x509.BasicConstraints).ca)
    except x509.ExtensionNotFound:
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    """True for a root-like certificate: issuer equals subject and it verifies its own signature."""
    # `verify_directly_issued_by` compares the issuer with the subject (as encoded) before the signature, so a
    # certificate whose names differ fails there, without building Python `Name` objects for the comparison.
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure means "not self-signed"
        return False
    return True


@functools.lru_cache(maxsize=1)
def _policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    ca = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    return ca, ee


@functools.lru_cache(maxsize=64)
def _store(chain_der: tuple[bytes, ...]) -> Store:
    return Store([x509.load_der_x509_certificate(d) for d in chain_der])


def _chain_error(what: str, ca: CertificateAuthority, problem: str) -> TrustRootError:
    name = ca.uri or ca.subject or "(unnamed)"
    return TrustRootError(
        f"the trusted root's {what} chain of {name} is invalid: {problem}",
        details={"expected": "each certificate signed by the next, the last one the trust anchor", "actual": problem},
    )


def _describe(cert: x509.Certificate, n: int) -> str:
    return f"certificate {n} ({cert.subject.rfc4514_string() or 'empty subject'})"


def _validate_authority_chain(ca: CertificateAuthority, has_leaf: bool, what: str) -> tuple[x509.Certificate, ...]:
    certs = tuple(ca.certificates())
    for n, cert in enumerate(certs):
        try:
            cert.public_key()
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise _chain_error(what, ca, f"{_describe(cert, n)} has a public key that does not parse ({exc})") from None
        # protobuf-specs CertificateAuthority: the chain is CA certificates up to the anchor; a timestamp
        # authority's chain starts with its (non-CA) TSA leaf. Anything else is a leaf where a CA belongs.
        if (n > 0 or not has_leaf) and not _is_ca(cert):
            raise _chain_error(
                what, ca, f"{_describe(cert, n)} is not a CA certificate (basicConstraints CA is not true)"
            )
    for n in range(len(certs) - 1):
        child, parent = certs[n], certs[n + 1]
        if child.issuer != parent.subject:
            raise _chain_error(what, ca, f"{_describe(child, n)} is not issued by {_describe(parent, n + 1)}")
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, UnsupportedAlgorithm, InvalidSignature) as exc:
            detail = str(exc) or type(exc).__name__
            raise _chain_error(
                what,
                ca,
                f"the signature of {_describe(child, n)} does not verify with {_describe(parent, n + 1)}'s key "
                f"({detail})",
            ) from None
    anchor = certs[-1]
    if anchor.issuer == anchor.subject:
        try:
            anchor.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, UnsupportedAlgorithm, InvalidSignature):
            raise _chain_error(
                what, ca, f"the self-signed anchor {_describe(anchor, len(certs) - 1)} does not verify"
            ) from None
    return certs


def authority_chain(root: TrustedRoot, ca: CertificateAuthority, *, tsa: bool = False) -> tuple[x509.Certificate, ...]:
    """The CA's validated chain from the trusted root: leaf-most first, the trust anchor LAST (protobuf-specs).

    Every link is verified up to the last certificate, every key parses, and every certificate is a
    CA (but a timestamp authority's first one, its TSA leaf). Checked once per trusted root object.
    Raises `TrustRootError` naming the broken link.
    """
    what = "timestamp authority" if tsa else "certificate authority"

    def build() -> tuple[x509.Certificate, ...] | TrustRootError:
        try:
            return _validate_authority_chain(ca, tsa, what)
        except TrustRootError as exc:
            return exc

    chains = root.derived.authority_chains
    result = chains.get((tsa, ca))
    if result is None:
        result = chains[(tsa, ca)] = build()
    if isinstance(result, TrustRootError):
        raise result
    return result


def check_authority_chains(root: TrustedRoot) -> None:
    """Validate every certificate and timestamp authority chain of `root` (`TrustRootError` on the first bad one)."""
    for ca in root.certificate_authorities:
        authority_chain(root, ca)
    for tsa in root.timestamp_authorities:
        authority_chain(root, tsa, tsa=True)


@dataclass(frozen=True)
class ChainResult:
    """A validated chain: leaf first, trust anchor last; `ca` names the trusted CA."""

    chain: tuple[x509.Certificate, ...]
    ca: str


def _chain_anchor(root: TrustedRoot, ca: CertificateAuthority, chain: tuple[x509.Certificate, ...],
                  ca_policy: ExtensionPolicy) -> chain_fastpath.ChainAnchor | None:
    """The CA's leaf-chain fast-path anchor, built once per trusted root (None: full path only).

    The first leaf of a root takes the full path and the anchor is built for the second: a root used once
    (one CLI verification) does not pay for the probe.
    """
    derived = root.derived
    anchors = derived.chain_anchors
    try:
        return anchors[ca]  # once built, one lookup (a CA's hash walks its fields)
    except KeyError:
        pass
    if ca not in derived.chain_used:
        derived.chain_used.add(ca)
        return None
    anchors[ca] = chain_fastpath.anchor_for(chain, ca_policy)
    return anchors[ca]


def build_chain(leaf: x509.Certificate, root: TrustedRoot, at: _dt.datetime) -> ChainResult:
    """Validate `leaf` up to a trusted CA whose window and certificates are valid at `at`.

    RFC 5280 §6 path validation; the CA's ``validFor`` (closed interval) must
    contain `at`. Raises `CertificateCheckError` (reason ``certificate.chain``).
    """
    errors: list[str] = []
    # Fulcio leaves carry code-signing, not client-auth: let the EKU be checked by
    # `check_leaf_profile` instead of the WebPKI default, keep every other default.
    ca_policy, ee_policy = _policies()
    for ca in root.certificate_authorities:
        if not ca.valid_for.contains(at):
            errors.append(f"{ca.uri or ca.subject}: not valid at {at.isoformat()} (validFor {ca.valid_for.describe()})")
            continue
        try:
            chain = authority_chain(root, ca)
        except LabkitError as exc:
            errors.append(exc.message)
            continue
        fast = chain_fastpath.leaf_chain(leaf, anchor, at, ca_policy, ee_policy) if (
            anchor := _chain_anchor(root, ca, chain, ca_policy)) else None
        if fast is not None:  # ADR 0004: below the once-validated issuing CA; None sends it down the full path
            return ChainResult(fast, ca.uri or ca.subject)
        try:
            # protobuf-specs CertificateAuthority.cert_chain: the LAST certificate is the trust anchor; the
            # others are intermediates the path must go through (as sigstore-go: roots = last, intermediates = rest).
            verifier = (
                PolicyBuilder()
                .store(_store(ca.chain_der[-1:]))
                .time(at)
                .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
                .build_client_verifier()
            )
            verified = verifier.verify(leaf, list(chain[:-1]))
        except (X509VerificationError, ValueError, TypeError) as exc:
            errors.append(f"{ca.uri or ca.subject}: {exc}")
            continue
        if len(verified.chain) < 2:
            # The leaf is itself the anchor: nothing issued it, and there is no issuer for its SCT.
            errors.append(f"{ca.uri or ca.subject}: the signing certificate is itself the trusted root's anchor")
            continue
        return ChainResult(tuple(verified.chain), ca.uri or ca.subject)
    if not root.certificate_authorities:
        errors.append("the trusted root lists no certificate authorities")
    raise CertificateCheckError(
        "the signing certificate does not chain to a trusted CA at the signing time",
        step="certificate.chain",
        reason="certificate.chain",
        details={"signing time": at.isoformat(), "tried": "; ".join(errors)},
    )


def check_leaf_profile(leaf: x509.Certificate) -> None:
    """Fulcio profile: not a CA, at most one SAN, digitalSignature key usage, code-signing EKU."""
    def fail(msg: str, **details: str) -> CertificateCheckError:
        return CertificateCheckError(msg, step="certificate.profile", reason="certificate.profile", details=details)

    # One pass over the extensions instead of a linear search (and an ExtensionNotFound) per type: each value is
    # the one `_extension` returns, None where it raises ExtensionNotFound.
    found = _extension_values(leaf)
    basic = _value(found, x509.BasicConstraints)
    if basic is not None and bool(basic.ca):
        raise fail("the signing certificate is a CA certificate")
    san = _value(found, x509.SubjectAlternativeName)
    sans = [] if san is None else list(san)  # no SAN at all: the identity policy reports it
    if len(sans) > 1:
        # Fulcio certificate profile: the SAN extension carries exactly one name, the signer's identity.
        raise fail(
            f"the signing certificate carries {len(sans)} subject alternative names; the Fulcio profile allows one",
            expected="exactly 1 SAN", actual=", ".join(str(getattr(n, "value", n)) for n in sans),
        )
    ku = _value(found, x509.KeyUsage)
    if ku is None:
        raise fail("the signing certificate has no key usage extension")
    if not ku.digital_signature:
        raise fail("the signing certificate's key usage lacks digitalSignature")
    eku = _value(found, x509.ExtendedKeyUsage)
    if eku is None:
        raise fail("the signing certificate has no extended key usage extension")
    if x509.oid.ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise fail("the signing certificate's extended key usage lacks id-kp-codeSigning")


@functools.lru_cache(maxsize=64)
def _issuer_key_hash(issuer_der: bytes) -> bytes:
    """SHA-256 of the issuer's DER SubjectPublicKeyInfo (RFC 6962 §3.2 issuer_key_hash)."""
    issuer = x509.load_der_x509_certificate(issuer_der)
    return hashlib.sha256(
        issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).digest()


def precert_signed_data(
    leaf: x509.Certificate, issuer: x509.Certificate, timestamp_ms: int, extensions: bytes,
    *, issuer_key_hash: bytes | None = None,
) -> bytes:
    """The RFC 6962 §3.2 ``digitally-signed`` struct a CT log signs for a precertificate SCT."""
    if issuer_key_hash is None:
        issuer_key_hash = _issuer_key_hash(issuer.public_bytes(serialization.Encoding.DER))
    tbs = leaf.tbs_precertificate_bytes
    return (
        struct.pack(">BBQH", 0, 0, timestamp_ms, 1)  # v1, certificate_timestamp, timestamp, precert_entry
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big")
        + tbs
        + len(extensions).to_bytes(2, "big")
        + extensions
    )


def _ca_certificates(root: TrustedRoot) -> frozenset[x509.Certificate]:
    out: set[x509.Certificate] = set()
    for ca in root.certificate_authorities:
        try:
            out.update(ca.certificates())
        except LabkitError:
            continue
    return frozenset(out)


def verify_scts(leaf: x509.Certificate, issuer: x509.Certificate, root: TrustedRoot) -> str:
    """Verify the leaf's embedded SCTs; at least one must verify with a trusted CT log key.

    Returns a short description of the SCT that verified. Raises
    `CertificateCheckError` (reason ``certificate.sct``).
    """
    def fail(msg: str, **details: str) -> CertificateCheckError:
        return CertificateCheckError(msg, step="certificate.sct", reason="certificate.sct", details=details)

    try:
        scts = list(_extension(leaf, x509.PrecertificateSignedCertificateTimestamps))
    except x509.ExtensionNotFound:
        raise fail("the signing certificate has no embedded SCT") from None
    except ValueError as exc:
        raise fail(f"the SCT list does not parse: {exc}") from None
    problems: list[str] = []
    epoch = _dt.datetime(1970, 1, 1)
    # The issuer is normally a CA certificate of the trusted root (the validated chain's anchor): its key
    # hash is then trust material, computed once per root. Any other issuer is hashed on every call.
    derived = root.derived
    if derived.ca_certificates is None:
        derived.ca_certificates = _ca_certificates(root)
    # Only this root's CA certificates are ever stored, so a stored hash answers without the membership test.
    issuer_key_hash = derived.sct_issuer_key_hashes.get(issuer)
    if issuer_key_hash is None and issuer in derived.ca_certificates:
        issuer_key_hash = derived.sct_issuer_key_hashes.setdefault(
            issuer, _issuer_key_hash(issuer.public_bytes(serialization.Encoding.DER))
        )
    elif issuer_key_hash is None:
        issuer_key_hash = _issuer_key_hash(issuer.public_bytes(serialization.Encoding.DER))
    for sct in scts:
        log = root.ctlog(sct.log_id)
        if log is None:
            problems.append(f"SCT from unknown CT log {sct.log_id.hex()[:16]}…")
            continue
        ts = sct.timestamp.replace(tzinfo=None)
        ms = (ts - epoch) // _dt.timedelta(milliseconds=1)
        when = ts.replace(tzinfo=_dt.timezone.utc)
        if not log.valid_for.contains(when):
            problems.append(f"CT log {log.base_url} key not valid at SCT time {when.isoformat()}")
            continue
        try:
            key = log.verifying_key()
            key.verify(
                sct.signature,
                precert_signed_data(leaf, issuer, ms, sct.extension_bytes, issuer_key_hash=issuer_key_hash),
            )
        except LabkitError as exc:
            problems.append(f"SCT from {log.base_url}: {exc.message}")
            continue
        return f"SCT from {log.base_url} at {when.isoformat()}"
    raise fail(
        "no embedded SCT verifies with a trusted CT log",
        problems="; ".join(problems) or "no SCTs",
    )
