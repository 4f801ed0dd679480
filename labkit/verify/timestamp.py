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
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.errors import LabkitError, VerificationError
from labkit.verify.trustroot import CertificateAuthority, TrustedRoot

__all__ = ["MAX_TIMESTAMPS", "TimestampError", "VerifiedTimestamp", "verify_timestamp"]

#: More timestamps than this is refused (sigstore-go uses the same bound against DoS).
MAX_TIMESTAMPS = 32

_HASHES = {
    "2.16.840.1.101.3.4.2.1": hashlib.sha256,
    "2.16.840.1.101.3.4.2.2": hashlib.sha384,
    "2.16.840.1.101.3.4.2.3": hashlib.sha512,
}


class TimestampError(VerificationError):
    """An RFC 3161 timestamp does not verify."""


@dataclass(frozen=True)
class VerifiedTimestamp:
    """A verified time and the authority that vouched for it."""

    time: _dt.datetime
    authority: str


def _fail(message: str, reason: str, **details: object) -> TimestampError:
    return TimestampError(message, step="timestamp.rfc3161", reason=reason, details=details)


def _matches_signer(ca: CertificateAuthority, issuer: x509.Name, serial: int) -> bool:
    try:
        leaf = ca.certificates()[0]
    except LabkitError:
        return False
    return leaf.issuer == issuer and leaf.serial_number == serial


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, length) of the DER/BER item at `pos` (definite lengths only)."""
    tag, first = data[pos], data[pos + 1]
    start = pos + 2
    if first & 0x80:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported length")
        return tag, start + n, int.from_bytes(data[start : start + n], "big")
    return tag, start, first


def _der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The (tag, value start, value length) of each item between `start` and `end`."""
    out = []
    pos = start
    while pos < end:
        tag, vstart, vlen = _der_item(data, pos)
        if vstart + vlen > end:
            raise ValueError("item runs past its parent")
        out.append((tag, vstart, vlen))
        pos = vstart + vlen
    return out


def _oid(data: bytes, item: tuple[int, int, int]) -> str:
    """Dotted OID of an AlgorithmIdentifier SEQUENCE item."""
    tag, start, length = item
    if tag != 0x30:
        raise ValueError("AlgorithmIdentifier is not a SEQUENCE")
    otag, ostart, olen = _der_item(data, start)
    if otag != 0x06:
        raise ValueError("AlgorithmIdentifier does not start with an OID")
    return _decode_oid(data[ostart : ostart + olen])


def _decode_oid(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise ValueError("truncated OID")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


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
    _, body, blen = _der_item(data, 0)  # TimeStampResp
    items = _der_children(data, body, body + blen)
    _, ci_start, ci_len = items[1]  # ContentInfo
    ci = _der_children(data, ci_start, ci_start + ci_len)
    _, explicit_start, explicit_len = ci[1]  # [0] EXPLICIT
    _, sd_start, sd_len = _der_item(data, explicit_start)  # SignedData
    sd = _der_children(data, sd_start, sd_start + sd_len)
    signer_infos = sd[-1]
    if signer_infos[0] != 0x31:
        raise ValueError("signerInfos is not a SET")
    infos = _der_children(data, signer_infos[1], signer_infos[1] + signer_infos[2])
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} SignerInfos")
    fields = _der_children(data, infos[0][1], infos[0][1] + infos[0][2])
    digest_alg = _oid(data, fields[2])
    rest = fields[3:]
    if rest and rest[0][0] == 0xA0:  # signedAttrs
        rest = rest[1:]
    return digest_alg, _oid(data, rest[0])


def _untrusted_embedded_signer(data: bytes, root: TrustedRoot) -> str:
    """For a response the strict decoder refuses: name its embedded signer if no trusted TSA issued it."""
    import warnings

    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        _, body, _ = _der_item(data, 0)  # TimeStampResp SEQUENCE
        _, status_start, status_len = _der_item(data, body)  # PKIStatusInfo
        token_pos = status_start + status_len
        _, token_start, token_len = _der_item(data, token_pos)  # TimeStampToken (ContentInfo)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            certs = pkcs7.load_der_pkcs7_certificates(data[token_pos : token_start + token_len])
    except (ValueError, IndexError):
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


def verify_timestamp(data: bytes, signature: bytes, root: TrustedRoot) -> VerifiedTimestamp:
    """Verify one RFC 3161 timestamp over `signature`; raises `TimestampError` with a reason code.

    Reasons: ``timestamp.malformed``, ``timestamp.imprint_mismatch``,
    ``timestamp.untrusted``, ``timestamp.tsa_validity``,
    ``timestamp.tsa_cert_validity``, ``timestamp.signature``.
    """
    import rfc3161_client

    try:
        tsr = rfc3161_client.decode_timestamp_response(data)
        status = tsr.status
        info = tsr.tst_info
        gen_time = info.gen_time
        imprint_alg = info.message_imprint.hash_algorithm.dotted_string
        imprint = info.message_imprint.message
        signers = list(tsr.signed_data.signer_infos)
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
    hasher = _HASHES.get(imprint_alg)
    if hasher is None:
        raise _fail(f"unsupported message imprint hash {imprint_alg}", "timestamp.malformed")
    expected = hasher(signature).digest()
    if imprint != expected:
        raise _fail(
            "the timestamp is over something other than this bundle's signature",
            "timestamp.imprint_mismatch",
            expected=expected.hex(),
            actual=imprint.hex(),
        )
    if len(signers) != 1:
        raise _fail(f"the timestamp has {len(signers)} signers; exactly one is expected", "timestamp.malformed")
    signer = signers[0]
    candidates = [ca for ca in root.timestamp_authorities if _matches_signer(ca, signer.issuer, signer.serial_number)]
    if not candidates:
        raise _fail(
            "the timestamp was not signed by a timestamp authority in the trusted root",
            "timestamp.untrusted",
            signer=f"{signer.issuer.rfc4514_string()} serial {signer.serial_number}",
        )
    last: TimestampError | None = None
    for ca in candidates:
        name = ca.uri or ca.subject
        if not ca.valid_for.contains(gen_time):
            last = _fail(
                f"timestamp time {gen_time.isoformat()} is outside the trusted root's window for {name}",
                "timestamp.tsa_validity",
                expected=ca.valid_for.describe(),
                actual=gen_time.isoformat(),
            )
            continue
        certs = ca.certificates()
        expired = [c for c in certs if not (c.not_valid_before_utc <= gen_time <= c.not_valid_after_utc)]
        if expired:
            c = expired[0]
            last = _fail(
                f"timestamp time {gen_time.isoformat()} is outside the validity of TSA certificate {c.subject.rfc4514_string()}",
                "timestamp.tsa_cert_validity",
                expected=f"[{c.not_valid_before_utc.isoformat()}, {c.not_valid_after_utc.isoformat()}]",
                actual=gen_time.isoformat(),
            )
            continue
        builder = rfc3161_client.VerifierBuilder(tsa_certificate=certs[0], intermediates=list(certs[1:-1]), roots=[certs[-1]])
        try:
            builder.build().verify_message(tsr, signature)
        except Exception as exc:  # noqa: BLE001 - rfc3161-client raises its own and ValueError
            last = _fail(f"the timestamp signature does not verify with {name}: {exc}", "timestamp.signature")
            continue
        return VerifiedTimestamp(gen_time, name)
    assert last is not None
    raise last
