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
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

from labkit.errors import LabkitError, VerificationError
from labkit.verify.certs import authority_chain
from labkit.verify.trustroot import CertificateAuthority, TrustedRoot

__all__ = ["MAX_TIMESTAMPS", "TimestampError", "TimestampFacts", "VerifiedTimestamp", "describe_timestamp", "verify_timestamp"]

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


_HASH_ALGS: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
}
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_RSA_PKCS1_OIDS = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"}


@dataclass(frozen=True)
class _TsaAnchor:
    """A TSA chain from the trusted root, validated once: its DERs and the leaf's public key."""

    ders: frozenset[bytes]
    leaf_der: bytes
    #: The DER contents of the leaf's IssuerAndSerialNumber (issuer Name, then serialNumber).
    issuer_and_serial: bytes
    serial: int
    key: object


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


def _tsa_anchor(ca: CertificateAuthority) -> _TsaAnchor | None:
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
        serial, issuer = _tbs_fields(leaf_der)
    except (ValueError, IndexError):
        return None
    return _TsaAnchor(frozenset(ca.chain_der), leaf_der, issuer + serial, certs[0].serial_number, key)


def _tbs_fields(cert_der: bytes) -> tuple[bytes, bytes]:
    """The raw DER items serialNumber and issuer of a certificate's TBSCertificate (RFC 5280 §4.1)."""
    _, cert_start, _ = _der_item(cert_der, 0)
    _, tbs_start, tbs_len = _der_item(cert_der, cert_start)
    tbs = _der_items(cert_der, tbs_start, tbs_start + tbs_len)
    if tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    (stag, spos, sstart, slen), (itag, ipos, istart, ilen) = tbs[0], tbs[2]
    if stag != 0x02 or itag != 0x30:
        raise ValueError("not a certificate")
    return cert_der[spos : sstart + slen], cert_der[ipos : istart + ilen]


def _cms_signature_ok(data: bytes, anchor: _TsaAnchor) -> bool:
    """RFC 5652 §5.4/§5.6 SignerInfo check of the token in `data` with the validated TSA leaf key.

    True only when everything checks out; False (never an exception) sends the
    timestamp through the full verification, which then names the failure.
    """
    try:
        _, body, blen = _der_item(data, 0)  # TimeStampResp
        items = _der_children(data, body, body + blen)
        ctag, ci_start, ci_len = items[1]  # TimeStampToken ContentInfo
        ci = _der_children(data, ci_start, ci_start + ci_len)
        if ctag != 0x30 or ci[0][0] != 0x06 or _decode_oid(data[ci[0][1] : ci[0][1] + ci[0][2]]) != _OID_SIGNED_DATA:
            return False
        _, explicit_start, _ = ci[1]
        _, sd_start, sd_len = _der_item(data, explicit_start)  # SignedData
        sd = _der_children(data, sd_start, sd_start + sd_len)
        # OpenSSL digests the content with every algorithm listed: an unknown one fails there, so here too.
        dtag, d_start, d_len = sd[1]
        listed = {_oid(data, item) for item in _der_children(data, d_start, d_start + d_len)}
        if dtag != 0x31 or not listed <= _HASH_ALGS.keys():
            return False
        _, eci_start, eci_len = sd[2]  # EncapsulatedContentInfo
        eci = _der_children(data, eci_start, eci_start + eci_len)
        if eci[0][0] != 0x06 or _decode_oid(data[eci[0][1] : eci[0][1] + eci[0][2]]) != _OID_TST_INFO:
            return False
        _, econ_start, _ = eci[1]  # [0] EXPLICIT OCTET STRING
        otag, oct_start, oct_len = _der_item(data, econ_start)
        if otag != 0x04:
            return False
        content = data[oct_start : oct_start + oct_len]
        for tag, start, length in sd[3:-1]:
            if tag == 0xA0:
                # Embedded certificates: rfc3161-client requires the one matching the signer (by issuer
                # and serial) to be the trusted TSA leaf. Fast path only when the leaf itself is embedded
                # and no other certificate shares its serial number; others are unused intermediates.
                embedded = [data[pos : vs + n] for _, pos, vs, n in _der_items(data, start, start + length)]
                if embedded and anchor.leaf_der not in embedded:
                    return False
                for der in embedded:
                    if der != anchor.leaf_der and der not in anchor.ders:
                        serial = _tbs_fields(der)[0]
                        if int.from_bytes(serial[2:], "big", signed=True) == anchor.serial or serial[1] & 0x80:
                            return False
            else:  # crls (never in a TSA token) or anything else: the full verification decides
                return False
        stag, si_start, si_len = sd[-1]
        infos = _der_children(data, si_start, si_start + si_len)
        if stag != 0x31 or len(infos) != 1:
            return False
        fields = _der_children(data, infos[0][1], infos[0][1] + infos[0][2])
        # The signer must be the trusted TSA leaf: sid is its IssuerAndSerialNumber (RFC 5652 §5.3).
        sid_tag, sid_start, sid_len = fields[1]
        if sid_tag != 0x30 or data[sid_start : sid_start + sid_len] != anchor.issuer_and_serial:
            return False
        digest_oid = _oid(data, fields[2])
        if digest_oid not in listed:  # OpenSSL only digests with the algorithms SignedData lists
            return False
        attrs_tag, attrs_pos, attrs_start, attrs_len = _der_items(data, infos[0][1], infos[0][1] + infos[0][2])[3]
        if attrs_tag != 0xA0 or digest_oid not in _HASH_ALGS:
            return False
        sig_oid = _oid(data, fields[4])
        sig_tag, sig_start, sig_len = fields[5]
        if sig_tag != 0x04:
            return False
        content_types: list[str] = []
        digests: list[bytes] = []
        for atag, a_start, a_len in _der_children(data, attrs_start, attrs_start + attrs_len):
            attr = _der_children(data, a_start, a_start + a_len)
            if atag != 0x30 or len(attr) != 2 or attr[0][0] != 0x06 or attr[1][0] != 0x31:
                return False
            oid = _decode_oid(data[attr[0][1] : attr[0][1] + attr[0][2]])
            values = _der_children(data, attr[1][1], attr[1][1] + attr[1][2])
            if oid == _OID_CONTENT_TYPE:
                if len(values) != 1 or values[0][0] != 0x06:
                    return False
                content_types.append(_decode_oid(data[values[0][1] : values[0][1] + values[0][2]]))
            elif oid == _OID_MESSAGE_DIGEST:
                if len(values) != 1 or values[0][0] != 0x04:
                    return False
                digests.append(data[values[0][1] : values[0][1] + values[0][2]])
        # RFC 5652 §5.3: with signed attributes, content-type and message-digest MUST be present (once each).
        if content_types != [_OID_TST_INFO] or len(digests) != 1:
            return False
        if digests[0] != _HASHES[digest_oid](content).digest():
            return False
        # RFC 5652 §5.4: the signature covers the DER of the signed attributes as an explicit SET OF.
        attrs_der = b"\x31" + data[attrs_pos + 1 : attrs_start + attrs_len]
        signature = data[sig_start : sig_start + sig_len]
        key = anchor.key
        hash_alg = _HASH_ALGS[digest_oid]
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, attrs_der, ec.ECDSA(hash_alg))
        elif isinstance(key, rsa.RSAPublicKey) and sig_oid in _RSA_PKCS1_OIDS:
            key.verify(signature, attrs_der, padding.PKCS1v15(), hash_alg)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, IndexError, TypeError):
        return False
    return True


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


def _der_items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Like `_der_children`, with where each item's header starts: (tag, item start, value start, length)."""
    out = []
    pos = start
    while pos < end:
        tag, vstart, vlen = _der_item(data, pos)
        if vstart + vlen > end:
            raise ValueError("item runs past its parent")
        out.append((tag, pos, vstart, vlen))
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


@functools.lru_cache(maxsize=256)  # the same few algorithm OIDs in every token; a bounded cache of pure results
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
    try:
        signer_issuer, signer_serial = signer.issuer, signer.serial_number
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
        name = ca.uri or ca.subject
        if not ca.valid_for.contains(gen_time):
            last = _fail(
                f"timestamp time {gen_time.isoformat()} is outside the trusted root's window for {name}",
                "timestamp.tsa_validity",
                expected=ca.valid_for.describe(),
                actual=gen_time.isoformat(),
            )
            continue
        try:
            # protobuf-specs: the chain's LAST certificate is the anchor; every link up to it must verify.
            certs = list(authority_chain(root, ca, tsa=True))
        except LabkitError as exc:
            last = _fail(exc.message, "timestamp.untrusted", **exc.details)
            continue
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
        anchor = root.memo(("tsa_anchor", ca), functools.partial(_tsa_anchor, ca))
        if anchor is not None and _cms_signature_ok(data, anchor):
            return VerifiedTimestamp(gen_time, name)
        builder = rfc3161_client.VerifierBuilder(tsa_certificate=certs[0], intermediates=list(certs[1:-1]), roots=[certs[-1]])
        try:
            builder.build().verify_message(tsr, signature)
        except Exception as exc:  # noqa: BLE001 - rfc3161-client raises its own and ValueError
            last = _fail(f"the timestamp signature does not verify with {name}: {exc}", "timestamp.signature")
            continue
        return VerifiedTimestamp(gen_time, name)
    assert last is not None
    raise last


@dataclass(frozen=True)
class TimestampFacts:
    """What a timestamp claims, decoded but NOT verified (for inspection only)."""

    time: _dt.datetime
    signer: str
    policy: str
    hash_algorithm: str
    embedded_certificates: tuple[str, ...]


_HASH_NAMES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}


def describe_timestamp(data: bytes) -> TimestampFacts:
    """Decode an RFC 3161 response with the verifier's decoder, without verifying; raises `TimestampError`."""
    import rfc3161_client

    try:
        tsr = rfc3161_client.decode_timestamp_response(data)
        info = tsr.tst_info
        gen_time = info.gen_time
        alg = info.message_imprint.hash_algorithm.dotted_string
        signers = list(tsr.signed_data.signer_infos)
        signer = "; ".join(f"{s.issuer.rfc4514_string()} serial {s.serial_number}" for s in signers)
        certs = []
        for der in tsr.signed_data.certificates:
            certs.append(x509.load_der_x509_certificate(der).subject.rfc4514_string())
        policy = info.policy.dotted_string
    except Exception as exc:  # noqa: BLE001 - the Rust decoder raises several types
        raise _fail(f"the timestamp does not decode as an RFC 3161 response: {exc}", "timestamp.malformed") from None
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=_dt.timezone.utc)
    return TimestampFacts(gen_time, signer or "(no signer)", policy, _HASH_NAMES.get(alg, alg), tuple(certs))
