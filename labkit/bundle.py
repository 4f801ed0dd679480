"""The Sigstore bundle (protobuf-specs ``sigstore_bundle.proto``, JSON mapping).

A bundle carries everything needed to verify one signature offline: the
verification material (a public-key hint, a certificate or a chain), the
transparency-log entries with their proofs and promises, optional RFC 3161
timestamps, and the content (a message signature or a DSSE envelope).

JSON follows the proto3 JSON mapping: camelCase field names, int64 as
strings, bytes as standard base64. `Bundle.from_json` reads it strictly with
`labkit._internal.protojson` (proto names accepted, duplicates, NaN, bad
int64 text, objects for lists and unknown enum names refused); anything
malformed, or content its declared version forbids (`check_version_rules`),
raises `BundleFormatError` naming the field or rule; semantic checks (does
the proof verify?) belong to `labkit.verify`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit._internal import protojson
from labkit._internal.jsonio import JSONValue
from labkit._internal.protojson import HASH_ALGORITHM, Message
from labkit.analyst.wrappers import unwrap_one
from labkit.errors import BundleFormatError
from labkit.payloads import Envelope, EnvelopeSignature

if TYPE_CHECKING:
    from labkit.keys import VerifyingKey

__all__ = [
    "BUNDLE_MEDIA_TYPES", "BUNDLE_V01_MEDIA_TYPE", "BUNDLE_V03_MEDIA_TYPE", "Bundle", "InclusionProof",
    "MessageSignature", "TransparencyLogEntry", "VerificationMaterial", "check_version_rules", "public_key_hint",
]

BUNDLE_V01_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.1"
BUNDLE_V02_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.2"
_BUNDLE_V03_LEGACY_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.3"
BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

#: Every accepted media type and the bundle version it names.
BUNDLE_MEDIA_TYPES: dict[str, tuple[int, int]] = {
    BUNDLE_V01_MEDIA_TYPE: (0, 1),
    BUNDLE_V02_MEDIA_TYPE: (0, 2),
    _BUNDLE_V03_LEGACY_MEDIA_TYPE: (0, 3),
    BUNDLE_V03_MEDIA_TYPE: (0, 3),
}

#: Largest bundle text read (a DSSE attestation may carry a large predicate, e.g. an SBOM).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


# -- proto3 JSON reading -----------------------------------------------------------------------


def _message(doc: JSONValue, where: str) -> Message:
    return Message(doc, where, BundleFormatError)


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
        """The proof as protobuf-JSON."""
        return {
            "logIndex": str(self.log_index),
            "rootHash": _e(self.root_hash),
            "treeSize": str(self.tree_size),
            "hashes": [_e(h) for h in self.hashes],
            **({"checkpoint": {"envelope": self.checkpoint}} if self.checkpoint else {}),
        }

    @classmethod
    def from_dict(cls, doc: JSONValue, where: str) -> InclusionProof:
        """Parse a protobuf-JSON inclusion proof (`where` names it in errors)."""
        m = _message(doc, where)
        # v0.1 bundles may lack the checkpoint; the verifier decides whether one is required.
        cp = m.optional_message("checkpoint")
        return cls(
            log_index=m.int64("logIndex", required=True, minimum=0),
            root_hash=m.binary("rootHash", required=True),
            tree_size=m.int64("treeSize", required=True, minimum=0),
            hashes=m.each("hashes", m.read_bytes),
            checkpoint="" if cp is None else cp.string("envelope", required=True),
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
        """The entry as protobuf-JSON."""
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
    def from_dict(cls, doc: JSONValue, where: str) -> TransparencyLogEntry:
        """Parse a protobuf-JSON log entry (`where` names it in errors)."""
        m = _message(doc, where)
        kv = m.message("kindVersion")
        promise = m.optional_message("inclusionPromise")
        proof = m.raw("inclusionProof")
        return cls(
            log_index=m.int64("logIndex", required=True, minimum=0),
            log_id=m.message("logId").binary("keyId", required=True),
            kind=kv.string("kind", required=True),
            version=kv.string("version", required=True),
            canonicalized_body=m.binary("canonicalizedBody", required=True),
            integrated_time=m.int64("integratedTime", minimum=0) if m.has("integratedTime") else None,
            inclusion_promise=None if promise is None else promise.binary("signedEntryTimestamp", required=True),
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
        """The material as protobuf-JSON."""
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
    def from_dict(cls, doc: JSONValue) -> VerificationMaterial:
        """Parse protobuf-JSON verification material (exactly one of key hint or certificates)."""
        m = _message(doc, "verificationMaterial")
        present = [k for k in ("publicKey", "x509CertificateChain", "certificate") if m.has(k)]
        if len(present) != 1:
            raise BundleFormatError(
                f"{m.where} must have exactly one of publicKey, x509CertificateChain, certificate; "
                f"found {present or 'none'}"
            )
        vm = cls()
        kind = present[0]
        value = m.message(kind)
        if kind == "publicKey":
            vm.public_key_hint = value.string("hint")
        elif kind == "certificate":
            vm.certificate = value.binary("rawBytes", required=True)
            if not vm.certificate:
                raise BundleFormatError(f"{value.where}.rawBytes is empty")
        else:
            certs = value.messages("certificates")
            if not certs:
                raise BundleFormatError(f"{value.where}.certificates is empty")
            vm.certificate_chain = [c.binary("rawBytes", required=True) for c in certs]
        vm.tlog_entries = [
            TransparencyLogEntry.from_dict(e, f"{m.where}.tlogEntries[{i}]")
            for i, e in enumerate(m.repeated("tlogEntries"))
        ]
        tvd = m.optional_message("timestampVerificationData")
        if tvd is not None:
            stamps = tvd.messages("rfc3161Timestamps")
            vm.rfc3161_timestamps = [s.binary("signedTimestamp", required=True) for s in stamps]
        return vm


@dataclass
class MessageSignature:
    """A signature over an artifact, with the artifact's digest."""

    digest: bytes
    signature: bytes
    algorithm: str = "SHA2_256"

    def to_dict(self) -> dict[str, Any]:
        """The message signature as protobuf-JSON."""
        return {
            "messageDigest": {"algorithm": self.algorithm, "digest": _e(self.digest)},
            "signature": _e(self.signature),
        }

    @classmethod
    def from_dict(cls, doc: JSONValue) -> MessageSignature:
        """Parse a protobuf-JSON message signature."""
        m = _message(doc, "messageSignature")
        sig = m.binary("signature", required=True)
        md = m.optional_message("messageDigest")
        if md is None:
            return cls(b"", sig, "")
        alg = HASH_ALGORITHM.read(md.raw("algorithm", required=True), f"{md.where}.algorithm", BundleFormatError)
        return cls(md.binary("digest", required=True), sig, alg)


Content = MessageSignature | Envelope


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
        """The content when it is a message signature, else None."""
        return self.content if isinstance(self.content, MessageSignature) else None

    @property
    def dsse_envelope(self) -> Envelope | None:
        """The content when it is a DSSE envelope, else None."""
        return self.content if isinstance(self.content, Envelope) else None

    def to_dict(self) -> dict[str, Any]:
        """The bundle as protobuf-JSON."""
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
    def from_dict(cls, doc: JSONValue) -> Bundle:
        """Build from parsed JSON; raises `BundleFormatError` on anything malformed.

        A PEP 740 attestation or an npm attestation response holding one bundle is read as that bundle
        (`labkit.analyst.wrappers`); anything else that is no bundle is refused saying what it is.
        """
        m = _message(unwrap_one(doc), "bundle")
        media_type = m.raw("mediaType", required=True)
        if not isinstance(media_type, str) or media_type not in BUNDLE_MEDIA_TYPES:
            raise BundleFormatError(
                f"unsupported bundle media type {media_type!r}",
                details={"supported": ", ".join(BUNDLE_MEDIA_TYPES)},
            )
        vm = VerificationMaterial.from_dict(m.raw("verificationMaterial", required=True))
        if m.has("messageSignature") == m.has("dsseEnvelope"):
            raise BundleFormatError("bundle must have exactly one of messageSignature and dsseEnvelope")
        content: Content
        if m.has("messageSignature"):
            content = MessageSignature.from_dict(m.raw("messageSignature"))
        else:
            content = _envelope(m.message("dsseEnvelope"))
        bundle = cls(media_type, vm, content)
        check_version_rules(bundle)
        return bundle

    @classmethod
    def from_json(cls, data: bytes | str) -> Bundle:
        """Parse bundle JSON text (strict proto3 JSON, see `labkit._internal.protojson`)."""
        doc = protojson.loads(data, what="bundle", error=BundleFormatError, max_bytes=MAX_BUNDLE_BYTES)
        return cls.from_dict(doc)


def _envelope(m: Message) -> Envelope:
    """``io.intoto.Envelope`` (DSSE) in a bundle: payload, payloadType, signatures (sig, keyid)."""
    payload_type = m.string("payloadType")
    if not payload_type:
        raise BundleFormatError(f"{m.where}.payloadType is missing")
    payload = m.binary("payload", required=True)
    if not m.has("signatures"):
        raise BundleFormatError(f"{m.where}.signatures is missing")
    sigs = [EnvelopeSignature(s.binary("sig", required=True), s.string("keyid")) for s in m.messages("signatures")]
    return Envelope(payload, payload_type, sigs)


# -- what each bundle version requires and forbids ---------------------------------------------------

#: (applies to these versions, rule text, does the bundle break it?) from protobuf-specs sigstore_bundle.proto
#: (VerificationMaterial forms 2 and 3) and sigstore_rekor.proto (TransparencyLogEntry.inclusion_promise), as
#: sigstore-go and sigstore-python apply them. v0.2 and later require an inclusion proof with a checkpoint in
#: every entry; labkit's verifier requires those of every version (reasons tlog.inclusion_proof.missing and
#: tlog.checkpoint.missing), so that rule is left to it.
_VERSION_RULES: tuple[tuple[Callable[[tuple[int, int]], bool], str, Callable[[VerificationMaterial], bool]], ...] = (
    (lambda v: v < (0, 3),
     "carries its signing certificate in x509CertificateChain; the single `certificate` form exists from v0.3 on",
     lambda vm: vm.certificate is not None),
    (lambda v: v >= (0, 3),
     "carries its signing certificate as a single `certificate`, never an x509CertificateChain",
     lambda vm: vm.certificate_chain is not None),
    (lambda v: v == (0, 1),
     "requires an inclusion promise (signed entry timestamp) in every transparency log entry",
     lambda vm: any(e.inclusion_promise is None for e in vm.tlog_entries)),
)


def check_version_rules(bundle: Bundle) -> None:
    """Refuse a bundle whose content contradicts its declared version (`BundleFormatError` naming the rule)."""
    version = bundle.version
    for applies, rule, broken in _VERSION_RULES:
        if applies(version) and broken(bundle.verification_material):
            raise BundleFormatError(
                f"the bundle says version {version[0]}.{version[1]} ({bundle.media_type}), but a "
                f"v{version[0]}.{version[1]} bundle {rule}",
                details={"mediaType": bundle.media_type, "rule": rule},
            )


def public_key_hint(key: VerifyingKey) -> str:
    """The bundle's ``publicKey.hint``: standard base64 of SHA-256 over the DER SubjectPublicKeyInfo."""
    return base64.b64encode(key.key_id()).decode("ascii")
