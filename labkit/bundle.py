"""The Sigstore bundle (protobuf-specs ``sigstore_bundle.proto``, JSON mapping).

A bundle carries everything needed to verify one signature offline: the
verification material (a public-key hint, a certificate or a chain), the
transparency-log entries with their proofs and promises, optional RFC 3161
timestamps, and the content (a message signature or a DSSE envelope).

JSON follows the proto3 JSON mapping: camelCase field names, int64 as
strings, bytes as standard base64. `Bundle.from_json` is strict: anything
malformed raises `BundleFormatError` naming the field; semantic checks
(does the proof verify?) belong to `labkit.verify`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Union

from labkit._internal.encoding import b64decode_field
from labkit.errors import BundleFormatError, PayloadError
from labkit.payloads import Envelope

__all__ = [
    "BUNDLE_MEDIA_TYPES",
    "BUNDLE_V01_MEDIA_TYPE",
    "BUNDLE_V02_MEDIA_TYPE",
    "BUNDLE_V03_LEGACY_MEDIA_TYPE",
    "BUNDLE_V03_MEDIA_TYPE",
    "Bundle",
    "InclusionProof",
    "MessageSignature",
    "TransparencyLogEntry",
    "VerificationMaterial",
]

BUNDLE_V01_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.1"
BUNDLE_V02_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.2"
BUNDLE_V03_LEGACY_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.3"
BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

#: Every accepted media type and the bundle version it names.
BUNDLE_MEDIA_TYPES: dict[str, tuple[int, int]] = {
    BUNDLE_V01_MEDIA_TYPE: (0, 1),
    BUNDLE_V02_MEDIA_TYPE: (0, 2),
    BUNDLE_V03_LEGACY_MEDIA_TYPE: (0, 3),
    BUNDLE_V03_MEDIA_TYPE: (0, 3),
}

_INT64_MAX = 2**63 - 1


# -- JSON field readers ------------------------------------------------------------------------


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BundleFormatError(f"{where} must be a JSON object")
    return value


@functools.lru_cache(maxsize=256)
def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


def _get(doc: dict[str, Any], camel: str, where: str, *, required: bool = True) -> Any:
    """Read a field by its JSON name, accepting the proto snake_case name as proto3 JSON does."""
    if camel in doc:
        return doc[camel]
    snake = _snake(camel)
    if snake in doc:
        return doc[snake]
    if required:
        raise BundleFormatError(f"{where}.{camel} is missing")
    return None


#: Padded standard base64 (RFC 4648 §4): what proto3 JSON writers emit; decoded without the general path.
_STD_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _b64(value: Any, where: str) -> bytes:
    # proto3 JSON accepts standard and URL-safe base64, padded or not; every character is validated.
    if isinstance(value, str) and not len(value) % 4 and _STD_B64.fullmatch(value):
        try:
            return binascii.a2b_base64(value)
        except binascii.Error:
            pass  # the general path names the problem
    return b64decode_field(value, where, BundleFormatError)


def _int64(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise BundleFormatError(f"{where} must be an integer")
    if isinstance(value, str):
        if not value.strip().lstrip("-").isdigit():
            raise BundleFormatError(f"{where} must be an integer, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise BundleFormatError(f"{where} must be an integer")
    if value < minimum or value > _INT64_MAX:
        raise BundleFormatError(f"{where} is out of range: {value}")
    return value


def _e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- the model ---------------------------------------------------------------------------------


@dataclass
class InclusionProof:
    """An RFC 6962 inclusion proof plus the checkpoint (signed note) it is anchored to.

    `log_index` is the index within the tree the proof is for, which in
    sharded Rekor v1 differs from the entry's global `logIndex`.
    """

    log_index: int
    root_hash: bytes
    tree_size: int
    hashes: list[bytes]
    checkpoint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "logIndex": str(self.log_index),
            "rootHash": _e(self.root_hash),
            "treeSize": str(self.tree_size),
            "hashes": [_e(h) for h in self.hashes],
            **({"checkpoint": {"envelope": self.checkpoint}} if self.checkpoint else {}),
        }

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> InclusionProof:
        doc = _obj(doc, where)
        hashes = _get(doc, "hashes", where, required=False) or []
        if not isinstance(hashes, list):
            raise BundleFormatError(f"{where}.hashes must be a list")
        # v0.1 bundles may lack the checkpoint; the verifier decides whether one is required.
        cp = _get(doc, "checkpoint", where, required=False)
        envelope = ""
        if cp is not None:
            envelope = _get(_obj(cp, f"{where}.checkpoint"), "envelope", f"{where}.checkpoint")
            if not isinstance(envelope, str):
                raise BundleFormatError(f"{where}.checkpoint.envelope must be a string")
        return cls(
            log_index=_int64(_get(doc, "logIndex", where), f"{where}.logIndex"),
            root_hash=_b64(_get(doc, "rootHash", where), f"{where}.rootHash"),
            tree_size=_int64(_get(doc, "treeSize", where), f"{where}.treeSize"),
            hashes=[_b64(h, f"{where}.hashes[{i}]") for i, h in enumerate(hashes)],
            checkpoint=envelope,
        )


@dataclass
class TransparencyLogEntry:
    """One log entry as a bundle carries it (``TransparencyLogEntry`` in sigstore_rekor.proto)."""

    log_index: int
    log_id: bytes
    kind: str
    version: str
    canonicalized_body: bytes
    integrated_time: int | None = None
    inclusion_promise: bytes | None = None
    inclusion_proof: InclusionProof | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logIndex": str(self.log_index),
            "logId": {"keyId": _e(self.log_id)},
            "kindVersion": {"kind": self.kind, "version": self.version},
        }
        if self.integrated_time is not None:
            out["integratedTime"] = str(self.integrated_time)
        if self.inclusion_promise is not None:
            out["inclusionPromise"] = {"signedEntryTimestamp": _e(self.inclusion_promise)}
        if self.inclusion_proof is not None:
            out["inclusionProof"] = self.inclusion_proof.to_dict()
        out["canonicalizedBody"] = _e(self.canonicalized_body)
        return out

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> TransparencyLogEntry:
        doc = _obj(doc, where)
        log_id = _obj(_get(doc, "logId", where), f"{where}.logId")
        kv = _obj(_get(doc, "kindVersion", where), f"{where}.kindVersion")
        kind, version = _get(kv, "kind", f"{where}.kindVersion"), _get(kv, "version", f"{where}.kindVersion")
        if not isinstance(kind, str) or not isinstance(version, str):
            raise BundleFormatError(f"{where}.kindVersion kind and version must be strings")
        itime = _get(doc, "integratedTime", where, required=False)
        promise = _get(doc, "inclusionPromise", where, required=False)
        proof = _get(doc, "inclusionProof", where, required=False)
        set_bytes = None
        if promise is not None:
            p = _obj(promise, f"{where}.inclusionPromise")
            set_bytes = _b64(_get(p, "signedEntryTimestamp", f"{where}.inclusionPromise"),
                             f"{where}.inclusionPromise.signedEntryTimestamp")
        return cls(
            log_index=_int64(_get(doc, "logIndex", where), f"{where}.logIndex"),
            log_id=_b64(_get(log_id, "keyId", f"{where}.logId"), f"{where}.logId.keyId"),
            kind=kind,
            version=version,
            canonicalized_body=_b64(_get(doc, "canonicalizedBody", where), f"{where}.canonicalizedBody"),
            integrated_time=None if itime is None else _int64(itime, f"{where}.integratedTime"),
            inclusion_promise=set_bytes,
            inclusion_proof=None if proof is None else InclusionProof.from_dict(proof, f"{where}.inclusionProof"),
        )


@dataclass
class VerificationMaterial:
    """Key material plus log entries and timestamps.

    Exactly one of `public_key_hint`, `certificate` (DER leaf, v0.3) or
    `certificate_chain` (DER, leaf first, v0.1/v0.2) is set.
    """

    public_key_hint: str | None = None
    certificate: bytes | None = None
    certificate_chain: list[bytes] | None = None
    tlog_entries: list[TransparencyLogEntry] = field(default_factory=list)
    rfc3161_timestamps: list[bytes] = field(default_factory=list)

    @property
    def leaf_certificate(self) -> bytes | None:
        """The signing certificate (DER), wherever the bundle put it."""
        if self.certificate is not None:
            return self.certificate
        if self.certificate_chain:
            return self.certificate_chain[0]
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.public_key_hint is not None:
            out["publicKey"] = {"hint": self.public_key_hint}
        elif self.certificate is not None:
            out["certificate"] = {"rawBytes": _e(self.certificate)}
        elif self.certificate_chain is not None:
            out["x509CertificateChain"] = {"certificates": [{"rawBytes": _e(c)} for c in self.certificate_chain]}
        out["tlogEntries"] = [t.to_dict() for t in self.tlog_entries]
        if self.rfc3161_timestamps:
            out["timestampVerificationData"] = {
                "rfc3161Timestamps": [{"signedTimestamp": _e(t)} for t in self.rfc3161_timestamps]
            }
        return out

    @classmethod
    def from_dict(cls, doc: Any) -> VerificationMaterial:
        where = "verificationMaterial"
        doc = _obj(doc, where)
        present = [k for k in ("publicKey", "x509CertificateChain", "certificate") if _get(doc, k, where, required=False) is not None]
        if len(present) != 1:
            raise BundleFormatError(
                f"{where} must have exactly one of publicKey, x509CertificateChain, certificate; found {present or 'none'}"
            )
        vm = cls()
        kind = present[0]
        value = _obj(_get(doc, kind, where), f"{where}.{kind}")
        if kind == "publicKey":
            hint = _get(value, "hint", f"{where}.publicKey", required=False) or ""
            if not isinstance(hint, str):
                raise BundleFormatError(f"{where}.publicKey.hint must be a string")
            vm.public_key_hint = hint
        elif kind == "certificate":
            vm.certificate = _b64(_get(value, "rawBytes", f"{where}.certificate"), f"{where}.certificate.rawBytes")
            if not vm.certificate:
                raise BundleFormatError(f"{where}.certificate.rawBytes is empty")
        else:
            certs = _get(value, "certificates", f"{where}.x509CertificateChain", required=False) or []
            if not isinstance(certs, list) or not certs:
                raise BundleFormatError(f"{where}.x509CertificateChain.certificates is empty")
            chain = []
            for i, c in enumerate(certs):
                w = f"{where}.x509CertificateChain.certificates[{i}]"
                chain.append(_b64(_get(_obj(c, w), "rawBytes", w), f"{w}.rawBytes"))
            vm.certificate_chain = chain
        entries = _get(doc, "tlogEntries", where, required=False) or []
        if not isinstance(entries, list):
            raise BundleFormatError(f"{where}.tlogEntries must be a list")
        vm.tlog_entries = [TransparencyLogEntry.from_dict(e, f"{where}.tlogEntries[{i}]") for i, e in enumerate(entries)]
        tvd = _get(doc, "timestampVerificationData", where, required=False)
        if tvd is not None:
            tvd = _obj(tvd, f"{where}.timestampVerificationData")
            stamps = _get(tvd, "rfc3161Timestamps", f"{where}.timestampVerificationData", required=False) or []
            if not isinstance(stamps, list):
                raise BundleFormatError(f"{where}.timestampVerificationData.rfc3161Timestamps must be a list")
            for i, s in enumerate(stamps):
                w = f"{where}.timestampVerificationData.rfc3161Timestamps[{i}]"
                vm.rfc3161_timestamps.append(_b64(_get(_obj(s, w), "signedTimestamp", w), f"{w}.signedTimestamp"))
        return vm


@dataclass
class MessageSignature:
    """A signature over an artifact, with the artifact's digest."""

    digest: bytes
    signature: bytes
    algorithm: str = "SHA2_256"

    def to_dict(self) -> dict[str, Any]:
        return {
            "messageDigest": {"algorithm": self.algorithm, "digest": _e(self.digest)},
            "signature": _e(self.signature),
        }

    @classmethod
    def from_dict(cls, doc: Any) -> MessageSignature:
        where = "messageSignature"
        doc = _obj(doc, where)
        sig = _b64(_get(doc, "signature", where), f"{where}.signature")
        md = _get(doc, "messageDigest", where, required=False)
        if md is None:
            return cls(b"", sig, "")
        md = _obj(md, f"{where}.messageDigest")
        alg = _get(md, "algorithm", f"{where}.messageDigest")
        if not isinstance(alg, str):
            raise BundleFormatError(f"{where}.messageDigest.algorithm must be a string")
        return cls(_b64(_get(md, "digest", f"{where}.messageDigest"), f"{where}.messageDigest.digest"), sig, alg)


Content = Union[MessageSignature, Envelope]


@dataclass
class Bundle:
    """A Sigstore bundle."""

    media_type: str
    verification_material: VerificationMaterial
    content: Content

    @property
    def version(self) -> tuple[int, int]:
        """(major, minor) of the bundle format."""
        return BUNDLE_MEDIA_TYPES[self.media_type]

    @property
    def message_signature(self) -> MessageSignature | None:
        return self.content if isinstance(self.content, MessageSignature) else None

    @property
    def dsse_envelope(self) -> Envelope | None:
        return self.content if isinstance(self.content, Envelope) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "verificationMaterial": self.verification_material.to_dict(),
        }
        if isinstance(self.content, MessageSignature):
            out["messageSignature"] = self.content.to_dict()
        else:
            env = self.content.to_dict()
            for s in env["signatures"]:
                if not s["keyid"]:
                    del s["keyid"]  # proto3 JSON omits default (empty) strings
            out["dsseEnvelope"] = env
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise in the protobuf JSON mapping."""
        if indent is None:
            return json.dumps(self.to_dict(), separators=(",", ":"))
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, doc: Any) -> Bundle:
        """Build from parsed JSON; raises `BundleFormatError` on anything malformed."""
        doc = _obj(doc, "bundle")
        media_type = _get(doc, "mediaType", "bundle")
        if media_type not in BUNDLE_MEDIA_TYPES:
            raise BundleFormatError(
                f"unsupported bundle media type {media_type!r}",
                details={"supported": ", ".join(BUNDLE_MEDIA_TYPES)},
            )
        vm = VerificationMaterial.from_dict(_get(doc, "verificationMaterial", "bundle"))
        ms = _get(doc, "messageSignature", "bundle", required=False)
        env = _get(doc, "dsseEnvelope", "bundle", required=False)
        if (ms is None) == (env is None):
            raise BundleFormatError("bundle must have exactly one of messageSignature and dsseEnvelope")
        content: Content
        if ms is not None:
            content = MessageSignature.from_dict(ms)
        else:
            try:
                content = Envelope.from_dict(env)
            except PayloadError as exc:
                raise BundleFormatError(f"dsseEnvelope: {exc.message}") from None
        return cls(media_type, vm, content)

    @classmethod
    def from_json(cls, data: bytes | str) -> Bundle:
        """Parse bundle JSON text."""
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleFormatError(f"bundle is not valid JSON: {exc}") from None
        except RecursionError:
            raise BundleFormatError("bundle JSON is nested too deeply") from None
        return cls.from_dict(doc)
