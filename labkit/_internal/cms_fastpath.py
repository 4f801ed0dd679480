"""The fenced fast path for RFC 3161 timestamps: a CMS SignerInfo check with an already-validated TSA key.

Why it exists (docs/adr/0003-fast-paths.md): `rfc3161-client` re-validates the TSA's certificate chain on
every call, which is most of a verification's cost; the chain comes from the trusted root, so
`labkit.verify.timestamp` validates it once per root and this module checks only what depends on the
token (RFC 5652 §5.4: the content-type and message-digest signed attributes, the signature over their
DER SET) with the TSA leaf key.

The contract that keeps it safe: `cms_signature_ok` answers True only when every check passed, and
False (never an exception) for anything unusual, which sends the timestamp through `rfc3161-client`'s
full verification. It never rejects on its own. The gate is the differential test
`tests/verify/test_trust_cache.py::test_fast_path_agrees_with_full_verification` (same verdict and reason,
fast path on or off, over every conformance timestamp and bit-flipped variants).

The walker reads definite-length DER/BER items one level at a time; `labkit._internal.der` is the strict
DER codec the timestamp authority writes with.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

__all__ = [
    "HASH_ALGORITHMS", "OID_TST_INFO", "TsaAnchor", "cms_signature_ok", "decode_oid", "der_children", "der_item",
    "der_items", "algorithm_oid", "tbs_serial_and_issuer",
]

#: Digest algorithms a TSA may sign with (RFC 5754): OID -> hash.
HASH_ALGORITHMS: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "2.16.840.1.101.3.4.2.1": hashlib.sha256,
    "2.16.840.1.101.3.4.2.2": hashlib.sha384,
    "2.16.840.1.101.3.4.2.3": hashlib.sha512,
}
_HASH_ALGS: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
}
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_RSA_PKCS1_OIDS = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"}

_Item = tuple[int, int, int]  # (tag, value start, value length)


@dataclass(frozen=True)
class TsaAnchor:
    """A TSA chain from the trusted root, validated once: its DERs and the leaf's public key."""

    ders: frozenset[bytes]
    leaf_der: bytes
    #: The DER contents of the leaf's IssuerAndSerialNumber (issuer Name, then serialNumber).
    issuer_and_serial: bytes
    serial: int
    key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class _NotFast(Exception):
    """Something the fast path does not handle: the full verification decides."""


def _require(condition: bool) -> None:
    if not condition:
        raise _NotFast


# -- the walker -----------------------------------------------------------------------------------


def der_item(data: bytes, pos: int) -> _Item:
    """(tag, start of value, length) of the DER/BER item at `pos` (definite lengths only)."""
    tag, first = data[pos], data[pos + 1]
    start = pos + 2
    if first & 0x80:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported length")
        return tag, start + n, int.from_bytes(data[start : start + n], "big")
    return tag, start, first


def der_items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Each item between `start` and `end`: (tag, item start, value start, value length)."""
    out = []
    pos = start
    while pos < end:
        tag, vstart, vlen = der_item(data, pos)
        if vstart + vlen > end:
            raise ValueError("item runs past its parent")
        out.append((tag, pos, vstart, vlen))
        pos = vstart + vlen
    return out


def der_children(data: bytes, start: int, end: int) -> list[_Item]:
    """The (tag, value start, value length) of each item between `start` and `end`."""
    return [(tag, vstart, vlen) for tag, _, vstart, vlen in der_items(data, start, end)]


def _value(data: bytes, item: _Item) -> bytes:
    return data[item[1] : item[1] + item[2]]


def _children_of(data: bytes, item: _Item) -> list[_Item]:
    return der_children(data, item[1], item[1] + item[2])


def algorithm_oid(data: bytes, item: _Item) -> str:
    """Dotted OID of an AlgorithmIdentifier SEQUENCE item."""
    tag, start, _ = item
    if tag != 0x30:
        raise ValueError("AlgorithmIdentifier is not a SEQUENCE")
    otag, ostart, olen = der_item(data, start)
    if otag != 0x06:
        raise ValueError("AlgorithmIdentifier does not start with an OID")
    return decode_oid(data[ostart : ostart + olen])


@functools.lru_cache(maxsize=256)  # the same few algorithm OIDs in every token; a bounded cache of pure results
def decode_oid(raw: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER's contents (X.690 §8.19)."""
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


def _is_oid(data: bytes, item: _Item, oid: str) -> bool:
    return item[0] == 0x06 and decode_oid(_value(data, item)) == oid


def tbs_serial_and_issuer(cert_der: bytes) -> tuple[bytes, bytes]:
    """The raw DER items serialNumber and issuer of a certificate's TBSCertificate (RFC 5280 §4.1)."""
    _, cert_start, _ = der_item(cert_der, 0)
    _, tbs_start, tbs_len = der_item(cert_der, cert_start)
    tbs = der_items(cert_der, tbs_start, tbs_start + tbs_len)
    if tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    (stag, spos, sstart, slen), (itag, ipos, istart, ilen) = tbs[0], tbs[2]
    if stag != 0x02 or itag != 0x30:
        raise ValueError("not a certificate")
    return cert_der[spos : sstart + slen], cert_der[ipos : istart + ilen]


# -- the check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SignedData:
    items: list[_Item]
    #: The digest algorithms SignedData lists (OpenSSL digests the content with each).
    listed: set[str]
    #: The TSTInfo bytes the message-digest attribute must hash.
    content: bytes


def _signed_data(data: bytes) -> _SignedData:
    """TimeStampResp -> TimeStampToken (ContentInfo, id-signedData) -> SignedData, with its TSTInfo content."""
    _, body, blen = der_item(data, 0)  # TimeStampResp
    token = der_children(data, body, body + blen)[1]
    ci = _children_of(data, token)
    _require(token[0] == 0x30 and _is_oid(data, ci[0], _OID_SIGNED_DATA))
    _, sd_start, sd_len = der_item(data, ci[1][1])  # [0] EXPLICIT SignedData
    sd = der_children(data, sd_start, sd_start + sd_len)
    # OpenSSL digests the content with every algorithm listed: an unknown one fails there, so here too.
    listed = {algorithm_oid(data, item) for item in _children_of(data, sd[1])}
    _require(sd[1][0] == 0x31 and listed <= _HASH_ALGS.keys())
    eci = _children_of(data, sd[2])  # EncapsulatedContentInfo
    _require(_is_oid(data, eci[0], OID_TST_INFO))
    octets = der_item(data, eci[1][1])  # [0] EXPLICIT OCTET STRING
    _require(octets[0] == 0x04)
    return _SignedData(sd, listed, _value(data, octets))


def _check_embedded_certificates(data: bytes, sd: _SignedData, anchor: TsaAnchor) -> None:
    for tag, start, length in sd.items[3:-1]:
        # crls (never in a TSA token) or anything else: the full verification decides.
        _require(tag == 0xA0)
        # Embedded certificates: rfc3161-client requires the one matching the signer (by issuer
        # and serial) to be the trusted TSA leaf. Fast path only when the leaf itself is embedded
        # and no other certificate shares its serial number; others are unused intermediates.
        embedded = [data[pos : vs + n] for _, pos, vs, n in der_items(data, start, start + length)]
        _require(not embedded or anchor.leaf_der in embedded)
        for der in embedded:
            if der != anchor.leaf_der and der not in anchor.ders:
                serial = tbs_serial_and_issuer(der)[0]
                _require(int.from_bytes(serial[2:], "big", signed=True) != anchor.serial and not serial[1] & 0x80)


@dataclass(frozen=True)
class _SignerInfo:
    digest_oid: str
    signature_oid: str
    #: The signed attributes re-tagged as the explicit SET OF the signature covers (RFC 5652 §5.4).
    attributes_der: bytes
    attributes: list[_Item]
    signature: bytes


def _signer_info(data: bytes, sd: _SignedData, anchor: TsaAnchor) -> _SignerInfo:
    stag, si_start, si_len = sd.items[-1]
    infos = der_children(data, si_start, si_start + si_len)
    _require(stag == 0x31 and len(infos) == 1)
    fields = _children_of(data, infos[0])
    # The signer must be the trusted TSA leaf: sid is its IssuerAndSerialNumber (RFC 5652 §5.3).
    _require(fields[1][0] == 0x30 and _value(data, fields[1]) == anchor.issuer_and_serial)
    digest_oid = algorithm_oid(data, fields[2])
    _require(digest_oid in sd.listed)  # OpenSSL only digests with the algorithms SignedData lists
    attrs_tag, attrs_pos, attrs_start, attrs_len = der_items(data, infos[0][1], infos[0][1] + infos[0][2])[3]
    _require(attrs_tag == 0xA0 and digest_oid in _HASH_ALGS)
    signature_oid = algorithm_oid(data, fields[4])
    _require(fields[5][0] == 0x04)
    return _SignerInfo(
        digest_oid, signature_oid, b"\x31" + data[attrs_pos + 1 : attrs_start + attrs_len],
        der_children(data, attrs_start, attrs_start + attrs_len), _value(data, fields[5]),
    )


def _check_signed_attributes(data: bytes, sd: _SignedData, info: _SignerInfo) -> None:
    content_types: list[str] = []
    digests: list[bytes] = []
    for attribute in info.attributes:
        attr = _children_of(data, attribute)
        _require(attribute[0] == 0x30 and len(attr) == 2 and attr[0][0] == 0x06 and attr[1][0] == 0x31)
        oid = decode_oid(_value(data, attr[0]))
        values = _children_of(data, attr[1])
        if oid == _OID_CONTENT_TYPE:
            _require(len(values) == 1 and values[0][0] == 0x06)
            content_types.append(decode_oid(_value(data, values[0])))
        elif oid == _OID_MESSAGE_DIGEST:
            _require(len(values) == 1 and values[0][0] == 0x04)
            digests.append(_value(data, values[0]))
    # RFC 5652 §5.3: with signed attributes, content-type and message-digest MUST be present (once each).
    _require(content_types == [OID_TST_INFO] and len(digests) == 1)
    _require(digests[0] == HASH_ALGORITHMS[info.digest_oid](sd.content).digest())


def _check_signature(info: _SignerInfo, key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> None:
    hash_alg = _HASH_ALGS[info.digest_oid]
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(info.signature, info.attributes_der, ec.ECDSA(hash_alg))
    elif info.signature_oid in _RSA_PKCS1_OIDS:
        key.verify(info.signature, info.attributes_der, padding.PKCS1v15(), hash_alg)
    else:
        raise _NotFast


def cms_signature_ok(data: bytes, anchor: TsaAnchor) -> bool:
    """RFC 5652 §5.4/§5.6 SignerInfo check of the token in `data` with the validated TSA leaf key.

    True only when everything checks out; False (never an exception) sends the
    timestamp through the full verification, which then names the failure.
    """
    try:
        sd = _signed_data(data)
        _check_embedded_certificates(data, sd, anchor)
        info = _signer_info(data, sd, anchor)
        _check_signed_attributes(data, sd, info)
        _check_signature(info, anchor.key)
    except (_NotFast, InvalidSignature, UnsupportedAlgorithm, ValueError, IndexError, TypeError):
        return False
    return True
