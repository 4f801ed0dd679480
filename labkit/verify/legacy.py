"""The one adapter from legacy cosign signatures to Sigstore bundles v0.1.

A legacy cosign signature (a ``.sig`` layer, or a legacy verify-blob bundle
file) is what protobuf-specs calls a v0.1 bundle: a message signature over
the payload (hashedrekord over its SHA-256), the signer's certificate chain
or key, and a log entry with its inclusion promise (SET) taken from the
``dev.sigstore.cosign/bundle`` value (a rekorBundle: ``{SignedEntryTimestamp,
Payload}``). The legacy format has no inclusion proof; a `ProofSource` (a log
that can return the entry at an index) supplies it, after checking that the
log holds the same body at that index.

The product (`labkit.verify.image`) and the attack lab (`labkit.attacks.checks`)
both build their bundles here, so a forgery is judged on exactly what the
product would verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from labkit._internal.jsonio import JSONValue, loads
from labkit.bundle import (
    BUNDLE_V01_MEDIA_TYPE,
    MAX_BUNDLE_BYTES,
    Bundle,
    MessageSignature,
    TransparencyLogEntry,
    VerificationMaterial,
)
from labkit.errors import BundleFormatError, InputError, LabkitError, VerificationError
from labkit.keys import VerifyingKey

__all__ = ["LegacyFormatError", "ProofSource", "legacy_bundle", "rekor_bundle_entry"]


class LegacyFormatError(BundleFormatError, InputError):
    """A legacy signature's rekorBundle is not ``{SignedEntryTimestamp, Payload}`` with a readable body."""


class LoggedEntry(Protocol):
    """An entry as a log returns it: its body and its bundle form (with the inclusion proof)."""

    @property
    def body(self) -> bytes:
        """The canonicalized body the log holds."""
        ...

    def to_bundle_entry(self) -> TransparencyLogEntry:
        """The entry as a bundle's TransparencyLogEntry, inclusion proof included."""
        ...


class ProofSource(Protocol):
    """Where a verifier fetches the inclusion proof a legacy signature lacks (`labkit.tlog.store.TransparencyLog`)."""

    def get(self, index: int) -> LoggedEntry:
        """The entry at `index` (a `LabkitError` when there is none)."""
        ...


_W = "rekorBundle"


def _get(doc: JSONValue | Mapping[str, Any], key: str, where: str) -> JSONValue:
    if not isinstance(doc, Mapping):
        raise LegacyFormatError(f"{_W}: {where or 'the document'} is not a JSON object", details={"field": where})
    if key not in doc:
        raise LegacyFormatError(f"{_W}: {where + '.' if where else ''}{key} is missing", details={"field": key})
    return doc[key]


def _b64(value: JSONValue, where: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LegacyFormatError(f"{_W}: {where} is not base64: {exc}", details={"field": where}) from None


def _int(value: JSONValue, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise LegacyFormatError(f"{_W}: {where} is not an integer", details={"field": where})
    try:
        number = int(value)
    except ValueError:
        raise LegacyFormatError(f"{_W}: {where} is not an integer: {value!r}", details={"field": where}) from None
    if number < 0:
        raise LegacyFormatError(f"{_W}: {where} is negative", details={"field": where})
    return number


def rekor_bundle_entry(rekor: JSONValue | Mapping[str, Any]) -> TransparencyLogEntry:
    """The log entry (with its inclusion promise, no proof) a legacy rekorBundle describes.

    Raises `LegacyFormatError` naming the malformed field. The body's kind and
    version are read, not judged: whether the verifier supports them is its
    ``binding.body`` step.
    """
    payload = _get(rekor, "Payload", "")
    body = _b64(_get(payload, "body", "Payload"), "Payload.body")
    doc = loads(body, what="rekorBundle Payload.body", error=LegacyFormatError, max_bytes=MAX_BUNDLE_BYTES)
    kind, version = _get(doc, "kind", "Payload.body"), _get(doc, "apiVersion", "Payload.body")
    log_id = _get(payload, "logID", "Payload")
    try:
        log_id_bytes = bytes.fromhex(log_id) if isinstance(log_id, str) else b""
    except ValueError:
        log_id_bytes = b""
    if not log_id_bytes:
        raise LegacyFormatError(f"{_W}: Payload.logID is not hex", details={"field": "Payload.logID"})
    return TransparencyLogEntry(
        log_index=_int(_get(payload, "logIndex", "Payload"), "Payload.logIndex"),
        log_id=log_id_bytes,
        kind=str(kind),
        version=str(version),
        canonicalized_body=body,
        integrated_time=_int(_get(payload, "integratedTime", "Payload"), "Payload.integratedTime"),
        inclusion_promise=_b64(_get(rekor, "SignedEntryTimestamp", ""), "SignedEntryTimestamp"),
        inclusion_proof=None,
    )


def _with_proof(entry: TransparencyLogEntry, proofs: ProofSource) -> TransparencyLogEntry:
    """`entry` with the inclusion proof from the log, once the log is seen to hold the same body there."""
    try:
        logged = proofs.get(entry.log_index)
    except LabkitError as exc:
        raise VerificationError(f"the log has no entry {entry.log_index}: {exc.message}",
                                step="certificate.present", reason="legacy.keyless_material") from None
    if logged.body != entry.canonicalized_body:
        raise VerificationError(
            f"the log's entry {entry.log_index} is not the one in the signature's rekorBundle",
            step="tlog.body", reason="legacy.tlog_body_mismatch",
        )
    # Keep the SET from the signature (what cosign verifies); take the proof from the log.
    return TransparencyLogEntry(
        log_index=entry.log_index, log_id=entry.log_id, kind=entry.kind, version=entry.version,
        canonicalized_body=entry.canonicalized_body, integrated_time=entry.integrated_time,
        inclusion_promise=entry.inclusion_promise, inclusion_proof=logged.to_bundle_entry().inclusion_proof,
    )


def legacy_bundle(
    payload: bytes,
    signature: bytes,
    entry: TransparencyLogEntry | None,
    *,
    certificates: Sequence[bytes] = (),
    key: VerifyingKey | None = None,
    key_hint: str | None = None,
    proofs: ProofSource | None = None,
) -> Bundle:
    """The v0.1 bundle of a legacy signature over `payload`.

    `entry`: the rekorBundle's entry (`rekor_bundle_entry`), None when the signature has none.
    `certificates`: the signer's chain as DER, leaf first (keyless); `key`: the signer's key (its id
    becomes the key hint) or `key_hint` as given. `proofs`: where to fetch the inclusion proof (raises
    `VerificationError` when the log holds another body at that index).
    """
    if entry is not None and proofs is not None:
        entry = _with_proof(entry, proofs)
    hint = base64.b64encode(key.key_id()).decode() if key is not None and not certificates else None
    hint = hint or (key_hint if not certificates else None)
    material = VerificationMaterial(
        public_key_hint=hint, certificate_chain=list(certificates) or None,
        tlog_entries=[] if entry is None else [entry],
    )
    content = MessageSignature(digest=hashlib.sha256(payload).digest(), signature=signature)
    return Bundle(BUNDLE_V01_MEDIA_TYPE, material, content)
