"""RFC 3161 signed timestamps from trusted timestamp authorities.

A bundle's ``rfc3161Timestamps`` are TimeStampResp/TimeStampToken DER blobs
over the *signature* bytes (protobuf-specs ``TimestampVerificationData``).
A timestamp counts as a verified time only when:

1. it decodes and its status is granted (RFC 3161 §2.4.2);
2. its message imprint is the hash of the bundle's signature;
3. its signer is a TSA from the trusted root (matched by issuer and serial);
4. genTime lies in that TSA's ``validFor`` (closed interval) and in every
   certificate of its chain (the chain may have expired since);
5. the CMS signature verifies along that chain (via ``rfc3161-client``).

The TSA's chain comes from the trusted root only, so it is validated once per
`TrustedRoot` object (signatures up to the root, CA constraints, the leaf's
critical id-kp-timeStamping EKU) and cached on it. Per timestamp, the CMS
signature is then checked with the TSA leaf's key (RFC 5652 §5.4: the
message-digest and content-type signed attributes, the signature over their
DER SET). Anything unusual (no signed attributes, a key or algorithm outside
the fast path, embedded certificates that are not the trusted chain) goes
through ``rfc3161-client``'s full verification instead, so every rejection
is the same as before.
"""

from __future__ import annotations

import datetime as _dt
import functools
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

from labkit._internal.cms_fastpath import (
    HASH_ALGORITHMS,
    TsaAnchor,
    algorithm_oid,
    cms_signature_ok,
    der_children,
    der_item,
    tbs_serial_and_issuer,
)
from labkit.errors import LabkitError, VerificationError
from labkit.verify._certs import authority_chain
from labkit.verify.trustroot import CertificateAuthority, TrustedRoot

if TYPE_CHECKING:
    import rfc3161_client

__all__ = ["MAX_TIMESTAMPS", "describe_timestamp", "verify_timestamp"]

#: More timestamps than this is refused (sigstore-go uses the same bound against DoS).
MAX_TIMESTAMPS = 32



class TimestampError(VerificationError):
    """An RFC 3161 timestamp does not verify."""


@dataclass(frozen=True)
class VerifiedTimestamp:
    """A verified time and the authority that vouched for it."""

    time: _dt.datetime
    authority: str


def _fail(message: str, reason: str,
          **details: object) -> TimestampError:  # Any: forwards LabkitError.details, values shown with str()
    return TimestampError(message, step="timestamp.rfc3161", reason=reason, details=details)


@functools.lru_cache(maxsize=1)
def _tsa_policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    """WebPKI CA/leaf profiles with the EKU left to RFC 3161's own rule and no SAN required (TSA leaves have none)."""
    ca = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    ee = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    )
    return ca, ee


def _tsa_anchor(ca: CertificateAuthority) -> TsaAnchor | None:
    """Validate the TSA's own chain (trust material only); None sends its timestamps the slow way.

    Checks what does not depend on a timestamp: each certificate is signed by the next up to
    the root, CA constraints (RFC 5280 §6 via `cryptography`), and the leaf's critical
    id-kp-timeStamping EKU (RFC 3161 §2.3). Validity at genTime is checked per timestamp.
    """
    try:
        certs = ca.certificates()
        if len(certs) < 2 or certs[-1].issuer != certs[-1].subject:
            return None
        eku = certs[0].extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        if not eku.critical or x509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
            return None
        start = max(c.not_valid_before_utc for c in certs)
        if start > min(c.not_valid_after_utc for c in certs):
            return None
        ca_policy, ee = _tsa_policies()
        verifier = (
            PolicyBuilder().store(Store([certs[-1]])).time(start)
            .extension_policies(ca_policy=ca_policy, ee_policy=ee).build_client_verifier()
        )
        verifier.verify(certs[0], list(certs[1:-1]))
        key = certs[0].public_key()
    except Exception:  # noqa: BLE001 - anything unusual: the full (slow) verification decides
        return None
    # ECDSA and RSA PKCS#1 v1.5 only: what OpenSSL's PKCS7_signatureVerify checks as hash-then-verify.
    # Anything else (Ed25519, RSA-PSS, ...) keeps the full rfc3161-client verification and its verdict.
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        return None
    leaf_der = ca.chain_der[0]
    try:
        serial, issuer = tbs_serial_and_issuer(leaf_der)
    except (ValueError, IndexError):
        return None
    return TsaAnchor(frozenset(ca.chain_der), leaf_der, issuer + serial, certs[0].serial_number, key)


def _matches_signer(ca: CertificateAuthority, issuer: x509.Name, serial: int) -> bool:
    try:
        leaf = ca.certificates()[0]
    except LabkitError:
        return False
    return leaf.issuer == issuer and leaf.serial_number == serial


#: RFC 5652 SignerInfo algorithms a TSA may use (RFC 5754, RFC 5758, RFC 8419).
_DIGEST_OIDS = {"2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"}
_SIGNATURE_OIDS = {
    "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",  # ecdsa-with-SHA256/384/512
    "1.2.840.10045.2.1",  # id-ecPublicKey (seen in the wild)
    "1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
    "1.2.840.113549.1.1.10",  # RSA PKCS#1 v1.5 and PSS
    "1.3.101.112",  # Ed25519
}


def _signer_algorithms(data: bytes) -> tuple[str, str]:
    """(digestAlgorithm, signatureAlgorithm) OIDs of the token's single SignerInfo (RFC 5652 §5.3).

    The signature does not cover these identifiers, so they are checked here:
    an unknown algorithm identifier is refused rather than ignored.
    """
    _, body, blen = der_item(data, 0)  # TimeStampResp
    items = der_children(data, body, body + blen)
    _, ci_start, ci_len = items[1]  # ContentInfo
    ci = der_children(data, ci_start, ci_start + ci_len)
    _, explicit_start, explicit_len = ci[1]  # [0] EXPLICIT
    _, sd_start, sd_len = der_item(data, explicit_start)  # SignedData
    sd = der_children(data, sd_start, sd_start + sd_len)
    signer_infos = sd[-1]
    if signer_infos[0] != 0x31:
        raise ValueError("signerInfos is not a SET")
    infos = der_children(data, signer_infos[1], signer_infos[1] + signer_infos[2])
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} SignerInfos")
    fields = der_children(data, infos[0][1], infos[0][1] + infos[0][2])
    digest_alg = algorithm_oid(data, fields[2])
    rest = fields[3:]
    if rest and rest[0][0] == 0xA0:  # signedAttrs
        rest = rest[1:]
    return digest_alg, algorithm_oid(data, rest[0])


def _untrusted_embedded_signer(data: bytes, root: TrustedRoot) -> str:
    """For a response the strict decoder refuses: name its embedded signer if no trusted TSA issued it."""
    try:
        _, body, _ = der_item(data, 0)  # TimeStampResp SEQUENCE
        _, status_start, status_len = der_item(data, body)  # PKIStatusInfo
        token_pos = status_start + status_len
        _, token_start, token_len = der_item(data, token_pos)  # TimeStampToken (ContentInfo)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            certs = pkcs7.load_der_pkcs7_certificates(data[token_pos : token_start + token_len])
    except (ValueError, IndexError, UnsupportedAlgorithm):
        return ""
    if not certs:
        return ""
    trusted: set[bytes] = set()
    for ca in root.timestamp_authorities:
        try:
            trusted.update(c.public_bytes(serialization.Encoding.DER) for c in ca.certificates())
        except LabkitError:
            continue
    if any(c.public_bytes(serialization.Encoding.DER) in trusted for c in certs):
        return ""
    return certs[0].subject.rfc4514_string()


def _rfc3161() -> ModuleType:
    """`rfc3161_client`, imported on first use: it costs ~70 ms and only bundles with timestamps need it."""
    import rfc3161_client

    return rfc3161_client


@dataclass(frozen=True)
class _Token:
    """What a decoded response says: its time, message imprint and signers."""

    response: rfc3161_client.TimeStampResponse
    gen_time: _dt.datetime
    imprint_alg: str
    imprint: bytes
    signers: tuple[rfc3161_client.SignerInfo, ...]


def verify_timestamp(data: bytes, signature: bytes, root: TrustedRoot) -> VerifiedTimestamp:
    """Verify one RFC 3161 timestamp over `signature`; raises `TimestampError` with a reason code.

    Reasons: ``timestamp.malformed``, ``timestamp.imprint_mismatch``,
    ``timestamp.untrusted``, ``timestamp.tsa_validity``,
    ``timestamp.tsa_cert_validity``, ``timestamp.signature``.
    """
    token = _decode(data, root)
    hasher = HASH_ALGORITHMS.get(token.imprint_alg)
    if hasher is None:
        raise _fail(f"unsupported message imprint hash {token.imprint_alg}", "timestamp.malformed")
    expected = hasher(signature).digest()
    if token.imprint != expected:
        raise _fail(
            "the timestamp is over something other than this bundle's signature",
            "timestamp.imprint_mismatch",
            expected=expected.hex(),
            actual=token.imprint.hex(),
        )
    if len(token.signers) != 1:
        raise _fail(f"the timestamp has {len(token.signers)} signers; exactly one is expected", "timestamp.malformed")
    try:
        signer_issuer, signer_serial = token.signers[0].issuer, token.signers[0].serial_number
    except Exception as exc:  # noqa: BLE001 - the issuer Name is decoded lazily; a malformed one raises several types
        raise _fail(f"the timestamp's signer identifier is malformed: {exc}", "timestamp.malformed") from None
    candidates = [ca for ca in root.timestamp_authorities if _matches_signer(ca, signer_issuer, signer_serial)]
    if not candidates:
        raise _fail(
            "the timestamp was not signed by a timestamp authority in the trusted root",
            "timestamp.untrusted",
            signer=f"{signer_issuer.rfc4514_string()} serial {signer_serial}",
        )
    last: TimestampError | None = None
    for ca in candidates:
        last = _verify_with(ca, data, token, signature, root)
        if last is None:
            return VerifiedTimestamp(token.gen_time, ca.uri or ca.subject)
    assert last is not None
    raise last


def _decode(data: bytes, root: TrustedRoot) -> _Token:
    """Decode the response (`rfc3161-client`); refuse a bad status and unknown signer algorithms."""
    try:
        tsr = _rfc3161().decode_timestamp_response(data)
        status = tsr.status
        info = tsr.tst_info
        gen_time = info.gen_time
        imprint_alg = info.message_imprint.hash_algorithm.dotted_string
        imprint = info.message_imprint.message
        signers = tuple(tsr.signed_data.signer_infos)
    except Exception as exc:  # noqa: BLE001 - the Rust decoder raises several types
        untrusted = _untrusted_embedded_signer(data, root)
        if untrusted:
            raise _fail(
                f"the timestamp was signed by {untrusted}, which is not in the trusted root (and is not valid DER)",
                "timestamp.untrusted",
                signer=untrusted,
            ) from None
        raise _fail(f"the timestamp does not decode as an RFC 3161 response: {exc}", "timestamp.malformed") from None
    if status != 0:
        raise _fail(f"the timestamp response status is {status}, not granted", "timestamp.malformed")
    try:
        digest_alg, sig_alg = _signer_algorithms(data)
    except (ValueError, IndexError):
        raise _fail("the timestamp's SignerInfo does not parse", "timestamp.malformed") from None
    if digest_alg not in _DIGEST_OIDS or sig_alg not in _SIGNATURE_OIDS:
        raise _fail(
            f"the timestamp's signer uses an unknown algorithm (digest {digest_alg}, signature {sig_alg})",
            "timestamp.malformed",
        )
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=_dt.timezone.utc)
    return _Token(tsr, gen_time, imprint_alg, imprint, signers)


def _verify_with(
    ca: CertificateAuthority, data: bytes, token: _Token, signature: bytes, root: TrustedRoot
) -> TimestampError | None:
    """None when `ca` vouches for the token at its time; else the failure (the caller tries the next CA)."""
    gen_time, name = token.gen_time, ca.uri or ca.subject
    if not ca.valid_for.contains(gen_time):
        return _fail(
            f"timestamp time {gen_time.isoformat()} is outside the trusted root's window for {name}",
            "timestamp.tsa_validity",
            expected=ca.valid_for.describe(),
            actual=gen_time.isoformat(),
        )
    try:
        # protobuf-specs: the chain's LAST certificate is the anchor; every link up to it must verify.
        certs = list(authority_chain(root, ca, tsa=True))
    except LabkitError as exc:
        return _fail(exc.message, "timestamp.untrusted", **exc.details)
    expired = [c for c in certs if not (c.not_valid_before_utc <= gen_time <= c.not_valid_after_utc)]
    if expired:
        c = expired[0]
        return _fail(
            f"timestamp time {gen_time.isoformat()} is outside the validity of TSA certificate "
            f"{c.subject.rfc4514_string()}",
            "timestamp.tsa_cert_validity",
            expected=f"[{c.not_valid_before_utc.isoformat()}, {c.not_valid_after_utc.isoformat()}]",
            actual=gen_time.isoformat(),
        )
    anchors = root.derived.tsa_anchors
    if ca not in anchors:
        anchors[ca] = _tsa_anchor(ca)
    anchor = anchors[ca]
    if anchor is not None and cms_signature_ok(data, anchor):
        return None
    builder = _rfc3161().VerifierBuilder(tsa_certificate=certs[0], intermediates=list(certs[1:-1]), roots=[certs[-1]])
    try:
        builder.build().verify_message(token.response, signature)
    except Exception as exc:  # noqa: BLE001 - rfc3161-client raises its own and ValueError
        return _fail(f"the timestamp signature does not verify with {name}: {exc}", "timestamp.signature")
    return None


@dataclass(frozen=True)
class TimestampFacts:
    """What a timestamp claims, decoded but NOT verified (for inspection only)."""

    time: _dt.datetime
    signer: str
    policy: str
    hash_algorithm: str
    embedded_certificates: tuple[str, ...]


_HASH_NAMES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
               "2.16.840.1.101.3.4.2.3": "sha512"}


def describe_timestamp(data: bytes) -> TimestampFacts:
    """Decode an RFC 3161 response with the verifier's decoder, without verifying; raises `TimestampError`."""
    try:
        tsr = _rfc3161().decode_timestamp_response(data)
        info = tsr.tst_info
        gen_time = info.gen_time
        alg = info.message_imprint.hash_algorithm.dotted_string
        signers = list(tsr.signed_data.signer_infos)
        signer = "; ".join(f"{s.issuer.rfc4514_string()} serial {s.serial_number}" for s in signers)
        certs = [x509.load_der_x509_certificate(der).subject.rfc4514_string() for der in tsr.signed_data.certificates]
        policy = info.policy.dotted_string
    except Exception as exc:  # noqa: BLE001 - the Rust decoder raises several types
        raise _fail(f"the timestamp does not decode as an RFC 3161 response: {exc}", "timestamp.malformed") from None
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=_dt.timezone.utc)
    return TimestampFacts(gen_time, signer or "(no signer)", policy, _HASH_NAMES.get(alg, alg), tuple(certs))
