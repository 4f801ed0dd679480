"""Reading an RFC 3161 TimeStampReq, and the failure codes a TSA answers bad ones with.

RFC 3161 §2.4.1::

    TimeStampReq ::= SEQUENCE {
       version          INTEGER { v1(1) },
       messageImprint   MessageImprint,        -- SEQUENCE { hashAlgorithm, hashedMessage }
       reqPolicy        TSAPolicyId OPTIONAL,
       nonce            INTEGER OPTIONAL,
       certReq          BOOLEAN DEFAULT FALSE,
       extensions       [0] IMPLICIT Extensions OPTIONAL }

Every way a request can be wrong maps to one `PKIFailureInfo` bit (§2.4.2);
`parse_request` raises `RequestRefused` carrying it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from labkit._internal import der
from labkit.errors import KeylessError

__all__ = ["HASH_ALGORITHMS", "MAX_REQUEST_BYTES", "FailureInfo", "RequestRefused", "TimestampRequest", "parse_request"]

#: A TimeStampReq with a SHA-512 imprint, a 20-byte nonce and a policy is about 120 bytes.
MAX_REQUEST_BYTES = 4096

#: Message-imprint hashes accepted: OID → (name, digest length). SHA-1 and MD5 are refused as sigstore's TSA does.
HASH_ALGORITHMS = {
    "2.16.840.1.101.3.4.2.1": ("sha256", 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", 64),
}


class FailureInfo(enum.IntEnum):
    """PKIFailureInfo named bits (RFC 3161 §2.4.2)."""

    BAD_ALG = 0
    BAD_REQUEST = 2
    BAD_DATA_FORMAT = 5
    TIME_NOT_AVAILABLE = 14
    UNACCEPTED_POLICY = 15
    UNACCEPTED_EXTENSION = 16
    ADD_INFO_NOT_AVAILABLE = 17
    SYSTEM_FAILURE = 25


class RequestRefused(KeylessError):
    """A timestamp request the TSA will not grant; `fail_info` says why in RFC 3161's terms."""

    def __init__(self, message: str, fail_info: FailureInfo) -> None:
        super().__init__(message, details={"failInfo": fail_info.name})
        self.fail_info = fail_info


@dataclass(frozen=True)
class TimestampRequest:
    """A parsed TimeStampReq; `imprint_der` and `nonce_der` are the request's own encodings, echoed as they came."""

    hash_name: str
    hash_oid: str
    digest: bytes
    imprint_der: bytes
    policy: str | None
    nonce: int | None
    nonce_der: bytes | None
    cert_req: bool


def _malformed(message: str) -> RequestRefused:
    return RequestRefused(f"malformed timestamp request: {message}", FailureInfo.BAD_DATA_FORMAT)


def _imprint(element: der.Element) -> tuple[str, str, bytes]:
    """(hash name, hash OID, digest) of a MessageImprint, checked against the accepted algorithms."""
    if element.tag != der.SEQUENCE:
        raise _malformed("messageImprint is not a SEQUENCE")
    fields = der.children(element)
    if len(fields) != 2 or fields[0].tag != der.SEQUENCE or fields[1].tag != der.OCTET_STRING:
        raise _malformed("messageImprint must be an AlgorithmIdentifier and an OCTET STRING")
    alg = der.children(fields[0])
    if not alg or len(alg) > 2:
        raise _malformed("hashAlgorithm is not an AlgorithmIdentifier")
    hash_oid = der.decode_oid(alg[0])
    if hash_oid not in HASH_ALGORITHMS:
        raise RequestRefused(f"unsupported hash algorithm {hash_oid}; use SHA-256, SHA-384 or SHA-512",
                             FailureInfo.BAD_ALG)
    if len(alg) == 2 and alg[1].raw != der.null():  # RFC 5754 §2: parameters absent or NULL
        raise RequestRefused(f"hash algorithm {hash_oid} has parameters", FailureInfo.BAD_ALG)
    name, size = HASH_ALGORITHMS[hash_oid]
    digest = fields[1].content
    if len(digest) != size:
        raise _malformed(f"a {name} digest has {size} bytes, not {len(digest)}")
    return name, hash_oid, digest


def parse_request(data: bytes, *, max_bytes: int = MAX_REQUEST_BYTES) -> TimestampRequest:
    """Parse and check a DER TimeStampReq; raises `RequestRefused` with the failure to answer."""
    if len(data) > max_bytes:
        raise RequestRefused(f"timestamp request of {len(data)} bytes is larger than the limit of {max_bytes}",
                             FailureInfo.BAD_REQUEST)
    try:
        top = der.parse(data)
        if top.tag != der.SEQUENCE:
            raise _malformed("not a SEQUENCE")
        fields = der.children(top, limit=6)
        if len(fields) < 2:
            raise _malformed("version and messageImprint are required")
        if der.decode_integer(fields[0]) != 1:
            raise _malformed("version must be 1")
        name, hash_oid, digest = _imprint(fields[1])
        rest = fields[2:]
        policy = nonce = nonce_der = None
        cert_req = False
        if rest and rest[0].tag == der.OID:
            policy = der.decode_oid(rest.pop(0))
        if rest and rest[0].tag == der.INTEGER:
            nonce_der = rest[0].raw
            nonce = der.decode_integer(rest.pop(0))
        if rest and rest[0].tag == der.BOOLEAN:
            if rest[0].content not in (b"\x00", b"\xff"):
                raise _malformed("certReq is not a DER BOOLEAN")
            cert_req = rest.pop(0).content == b"\xff"
        if rest and rest[0].tag == 0xA0:
            raise RequestRefused("request extensions are not supported", FailureInfo.UNACCEPTED_EXTENSION)
        if rest:
            raise _malformed(f"unexpected field with tag 0x{rest[0].tag:02x}")
    except der.DERError as exc:
        raise _malformed(str(exc)) from None
    return TimestampRequest(name, hash_oid, digest, fields[1].raw, policy, nonce, nonce_der, cert_req)
