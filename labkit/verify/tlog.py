"""Transparency-log evidence in a bundle: inclusion proof, checkpoint, inclusion promise.

* Inclusion proof: RFC 9162 §2.1.3.2 from the leaf hash of
  ``canonicalizedBody`` (RFC 6962 §2.1: SHA-256(0x00 ‖ body)) using the
  proof's own index and tree size, to the proof's root hash.
* Checkpoint: a C2SP signed note whose text is origin, size, root. Signatures
  from unknown (name, key ID) pairs MUST be ignored and at least one known
  signature MUST verify (C2SP signed-note). The key ID rule depends on the log
  key: SHA-256(SPKI)[:4] for ECDSA and for Rekor v1; SHA-256(name ‖ 0x0A ‖
  0x01 ‖ key)[:4] for Ed25519 (C2SP). Its size and root must be the proof's.
* Inclusion promise (SET): the log's signature over the RFC 8785 form of
  ``{body, integratedTime, logID, logIndex}`` (Rekor v1). Only a verified
  promise makes ``integratedTime`` a verified time.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit.bundle import InclusionProof, TransparencyLogEntry
from labkit.errors import LabkitError, VerificationError
from labkit.keys import VerifyingKey
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote, key_hint_ed25519, key_hint_spki
from labkit.tlog.entries import set_payload
from labkit.verify.trustroot import TransparencyLogInstance

__all__ = ["TlogCheckError", "verify_checkpoint", "verify_inclusion_proof", "verify_inclusion_promise"]


class TlogCheckError(VerificationError):
    """A transparency-log check failed."""


def verify_inclusion_proof(entry: TransparencyLogEntry, proof: InclusionProof) -> bytes:
    """Check the proof leads from the entry's leaf to the proof's root; returns the root."""
    leaf = merkle.leaf_hash(entry.canonicalized_body)
    try:
        merkle.verify_inclusion(proof.log_index, proof.tree_size, leaf, proof.hashes, proof.root_hash)
    except merkle.RootMismatchError as exc:
        raise TlogCheckError(
            "the inclusion proof does not lead to the proof's root hash",
            step="tlog.inclusion_proof",
            reason="tlog.inclusion_proof",
            details={"expected": exc.expected.hex(), "actual": exc.calculated.hex()},
        ) from None
    except LabkitError as exc:
        raise TlogCheckError(
            f"the inclusion proof is malformed: {exc.message}", step="tlog.inclusion_proof", reason="tlog.inclusion_proof"
        ) from None
    return proof.root_hash


def _signer_names(log: TransparencyLogInstance, origin: str) -> set[str]:
    # Rekor v1: origin "<host> - <tree id>", signer name "<host>"; Rekor v2: origin == name == host.
    return {log.origin_host, origin, origin.split(" - ", 1)[0]}


def _hints(key: VerifyingKey, name: str) -> set[bytes]:
    hints = {key_hint_spki(key.der())}
    if isinstance(key.key, ed25519.Ed25519PublicKey):
        raw = key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        hints.add(key_hint_ed25519(name, raw))
    return hints


def verify_checkpoint(text: str, log: TransparencyLogInstance) -> Checkpoint:
    """Parse the signed checkpoint and verify the log's signature on it.

    Raises `TlogCheckError` with reason ``tlog.checkpoint.format`` (does not
    parse) or ``tlog.checkpoint.signature`` (no known signature verifies).
    """
    try:
        note = SignedNote.parse(text)
        checkpoint = note.checkpoint()
    except LabkitError as exc:
        raise TlogCheckError(
            f"the checkpoint is malformed: {exc.message}", step="tlog.checkpoint.format", reason="tlog.checkpoint.format"
        ) from None
    key = log.verifying_key()
    names = _signer_names(log, checkpoint.origin)
    seen = []
    for sig in note.signatures:
        seen.append(f"{sig.name} {sig.key_hint.hex()}")
        # C2SP signed-note: ignore signatures whose (name, key ID) is not the log's.
        if sig.name not in names or sig.key_hint not in _hints(key, sig.name):
            continue
        try:
            key.verify(sig.signature, note.text.encode())
        except LabkitError:
            raise TlogCheckError(
                "the log's signature on the checkpoint does not verify",
                step="tlog.checkpoint.signature",
                reason="tlog.checkpoint.signature",
                details={"signer": f"{sig.name} {sig.key_hint.hex()}"},
            ) from None
        return checkpoint
    raise TlogCheckError(
        "the checkpoint has no signature from the log's key",
        step="tlog.checkpoint.signature",
        reason="tlog.checkpoint.signature",
        details={
            "expected": f"{' or '.join(sorted(names))} {' or '.join(sorted(h.hex() for h in _hints(key, log.origin_host)))}",
            "actual": "; ".join(seen),
        },
    )


def verify_inclusion_promise(entry: TransparencyLogEntry, log: TransparencyLogInstance) -> int:
    """Verify the SET over {body, integratedTime, logID, logIndex}; returns the integrated time."""
    if entry.inclusion_promise is None or entry.integrated_time is None:
        raise TlogCheckError(
            "the entry has no inclusion promise with an integrated time",
            step="tlog.inclusion_promise",
            reason="tlog.inclusion_promise.missing",
        )
    payload = set_payload(entry.canonicalized_body, entry.integrated_time, entry.log_id.hex(), entry.log_index)
    try:
        log.verifying_key().verify(entry.inclusion_promise, payload)
    except LabkitError:
        raise TlogCheckError(
            "the inclusion promise (SET) does not verify with the log key",
            step="tlog.inclusion_promise",
            reason="tlog.inclusion_promise",
            details={
                "expected": f"{log.origin_host} signature over JCS(body sha256:{hashlib.sha256(entry.canonicalized_body).hexdigest()[:16]}…, "
                f"integratedTime={entry.integrated_time}, logIndex={entry.log_index})",
                "actual": f"signature {entry.inclusion_promise.hex()[:24]}… does not verify over it",
            },
        ) from None
    return entry.integrated_time
