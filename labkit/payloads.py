"""What gets signed: cosign simple-signing payloads, DSSE envelopes, in-toto statements.

- Simple signing (containers/image "atomic" signature as cosign writes it):
  compact Go-JSON with the struct's field order and ``"optional":null`` when
  there are no annotations.
- DSSE v1 (secure-systems-lab/dsse ``protocol.md``): the signature covers
  ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``,
  never the bare payload.
- in-toto Statement v1 (in-toto/attestation ``spec/v1/statement.md``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from labkit._internal.encoding import b64decode_field
from labkit._internal.jsonio import JSONValue
from labkit.errors import PayloadError, VerificationError
from labkit.keys import VerifyingKey
from labkit.signers.base import Signer

__all__ = [
    "INTOTO_PAYLOAD_TYPE", "Envelope", "EnvelopeSignature", "SimpleSigning", "Statement", "Subject", "pae",
    "parse_simple_signing", "sign_envelope", "simple_signing_payload", "verify_envelope",
]

_SIMPLE_SIGNING_TYPE = "cosign container image signature"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_STATEMENT_V1_TYPE = "https://in-toto.io/Statement/v1"

_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}")


def go_json(value: JSONValue) -> bytes:
    """Serialise like Go's `encoding/json.Marshal`: compact, UTF-8, HTML-escaped.

    Go escapes ``<``, ``>``, ``&``, U+2028 and U+2029; callers pass dicts in
    struct field order (maps are sorted by Go, so sort map keys yourself).
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def simple_signing_payload(
    docker_reference: str,
    manifest_digest: str,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """The exact bytes cosign signs for an image (sigstore/sigstore ``payload.go``).

    `docker_reference` is the repository (e.g. ``registry.local/app``);
    `manifest_digest` is ``sha256:<hex>``. Annotations (``-a key=value``) go
    into ``optional`` sorted by key; none gives ``"optional":null``.
    """
    if not isinstance(manifest_digest, str) or not _DIGEST_RE.fullmatch(manifest_digest):
        raise PayloadError(f"not a manifest digest: {manifest_digest!r} (want sha256:<64 lowercase hex>)")
    if not docker_reference:
        raise PayloadError("docker-reference must not be empty")
    optional: dict[str, JSONValue] | None = (
        None if not annotations else {k: annotations[k] for k in sorted(annotations)}
    )
    doc: dict[str, JSONValue] = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": _SIMPLE_SIGNING_TYPE,
        },
        "optional": optional,
    }
    return go_json(doc)


@dataclass(frozen=True)
class SimpleSigning:
    """A parsed simple-signing payload."""

    docker_reference: str
    manifest_digest: str
    annotations: dict[str, Any] | None = None


def _loads(data: bytes | str, what: str) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise PayloadError(f"{what} is nested too deeply") from None
    except TypeError:
        raise PayloadError(f"{what} must be bytes or text, not {type(data).__name__}") from None


def parse_simple_signing(data: bytes) -> SimpleSigning:
    """Parse simple-signing bytes; `critical.type` must be exactly cosign's."""
    doc = _loads(data, "simple-signing payload")
    try:
        critical = doc["critical"]
        kind = critical["type"]
        ref = critical["identity"]["docker-reference"]
        digest = critical["image"]["docker-manifest-digest"]
    except (KeyError, TypeError):
        raise PayloadError("simple-signing payload lacks critical.identity / critical.image / critical.type") from None
    if kind != _SIMPLE_SIGNING_TYPE:
        raise PayloadError(f"critical.type is {kind!r}, expected {_SIMPLE_SIGNING_TYPE!r}")
    if not isinstance(ref, str) or not isinstance(digest, str):
        raise PayloadError("docker-reference and docker-manifest-digest must be strings")
    optional = doc.get("optional")
    if optional is not None and not isinstance(optional, dict):
        raise PayloadError("optional must be an object or null")
    return SimpleSigning(ref, digest, optional)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: the bytes a DSSE signature covers."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _b64decode(value: JSONValue, what: str) -> bytes:
    # DSSE (protocol.md) allows standard or URL-safe base64; anything else is refused, not skipped.
    return b64decode_field(value, what, PayloadError)


@dataclass(frozen=True)
class EnvelopeSignature:
    """One DSSE signature."""

    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope."""

    payload: bytes
    payload_type: str
    signatures: list[EnvelopeSignature] = field(default_factory=list)

    def pae(self) -> bytes:
        """The bytes every signature in this envelope covers."""
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (DSSE and Sigstore bundle field names)."""
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [
                {"sig": base64.b64encode(s.sig).decode(), "keyid": s.keyid} for s in self.signatures
            ],
        }

    def to_json(self) -> str:
        """Compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, doc: JSONValue) -> Envelope:
        """Parse the JSON form; raises `PayloadError` on anything malformed."""
        if not isinstance(doc, dict):
            raise PayloadError("DSSE envelope must be a JSON object")
        payload_type = doc.get("payloadType")
        if not isinstance(payload_type, str) or not payload_type:
            raise PayloadError("DSSE envelope lacks payloadType")
        if "payload" not in doc:
            raise PayloadError("DSSE envelope lacks payload")
        payload = _b64decode(doc["payload"], "DSSE payload")
        sigs = doc.get("signatures")
        if not isinstance(sigs, list):
            raise PayloadError("DSSE envelope signatures must be a list")
        out = []
        for i, s in enumerate(sigs):
            if not isinstance(s, dict) or "sig" not in s:
                raise PayloadError(f"DSSE signature {i} lacks sig")
            keyid = s.get("keyid", "") or ""
            if not isinstance(keyid, str):
                raise PayloadError(f"DSSE signature {i} keyid must be a string")
            out.append(EnvelopeSignature(_b64decode(s["sig"], f"DSSE signature {i}"), keyid))
        return cls(payload, payload_type, out)

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        """Parse JSON text."""
        return cls.from_dict(_loads(data, "DSSE envelope"))


def sign_envelope(payload: bytes, payload_type: str, key: Signer, keyid: str = "") -> Envelope:
    """Sign PAE(payload_type, payload) and wrap it in an envelope."""
    return Envelope(payload, payload_type, [EnvelopeSignature(key.sign(pae(payload_type, payload)), keyid)])


def verify_envelope(envelope: Envelope, key: VerifyingKey) -> None:
    """Raise `VerificationError` unless the envelope has exactly one signature, valid over PAE."""
    if len(envelope.signatures) != 1:
        raise VerificationError(
            f"DSSE envelope has {len(envelope.signatures)} signatures; exactly one is allowed",
            step="signature", reason="signature.dsse_count",
        )
    key.verify(envelope.signatures[0].sig, envelope.pae())


@dataclass(frozen=True)
class Subject:
    """An in-toto ResourceDescriptor naming a subject by digest."""

    name: str
    digest: dict[str, str]


@dataclass(frozen=True)
class Statement:
    """An in-toto Statement v1."""

    subjects: list[Subject]
    predicate_type: str
    predicate: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form with the spec's field names."""
        return {
            "_type": _STATEMENT_V1_TYPE,
            "subject": [{"name": s.name, "digest": dict(sorted(s.digest.items()))} for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": self.predicate,
        }

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON bytes (what goes into a DSSE payload)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> Statement:
        """Parse a statement; v0.1 ``_type`` is accepted for reading, subjects must carry digests."""
        doc = _loads(data, "in-toto statement")
        if not isinstance(doc, dict):
            raise PayloadError("in-toto statement must be a JSON object")
        if doc.get("_type") not in (_STATEMENT_V1_TYPE, "https://in-toto.io/Statement/v0.1"):
            raise PayloadError(f"unknown statement _type {doc.get('_type')!r}")
        subjects = doc.get("subject")
        if not isinstance(subjects, list) or not subjects:
            raise PayloadError("in-toto statement must have at least one subject")
        parsed = []
        for i, s in enumerate(subjects):
            if not isinstance(s, dict) or not isinstance(s.get("digest"), dict) or not s["digest"]:
                raise PayloadError(f"subject {i} must have a non-empty digest map")
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in s["digest"].items()):
                raise PayloadError(f"subject {i} digest values must be strings")
            parsed.append(Subject(str(s.get("name", "")), dict(s["digest"])))
        ptype = doc.get("predicateType")
        if not isinstance(ptype, str) or not ptype:
            raise PayloadError("in-toto statement lacks predicateType")
        predicate = doc.get("predicate", {})
        if predicate is None:
            predicate = {}
        if not isinstance(predicate, dict):
            raise PayloadError("predicate must be a JSON object")
        return cls(parsed, ptype, predicate)
