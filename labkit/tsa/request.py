"""Reading an RFC 3161 TimeStampReq: explain (ordered steps) and enforce, with RFC 3161's failure codes.

RFC 3161 §2.4.1::

    TimeStampReq ::= SEQUENCE {
       version          INTEGER { v1(1) },
       messageImprint   MessageImprint,        -- SEQUENCE { hashAlgorithm, hashedMessage }
       reqPolicy        TSAPolicyId OPTIONAL,
       nonce            INTEGER OPTIONAL,
       certReq          BOOLEAN DEFAULT FALSE,
       extensions       [0] IMPLICIT Extensions OPTIONAL }

`explain_request` records each check as a step (never raises on bad input);
a failed step's reason is the `PKIFailureInfo` bit a TSA answers with
(§2.4.2). `parse_request` enforces it and raises `RequestRefused`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from labkit._internal import der
from labkit.checks import CheckResult, Recorder, Step, StepTable
from labkit.errors import KeylessError, LabkitError

__all__ = []

#: A TimeStampReq with a SHA-512 imprint, a 20-byte nonce and a policy is about 120 bytes.
MAX_REQUEST_BYTES = 4096

#: Message-imprint hashes accepted: OID → (name, digest length). SHA-1 and MD5 are refused as sigstore's TSA does.
HASH_ALGORITHMS = {
    "2.16.840.1.101.3.4.2.1": ("sha256", 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", 64),
}


class FailureInfo(enum.IntEnum):
    """PKIFailureInfo named bits (RFC 3161 §2.4.2); `rfc_name` is the ASN.1 name."""

    BAD_ALG = 0
    BAD_REQUEST = 2
    BAD_DATA_FORMAT = 5
    TIME_NOT_AVAILABLE = 14
    UNACCEPTED_POLICY = 15
    UNACCEPTED_EXTENSION = 16
    ADD_INFO_NOT_AVAILABLE = 17
    SYSTEM_FAILURE = 25

    @property
    def rfc_name(self) -> str:
        """``badAlg``, ``badDataFormat``, ... as RFC 3161 spells them."""
        head, *rest = self.name.lower().split("_")
        return head + "".join(word.capitalize() for word in rest)

    @classmethod
    def from_rfc_name(cls, name: str) -> FailureInfo:
        """The member whose `rfc_name` is `name`."""
        return next(member for member in cls if member.rfc_name == name)


class RequestRefused(KeylessError):
    """A timestamp request the TSA will not grant; `step` names the check, `fail_info` RFC 3161's reason."""

    hint = "Send a DER TimeStampReq (RFC 3161 §2.4.1) with a SHA-256/384/512 imprint and no extensions."

    def __init__(self, message: str, fail_info: FailureInfo, *, step: str = "") -> None:
        super().__init__(message, details={"step": step, "failInfo": fail_info.rfc_name} if step else
                         {"failInfo": fail_info.rfc_name})
        self.fail_info = fail_info
        self.step = step


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


@dataclass
class RequestCheck(CheckResult):
    """The ordered checks of one timestamp request; `request` is set when they all pass."""

    passed_verdict = "GRANTABLE"
    failed_verdict = "REFUSED"
    request: TimestampRequest | None = None

    @property
    def fail_info(self) -> FailureInfo:
        """The failInfo bit of the first failed step (badRequest if none failed but the run is incomplete)."""
        step = self.failed_step
        return FailureInfo.from_rfc_name(step.reason_code) if step is not None else FailureInfo.BAD_REQUEST

    def error(self, step: Step | None) -> LabkitError:
        """`RequestRefused` naming the failed step and its failInfo."""
        if step is None:
            return RequestRefused(f"{self.subject} refused: the checks did not complete", FailureInfo.BAD_REQUEST)
        return RequestRefused(self.message(step), self.fail_info, step=step.id)


#: The checks `explain_request` makes, in order: id -> (title, spec).
REQUEST_STEPS: StepTable = {
    "request.size": ("the request is within the TSA's size limit", "labkit TSA limit (sigstore's TSA bounds requests)"),
    "request.der": ("the request is a DER TimeStampReq", "RFC 3161 §2.4.1; X.690 DER"),
    "request.version": ("the request is version 1", "RFC 3161 §2.4.1 version v1(1)"),
    "imprint.algorithm": ("the imprint hash is SHA-256, SHA-384 or SHA-512", "RFC 3161 §2.4.1; RFC 5754 §2"),
    "imprint.length": ("the imprint is as long as its hash", "RFC 3161 §2.4.1 hashedMessage"),
    "request.policy": ("the requested policy is one this TSA issues under", "RFC 3161 §2.4.1 reqPolicy"),
    "request.extensions": ("the request has no extension the TSA does not know", "RFC 3161 §2.4.1 extensions"),
}


@dataclass(frozen=True)
class _Fields:
    """The structural parse of a TimeStampReq, before any semantic check."""

    version: int
    hash_oid: str
    hash_params: bytes | None
    digest: bytes
    imprint_der: bytes
    policy: str | None
    nonce_der: bytes | None
    cert_req: bool
    extensions: bool


def _structure(data: bytes) -> _Fields:
    """Parse the TimeStampReq's shape; `der.DERError` says what is not DER or not in place."""
    top = der.parse(data)
    if top.tag != der.SEQUENCE:
        raise der.DERError("not a SEQUENCE")
    fields = der.children(top, limit=6)
    if len(fields) < 2:
        raise der.DERError("version and messageImprint are required")
    imprint = fields[1]
    parts = der.children(imprint) if imprint.tag == der.SEQUENCE else []
    if len(parts) != 2 or parts[0].tag != der.SEQUENCE or parts[1].tag != der.OCTET_STRING:
        raise der.DERError("messageImprint must be an AlgorithmIdentifier and an OCTET STRING")
    alg = der.children(parts[0])
    if not alg or len(alg) > 2:
        raise der.DERError("hashAlgorithm is not an AlgorithmIdentifier")
    rest = fields[2:]
    policy = der.decode_oid(rest.pop(0)) if rest and rest[0].tag == der.OID else None
    nonce_der = None
    if rest and rest[0].tag == der.INTEGER:
        der.decode_integer(rest[0])
        nonce_der = rest.pop(0).raw
    cert_req = False
    if rest and rest[0].tag == der.BOOLEAN:
        if rest[0].content not in (b"\x00", b"\xff"):
            raise der.DERError("certReq is not a DER BOOLEAN")
        cert_req = rest.pop(0).content == b"\xff"
    extensions = bool(rest) and rest[0].tag == 0xA0
    if extensions:
        rest.pop(0)
    if rest:
        raise der.DERError(f"unexpected field with tag 0x{rest[0].tag:02x}")
    return _Fields(der.decode_integer(fields[0]), der.decode_oid(alg[0]), alg[1].raw if len(alg) == 2 else None,
                   parts[1].content, imprint.raw, policy, nonce_der, cert_req, extensions)


def explain_request(data: bytes, *, max_bytes: int = MAX_REQUEST_BYTES,
                    policies: Collection[str] | None = None) -> RequestCheck:
    """Every check a TSA makes on a TimeStampReq, in order; never raises. `policies` None accepts any."""
    run = Recorder(RequestCheck(subject="timestamp request"), REQUEST_STEPS)
    check = run.result
    steps: Iterator[str] = iter(REQUEST_STEPS)

    def record(ok: bool, expected: str | int, actual: str | int, detail: str, fail: FailureInfo) -> bool:
        step_id = next(steps)
        run.record(step_id, ok, "" if ok else detail, reason=fail.rfc_name, expected=expected, actual=actual)
        if not ok:
            run.finish_skipped()
        return ok

    if not record(len(data) <= max_bytes, f"<= {max_bytes} bytes", f"{len(data)} bytes",
                  f"the request is larger than {max_bytes} bytes", FailureInfo.BAD_REQUEST):
        return check
    try:
        fields = _structure(data)
    except der.DERError as exc:
        record(False, "DER TimeStampReq", "not parseable", f"malformed timestamp request: {exc}",
               FailureInfo.BAD_DATA_FORMAT)
        return check
    record(True, "DER TimeStampReq", "DER TimeStampReq", "", FailureInfo.BAD_DATA_FORMAT)
    if not record(fields.version == 1, 1, fields.version, f"version {fields.version} is not supported",
                  FailureInfo.BAD_DATA_FORMAT):
        return check
    known = fields.hash_oid in HASH_ALGORITHMS and fields.hash_params in (None, der.null())
    name, size = HASH_ALGORITHMS.get(fields.hash_oid, ("", 0))
    detail = (f"hash algorithm {name} must have absent or NULL parameters" if name
              else f"unsupported hash algorithm {fields.hash_oid}; use SHA-256, SHA-384 or SHA-512")
    if not record(known, "SHA-256, SHA-384 or SHA-512 without parameters", name or fields.hash_oid, detail,
                  FailureInfo.BAD_ALG):
        return check
    if not record(len(fields.digest) == size, f"{size} bytes", f"{len(fields.digest)} bytes",
                  f"a {name} digest has {size} bytes, not {len(fields.digest)}", FailureInfo.BAD_DATA_FORMAT):
        return check
    accepted = fields.policy is None or policies is None or fields.policy in policies
    if not record(accepted, " or ".join(sorted(policies or ())) or "any", fields.policy or "none",
                  f"policy {fields.policy} is not one this TSA issues under", FailureInfo.UNACCEPTED_POLICY):
        return check
    if not record(not fields.extensions, "none", "present" if fields.extensions else "none",
                  "request extensions are not supported", FailureInfo.UNACCEPTED_EXTENSION):
        return check
    nonce = der.decode_integer(der.parse(fields.nonce_der)) if fields.nonce_der is not None else None
    check.request = TimestampRequest(name, fields.hash_oid, fields.digest, fields.imprint_der, fields.policy,
                                     nonce, fields.nonce_der, fields.cert_req)
    return check


def parse_request(data: bytes, *, max_bytes: int = MAX_REQUEST_BYTES,
                  policies: Collection[str] | None = None) -> TimestampRequest:
    """Parse and check a DER TimeStampReq; raises `RequestRefused` naming the failed step and its failInfo."""
    check = explain_request(data, max_bytes=max_bytes, policies=policies)
    check.raise_for_failure()
    assert check.request is not None
    return check.request
