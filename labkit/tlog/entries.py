"""Rekor v1 entries: canonical bodies, signed entry timestamps, and the entry record.

Bodies are the bytes Rekor v1 logs: the entry type's JSON, canonicalised with
RFC 8785 (JCS) as Rekor's ``types.CanonicalizeEntry`` does. Two kinds are
supported, each at version 0.0.1:

* ``hashedrekord``: ``{"apiVersion","kind","spec":{"data":{"hash":{"algorithm","value"}},
  "signature":{"content","publicKey":{"content"}}}}`` with the signature and
  the PEM key or certificate base64-encoded, the digest in lowercase hex.
* ``dsse``: ``{"apiVersion","kind","spec":{"envelopeHash","payloadHash","signatures":[{"signature","verifier"}]}}``
  with signatures sorted by their base64 text.

The signed entry timestamp (SET, the "inclusion promise") is the log's
signature over the JCS form of ``{body, integratedTime, logID, logIndex}``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal import jsonio
from labkit._internal.encoding import b64decode_field
from labkit._internal.jsonio import JSONValue, JSONWritable
from labkit.bundle import InclusionProof, TransparencyLogEntry
from labkit.checks import Recorder, StepTable
from labkit.errors import LabkitError, LogError, ProofError, VerificationError
from labkit.keys import SigningKey, VerifyingKey, load_public_key
from labkit.tlog import merkle
from labkit.tlog.checkpoint import SignedNote
from labkit.tlog.checks import LogCheck

if TYPE_CHECKING:
    from labkit.bundle import TransparencyLogEntry

__all__ = [
    "EntryProof", "LogEntry", "dsse_body", "hashedrekord_body", "parse_body", "set_payload", "sign_set", "verify_set",
]

_T = TypeVar("_T")

#: Rekor's search grammar for artifact digests (``[alg:]hex`` of the algorithm's length).
_SEARCH_HASH = re.compile(
    r"(?:(sha256):)?([0-9a-f]{64})|(sha384):([0-9a-f]{96})|(sha512):([0-9a-f]{128})|(sha1):([0-9a-f]{40})"
)


def search_hash(value: str) -> str:
    """``alg:hex`` for an artifact digest (``sha256:<hex>``, bare 64 hex, sha384/sha512/sha1), else `LogError`."""
    m = _SEARCH_HASH.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if m is None:
        raise LogError(f"not an artifact digest: {value!r}",
                       hint="Give sha256:<64 hex digits> (or sha384:/sha512:/sha1: with their lengths).")
    alg, hexdigest = next((m.group(i) or "sha256", m.group(i + 1)) for i in (1, 3, 5, 7) if m.group(i + 1))
    return f"{alg}:{hexdigest}"


#: Entry kinds and versions this log accepts.
_KINDS = {"hashedrekord": ("0.0.1",), "dsse": ("0.0.1",)}
#: Largest entry body or DSSE envelope parsed (bounded, depth-limited JSON via `labkit._internal.jsonio`).
MAX_BODY_BYTES = 64 * 1024 * 1024
_HASH_LEN = {"sha256": 32, "sha384": 48, "sha512": 64}
_SPEC_SET = "Rekor v1 signEntry; RFC 8785"

#: The checks `explain_entry` makes, in order: id -> (title, spec).
ENTRY_STEPS: StepTable = {
    "tlog.body": ("The body is a canonical entry of a known kind", "Rekor v1 types"),
    "tlog.log_id": ("The log ID is SHA-256 of the log key's SPKI", "Rekor v1 log ID"),
    "tlog.set": ("The signed entry timestamp verifies", _SPEC_SET),
    "tlog.inclusion_proof": ("The inclusion proof leads to the root", "RFC 9162 §2.1.3.2"),
    "tlog.checkpoint": ("The checkpoint commits to the proof's size and root", "C2SP tlog-checkpoint"),
}


_MAX_SAFE_INT = (1 << 53) - 1


def _plain(value: JSONWritable) -> bool:
    """True when `json.dumps(sort_keys=True, compact)` is exactly RFC 8785 for `value`.

    That holds without floats (JCS uses ECMAScript number formatting), with
    integers JCS accepts (|n| < 2^53), and with ASCII keys (JCS sorts by UTF-16
    code units, Python by code points; they agree on ASCII). String escaping
    is the same in both: the b, t, n, f, r escapes, other controls as lowercase u00xx.
    """
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return False


def canonical_json(value: JSONWritable) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value."""
    try:
        if _plain(value):
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return bytes(rfc8785.dumps(value))
    except Exception as exc:  # rfc8785 raises its own error types; lone surrogates fail to encode
        raise LogError(f"value cannot be canonicalised as RFC 8785 JSON: {exc}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: JSONValue, what: str) -> bytes:
    return b64decode_field(value, what, LogError, urlsafe=False)


def _public_key_of(pem: bytes) -> tuple[VerifyingKey, x509.Certificate | None]:
    """The verifying key in a PEM public key or certificate, and the certificate if it is one."""
    if b"-----BEGIN CERTIFICATE-----" in pem:
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise LogError(f"certificate does not parse: {exc}") from None
        try:
            return VerifyingKey.from_key(cert.public_key()), cert  # type: ignore[arg-type]
        except LabkitError as exc:
            raise LogError(f"certificate key is not supported: {exc.message}") from None
    try:
        return load_public_key(pem), None
    except LabkitError as exc:
        raise LogError(f"public key does not parse: {exc.message}") from None


@functools.lru_cache(maxsize=256)
def _canonical_pem(pem: bytes) -> bytes:
    """Rekor's canonical form of a key or certificate: re-encoded PEM."""
    key, cert = _public_key_of(pem)
    if cert is not None:
        return cert.public_bytes(serialization.Encoding.PEM)
    return key.pem()


def _subjects(cert: x509.Certificate | None) -> list[str]:
    if cert is None:
        return []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = [str(v).lower() for v in san.get_values_for_type(x509.RFC822Name)]
    out += [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return out


def hashedrekord_body(
    signature: bytes,
    public_key_or_cert_pem: bytes,
    artifact_digest: bytes | str,
    *,
    algorithm: str = "sha256",
) -> bytes:
    """The canonical hashedrekord v0.0.1 body (rekor ``pkg/types/hashedrekord``)."""
    digest_hex = artifact_digest.hex() if isinstance(artifact_digest, bytes) else artifact_digest.lower()
    if digest_hex.startswith(f"{algorithm}:"):
        digest_hex = digest_hex.split(":", 1)[1]
    body: JSONWritable = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": digest_hex}},
            "signature": {"content": _b64(signature), "publicKey": {"content": _b64(public_key_or_cert_pem)}},
        },
    }
    out = canonical_json(body)
    parse_body(out)
    return out


def _pae(payload_type: str, payload: bytes) -> bytes:
    # DSSE v1 pre-authentication encoding (secure-systems-lab/dsse protocol.md).
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def dsse_body(envelope_json: bytes | str, verifiers: Sequence[bytes]) -> bytes:
    """The canonical dsse v0.0.1 body for an envelope and the PEM keys/certs that signed it.

    As Rekor does on insert, every signature must verify with one of
    `verifiers`; signatures are sorted by their base64 text.
    """
    raw = envelope_json.encode() if isinstance(envelope_json, str) else bytes(envelope_json)
    env = jsonio.loads(raw, what="DSSE envelope", error=LogError, max_bytes=MAX_BODY_BYTES, reject_duplicate_keys=True)
    if not isinstance(env, dict) or not isinstance(env.get("payloadType"), str):
        raise LogError("DSSE envelope needs payload, payloadType and signatures")
    payload = _unb64(env.get("payload"), "DSSE payload")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise LogError("DSSE envelope has no signatures")
    keys = [(pem, _public_key_of(pem)[0]) for pem in verifiers]
    if not keys:
        raise LogError("a dsse entry needs at least one verifier (public key or certificate)")
    pae = _pae(str(env["payloadType"]), payload)
    items: list[dict[str, str]] = []
    for s in sigs:
        if not isinstance(s, dict):
            raise LogError("DSSE signature must be an object")
        sig_b64 = s.get("sig")
        sig = _unb64(sig_b64, "DSSE signature")
        match = None
        for pem, key in keys:
            try:
                key.verify(sig, pae)
                match = pem
                break
            except LabkitError:
                continue
        if match is None:
            raise LogError("a DSSE signature does not verify with any of the given verifiers")
        items.append({"signature": str(sig_b64), "verifier": _b64(_canonical_pem(match))})
    items.sort(key=lambda i: i["signature"])
    body: JSONWritable = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(raw).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": items,
        },
    }
    return canonical_json(body)


@dataclass(frozen=True)
class EntryBody:
    """A parsed, validated entry body and the search keys it is indexed under."""

    kind: str
    version: str
    spec: dict[str, Any]
    index_keys: tuple[str, ...]

    @property
    def artifact_digest(self) -> str | None:
        """``alg:hex`` of the signed artifact (hashedrekord) or DSSE payload."""
        if self.kind == "hashedrekord":
            h = self.spec["data"]["hash"]
            return f"{h['algorithm']}:{h['value']}"
        h = self.spec["payloadHash"]
        return f"{h['algorithm']}:{h['value']}"

    def signatures(self) -> list[tuple[bytes, bytes]]:
        """(signature bytes, PEM key or certificate) pairs in the body."""
        if self.kind == "hashedrekord":
            sig = self.spec["signature"]
            return [(base64.b64decode(sig["content"]), base64.b64decode(sig["publicKey"]["content"]))]
        return [(base64.b64decode(s["signature"]), base64.b64decode(s["verifier"])) for s in self.spec["signatures"]]


def _want(obj: JSONValue, key: str, typ: type[_T], where: str) -> _T:
    if not isinstance(obj, dict) or key not in obj:
        raise LogError(f"entry body is missing {where}.{key}")
    value = obj[key]
    if not isinstance(value, typ):
        raise LogError(f"entry body field {where}.{key} must be a {typ.__name__}")
    return value


def _check_hash(h: JSONValue, where: str) -> str:
    alg = _want(h, "algorithm", str, where)
    value = _want(h, "value", str, where)
    if alg not in _HASH_LEN:
        raise LogError(f"{where}.algorithm {alg!r} is not one of {', '.join(_HASH_LEN)}")
    if len(value) != 2 * _HASH_LEN[alg] or any(c not in "0123456789abcdef" for c in value):
        raise LogError(f"{where}.value must be {2 * _HASH_LEN[alg]} lowercase hex digits for {alg}")
    return f"{alg}:{value}"


@functools.lru_cache(maxsize=256)
def _key_index(pem: bytes) -> tuple[str, ...]:
    canon = _canonical_pem(pem)
    _, cert = _public_key_of(pem)
    return ("sha256:" + hashlib.sha256(canon).hexdigest(), *_subjects(cert))


def parse_body(body: bytes) -> EntryBody:
    """Parse and validate a canonical entry body; refuses unknown kinds and non-canonical bytes."""
    if not isinstance(body, (bytes, bytearray)):
        raise LogError("entry body must be bytes")
    value = jsonio.loads(bytes(body), what="entry body", error=LogError, max_bytes=MAX_BODY_BYTES)
    if not isinstance(value, dict):
        raise LogError("entry body must be a JSON object")
    kind = _want(value, "kind", str, "body")
    version = _want(value, "apiVersion", str, "body")
    if kind not in _KINDS:
        raise LogError(f"unknown entry kind {kind!r}; this log accepts {', '.join(sorted(_KINDS))}")
    if version not in _KINDS[kind]:
        raise LogError(f"unsupported {kind} version {version!r}; this log accepts {', '.join(_KINDS[kind])}")
    # Rekor logs the RFC 8785 form; any other serialisation would hash to a different leaf.
    if canonical_json(value) != bytes(body):
        raise LogError(
            "entry body is not in canonical (RFC 8785) form", details={"canonical": canonical_json(value).decode()}
        )
    spec = _want(value, "spec", dict, "body")
    keys: list[str] = []
    if kind == "hashedrekord":
        if set(spec) != {"data", "signature"}:
            raise LogError("hashedrekord spec must have exactly data and signature")
        data = _want(spec, "data", dict, "spec")
        if set(data) != {"hash"}:
            raise LogError("hashedrekord spec.data must hold only hash (the canonical form drops content)")
        keys.append(_check_hash(_want(data, "hash", dict, "spec.data"), "spec.data.hash"))
        sig = _want(spec, "signature", dict, "spec")
        _unb64(_want(sig, "content", str, "spec.signature"), "spec.signature.content")
        pk = _want(sig, "publicKey", dict, "spec.signature")
        pem = _unb64(_want(pk, "content", str, "spec.signature.publicKey"), "spec.signature.publicKey.content")
        keys += _key_index(pem)
    else:
        if set(spec) != {"envelopeHash", "payloadHash", "signatures"}:
            raise LogError("dsse spec must have exactly envelopeHash, payloadHash and signatures")
        keys.append(_check_hash(_want(spec, "payloadHash", dict, "spec"), "spec.payloadHash"))
        keys.append(_check_hash(_want(spec, "envelopeHash", dict, "spec"), "spec.envelopeHash"))
        sigs = _want(spec, "signatures", list, "spec")
        if not sigs:
            raise LogError("dsse spec.signatures is empty")
        for s in sigs:
            _unb64(_want(s, "signature", str, "spec.signatures[]"), "dsse signature")
            keys += _key_index(_unb64(_want(s, "verifier", str, "spec.signatures[]"), "dsse verifier"))
        if [s["signature"] for s in sigs] != sorted(s["signature"] for s in sigs):
            raise LogError("dsse signatures must be sorted by signature (Rekor canonical form)")
    return EntryBody(kind, version, spec, tuple(dict.fromkeys(keys)))


def verify_body_signature(body: EntryBody) -> None:
    """Check, as Rekor does on insert, that a hashedrekord signature verifies over its digest."""
    if body.kind != "hashedrekord":
        return
    (sig, pem), = body.signatures()
    key, _ = _public_key_of(pem)
    if key.algorithm.value == "ed25519":
        # Rekor v1 sees only the digest; pure Ed25519 signs the whole message, so it cannot be checked.
        raise LogError(
            "hashedrekord cannot carry a pure Ed25519 signature: the log sees only the digest",
            hint="Sign with ECDSA (the cosign default) or log the signature as a dsse entry.",
        )
    h = body.spec["data"]["hash"]
    try:
        key.verify_digest(sig, bytes.fromhex(h["value"]), h["algorithm"])
    except LabkitError:
        raise LogError("hashedrekord signature does not verify over the artifact digest with the given key") from None


def proposed_to_body(proposed: Mapping[str, Any]) -> bytes:
    """Turn a Rekor API proposed entry (``{kind, apiVersion, spec}``) into a canonical, verified body."""
    if not isinstance(proposed, Mapping):
        raise LogError("proposed entry must be a JSON object")
    kind = proposed.get("kind")
    version = proposed.get("apiVersion")
    if kind not in _KINDS:
        raise LogError(f"unknown entry kind {kind!r}; this log accepts {', '.join(sorted(_KINDS))}")
    if version not in _KINDS[str(kind)]:
        raise LogError(f"unsupported {kind} version {version!r}")
    spec = proposed.get("spec")
    if not isinstance(spec, dict):
        raise LogError("proposed entry has no spec object")
    if kind == "hashedrekord":
        value = {"apiVersion": version, "kind": kind, "spec": spec}
        body = canonical_json(value)
        parsed = parse_body(body)
        verify_body_signature(parsed)
        return body
    content = spec.get("proposedContent")
    if not isinstance(content, dict) or set(spec) != {"proposedContent"}:
        raise LogError("a proposed dsse entry carries only spec.proposedContent {envelope, verifiers}")
    envelope = content.get("envelope")
    verifiers = content.get("verifiers")
    if not isinstance(envelope, str) or not isinstance(verifiers, list):
        raise LogError("spec.proposedContent needs envelope (a JSON string) and verifiers (base64 PEM list)")
    return dsse_body(envelope, [_unb64(v, "dsse verifier") for v in verifiers])


def entry_uuid(body: bytes) -> str:
    """Rekor entry UUID: hex of the RFC 6962 leaf hash of the body."""
    return merkle.leaf_hash(body).hex()


def set_payload(body: bytes, integrated_time: int, log_id_hex: str, log_index: int) -> bytes:
    """What a signed entry timestamp signs: JCS of {body, integratedTime, logID, logIndex}."""
    return canonical_json(
        {"body": _b64(body), "integratedTime": int(integrated_time), "logID": log_id_hex, "logIndex": int(log_index)}
    )


def sign_set(key: SigningKey, body: bytes, integrated_time: int, log_id_hex: str, log_index: int) -> bytes:
    """Sign an entry timestamp (DER ECDSA for Rekor's P-256 key)."""
    return key.sign(set_payload(body, integrated_time, log_id_hex, log_index))


def verify_set(
    key: VerifyingKey, signature: bytes, body: bytes, integrated_time: int, log_id_hex: str, log_index: int
) -> None:
    """Raise `VerificationError` (step ``tlog.set``) unless the SET verifies."""
    try:
        key.verify(signature, set_payload(body, integrated_time, log_id_hex, log_index))
    except VerificationError:
        raise VerificationError(
            "signed entry timestamp does not verify with the log key", step="tlog.set", reason="tlog.set"
        ) from None


@dataclass(frozen=True)
class EntryProof:
    """An inclusion proof as Rekor returns it with an entry."""

    log_index: int
    tree_size: int
    root_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str

    def to_api(self) -> dict[str, Any]:
        """Rekor v1 JSON: hex hashes, the checkpoint as signed-note text."""
        return {
            "checkpoint": self.checkpoint,
            "hashes": [h.hex() for h in self.hashes],
            "logIndex": self.log_index,
            "rootHash": self.root_hash.hex(),
            "treeSize": self.tree_size,
        }

    @classmethod
    def from_api(cls, data: JSONValue) -> EntryProof:
        """Parse Rekor v1 JSON."""
        doc: Any = data  # read by shape: a wrong shape is the KeyError/TypeError/ValueError caught below
        try:
            return cls(
                int(doc["logIndex"]), int(doc["treeSize"]), bytes.fromhex(doc["rootHash"]),
                tuple(bytes.fromhex(h) for h in doc["hashes"]), str(doc.get("checkpoint", "")),
            )
        except (KeyError, TypeError, ValueError):
            raise LogError("inclusion proof JSON is malformed") from None


@dataclass(frozen=True)
class LogEntry:
    """One logged entry: body, position, time, the log's promise and (optionally) a proof."""

    log_index: int
    body: bytes
    integrated_time: int
    log_id: bytes
    signed_entry_timestamp: bytes
    inclusion_proof: EntryProof | None = None
    tree_id: int | None = None

    @property
    def uuid(self) -> str:
        """Hex leaf hash of the body."""
        return entry_uuid(self.body)

    @property
    def entry_id(self) -> str:
        """Rekor's long entry ID: 16-hex tree ID then the UUID (the UUID alone without a tree ID)."""
        return (f"{self.tree_id:016x}" if self.tree_id is not None else "") + self.uuid

    @property
    def parsed(self) -> EntryBody:
        """The parsed body."""
        return parse_body(self.body)

    @property
    def kind(self) -> str:
        """The entry's kind (e.g. ``hashedrekord``)."""
        return self.parsed.kind

    @property
    def version(self) -> str:
        """The entry's kind version (e.g. ``0.0.1``)."""
        return self.parsed.version

    def to_api(self) -> dict[str, Any]:
        """Rekor v1 ``LogEntryAnon`` JSON."""
        verification: dict[str, Any] = {"signedEntryTimestamp": _b64(self.signed_entry_timestamp)}
        if self.inclusion_proof is not None:
            verification["inclusionProof"] = self.inclusion_proof.to_api()
        return {
            "body": _b64(self.body),
            "integratedTime": self.integrated_time,
            "logID": self.log_id.hex(),
            "logIndex": self.log_index,
            "verification": verification,
        }

    @classmethod
    def from_api(cls, data: JSONValue, tree_id: int | None = None) -> LogEntry:
        """Parse Rekor v1 ``LogEntryAnon`` JSON (as the server returns it)."""
        if not isinstance(data, dict):
            raise LogError("log entry JSON must be an object")
        doc: Any = data  # read by shape: a wrong shape is the KeyError/TypeError/ValueError caught below
        try:
            ver = doc.get("verification") or {}
            proof = ver.get("inclusionProof")
            return cls(
                log_index=int(doc["logIndex"]),
                body=_unb64(doc["body"], "entry body"),
                integrated_time=int(doc["integratedTime"]),
                log_id=bytes.fromhex(doc["logID"]),
                signed_entry_timestamp=_unb64(ver.get("signedEntryTimestamp", ""), "signedEntryTimestamp"),
                inclusion_proof=EntryProof.from_api(proof) if proof else None,
                tree_id=tree_id,
            )
        except (KeyError, TypeError, ValueError):
            raise LogError("log entry JSON is malformed") from None

    def rekor_bundle(self) -> dict[str, Any]:
        """cosign's legacy ``dev.sigstore.cosign/bundle`` annotation value (a dict; dump it as JSON)."""
        return {
            "SignedEntryTimestamp": _b64(self.signed_entry_timestamp),
            "Payload": {
                "body": _b64(self.body),
                "integratedTime": self.integrated_time,
                "logIndex": self.log_index,
                "logID": self.log_id.hex(),
            },
        }

    def to_bundle_entry(self) -> TransparencyLogEntry:
        """The entry as a Sigstore bundle ``TransparencyLogEntry`` (protobuf-specs sigstore_rekor.proto)."""
        parsed = self.parsed
        proof = None
        if self.inclusion_proof is not None:
            p = self.inclusion_proof
            proof = InclusionProof(
                log_index=p.log_index, root_hash=p.root_hash, tree_size=p.tree_size,
                hashes=list(p.hashes), checkpoint=p.checkpoint,
            )
        return TransparencyLogEntry(
            log_index=self.log_index,
            log_id=self.log_id,
            kind=parsed.kind,
            version=parsed.version,
            canonicalized_body=self.body,
            integrated_time=self.integrated_time,
            inclusion_promise=self.signed_entry_timestamp,
            inclusion_proof=proof,
        )

    def explain(self, log_key: VerifyingKey) -> LogCheck:
        """Check body, SET and inclusion proof step by step; never raises on bad input."""
        return explain_entry(self, log_key)


def explain_entry(entry: LogEntry, log_key: VerifyingKey) -> LogCheck:
    """Check a log entry against the log key: body, log ID, SET, inclusion proof, checkpoint root."""
    run = Recorder(LogCheck("transparency log entry"), ENTRY_STEPS)
    try:
        parse_body(entry.body)
        run.passed("tlog.body", "", "canonical", "canonical")
    except LabkitError as exc:
        run.record("tlog.body", False, expected="canonical", actual=exc.message)
    log_id = log_key.key_id()
    run.record("tlog.log_id", entry.log_id == log_id, expected=log_id.hex(), actual=entry.log_id.hex())
    try:
        verify_set(
            log_key,
            entry.signed_entry_timestamp,
            entry.body,
            entry.integrated_time,
            entry.log_id.hex(),
            entry.log_index,
        )
        ok, actual = True, "valid"
    except LabkitError as exc:
        ok, actual = False, exc.message
    run.record("tlog.set", ok, expected="valid", actual=actual)
    p = entry.inclusion_proof
    if p is None:
        run.skip("tlog.inclusion_proof", "no proof")
        return run.result
    try:
        merkle.verify_inclusion(p.log_index, p.tree_size, merkle.leaf_hash(entry.body), list(p.hashes), p.root_hash)
        ok, actual = True, p.root_hash.hex()
    except ProofError as exc:
        ok, actual = False, exc.message
    run.record("tlog.inclusion_proof", ok, expected=p.root_hash.hex(), actual=actual)
    if p.checkpoint:
        try:
            ck = SignedNote.parse(p.checkpoint).checkpoint()
            ok = ck.size == p.tree_size and ck.root_hash == p.root_hash
            actual = f"size {ck.size} root {ck.root_hash.hex()}"
        except LabkitError as exc:
            ok, actual = False, exc.message
        run.record("tlog.checkpoint", ok, expected=f"size {p.tree_size} root {p.root_hash.hex()}", actual=actual)
    return run.result


def verify_entry(entry: LogEntry, log_key: VerifyingKey) -> None:
    """Raise `VerificationError` naming the first failed step of `explain_entry`."""
    explain_entry(entry, log_key).raise_for_failure()
