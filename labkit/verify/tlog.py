"""Transparency-log evidence in a bundle: inclusion proof, checkpoint, inclusion promise.

* Inclusion proof: RFC 9162 §2.1.3.2 from the leaf hash of
  ``canonicalizedBody`` (RFC 6962 §2.1: SHA-256(0x00 ‖ body)) using the
  proof's own index and tree size, to the proof's root hash.
* Checkpoint: a C2SP signed note whose text is origin, size, root. Signatures
  from unknown (name, key ID) pairs MUST be ignored, at least one known
  signature MUST verify and none may fail (C2SP signed-note). A Rekor v2
  checkpoint is signed as, and has the origin of, the log's baseUrl host. The key ID rule depends on the log
  key: SHA-256(SPKI)[:4] for ECDSA and for Rekor v1; SHA-256(name ‖ 0x0A ‖
  0x01 ‖ key)[:4] for Ed25519 (C2SP). Its size and root must be the proof's.
* Inclusion promise (SET): the log's signature over the RFC 8785 form of
  ``{body, integratedTime, logID, logIndex}`` (Rekor v1). Only a verified
  promise makes ``integratedTime`` a verified time.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit.bundle import InclusionProof, TransparencyLogEntry
from labkit.errors import LabkitError, VerificationError
from labkit.keys import VerifyingKey, load_public_key
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote, key_hint_ed25519, key_hint_spki
from labkit.tlog.entries import set_payload
from labkit.verify.trustroot import TransparencyLogInstance

__all__ = ["verify_checkpoint", "verify_inclusion_proof", "verify_inclusion_promise"]


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
            f"the inclusion proof is malformed: {exc.message}",
            step="tlog.inclusion_proof",
            reason="tlog.inclusion_proof",
        ) from None
    return proof.root_hash


def _log_names(log: TransparencyLogInstance) -> set[str]:
    """The trusted log's signer names: its baseUrl host, with and without a port."""
    host = log.origin_host
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # "h:8080" -> "h"; IPv6 literals stay whole
    return {host, bare}


def _signer_names(log: TransparencyLogInstance, origin: str, rekor_v2: bool) -> set[str]:
    if rekor_v2:
        # Rekor v2 (as sigstore-go): the note is verified under the log's baseUrl host, nothing else.
        return _log_names(log)
    # Rekor v1 (unchanged): origin "<host> - <tree id>", signer name "<host>".
    return {log.origin_host, origin, origin.split(" - ", 1)[0]}


@functools.lru_cache(maxsize=64)
def _spki_hint(key_der: bytes) -> bytes:
    """The SPKI key hint of a trusted log's key, from the trusted root's DER (trust material, not a bundle's)."""
    return key_hint_spki(load_public_key(key_der).der())


def _hints(log: TransparencyLogInstance, key: VerifyingKey, name: str) -> set[bytes]:
    """The key IDs the log's key signs under as `name`; `key` is ``log.verifying_key()``."""
    hints = {_spki_hint(log.key_der)}
    if isinstance(key.key, ed25519.Ed25519PublicKey):
        raw = key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        hints.add(key_hint_ed25519(name, raw))
    return hints


def _fail(message: str, reason: str, **details: str) -> TlogCheckError:
    return TlogCheckError(message, step="tlog.checkpoint.signature", reason=reason, details=details)


def verify_checkpoint(text: str, log: TransparencyLogInstance, *, rekor_v2: bool = False) -> Checkpoint:
    """Parse the signed checkpoint and verify the log's signature on it.

    Every signature under the log's (name, key ID) must verify, whatever the order of the lines
    (C2SP signed-note: a note with an invalid signature from a known key is rejected); others are
    ignored. For Rekor v2 (`rekor_v2`) the signer name and the origin must both be the trusted log's
    baseUrl host, as sigstore-go verifies them.

    Raises `TlogCheckError` with reason ``tlog.checkpoint.format`` (does not parse),
    ``tlog.checkpoint.signature`` (no known signature, or an invalid one) or
    ``tlog.checkpoint.origin`` (a Rekor v2 checkpoint for another log).
    """
    try:
        note = SignedNote.parse(text)
        checkpoint = note.checkpoint()
    except LabkitError as exc:
        raise TlogCheckError(
            f"the checkpoint is malformed: {exc.message}",
            step="tlog.checkpoint.format",
            reason="tlog.checkpoint.format",
            details={k: v for k, v in exc.details.items() if k in ("expected", "actual")},
        ) from None
    key = log.verifying_key()
    names = _signer_names(log, checkpoint.origin, rekor_v2)
    # C2SP signed-note: ignore signatures whose (name, key ID) is not the log's.
    known = [sig for sig in note.signatures if sig.name in names and sig.key_hint in _hints(log, key, sig.name)]
    if not known:
        raise _fail(
            "the checkpoint has no signature from the log's key",
            "tlog.checkpoint.signature",
            expected=f"{' or '.join(sorted(names))} "
                     f"{' or '.join(sorted(h.hex() for h in _hints(log, key, log.origin_host)))}",
            actual="; ".join(f"{sig.name} {sig.key_hint.hex()}" for sig in note.signatures),
        )
    for n, sig in enumerate(known):
        try:
            key.verify(sig.signature, note.text.encode())
        except LabkitError:
            raise _fail(
                "the log's signature on the checkpoint does not verify"
                + (f" (signature {n + 1} of {len(known)} by the log's key)" if len(known) > 1 else ""),
                "tlog.checkpoint.signature",
                expected=f"every signature by {sig.name} {sig.key_hint.hex()} valid",
                actual=f"signature {n + 1} of {len(known)} invalid",
            ) from None
    if rekor_v2 and checkpoint.origin not in _log_names(log):
        raise _fail(
            "the checkpoint's origin is not the trusted log", "tlog.checkpoint.origin",
            expected=" or ".join(sorted(_log_names(log))), actual=checkpoint.origin,
        )
    return checkpoint


#: Set to False (tests only) to build every SET payload through `labkit.tlog.entries.set_payload`.
SET_FASTPATH = True
_MAX_SAFE_INT = 2**53 - 1


def _set_payload(body: bytes, integrated_time: int, log_id_hex: str, log_index: int) -> bytes:
    """`set_payload`'s bytes, written directly (ADR 0006, "SET payload").

    The keys are fixed and already in RFC 8785 order, base64 and lowercase hex need no escaping, and an
    integer JCS accepts prints as its decimal text; anything else takes the general canonicaliser.
    """
    if (SET_FASTPATH and type(integrated_time) is int and type(log_index) is int
            and -_MAX_SAFE_INT <= integrated_time <= _MAX_SAFE_INT and -_MAX_SAFE_INT <= log_index <= _MAX_SAFE_INT
            and _LOWER_HEX.fullmatch(log_id_hex)):
        return b'{"body":"%b","integratedTime":%d,"logID":"%b","logIndex":%d}' % (
            binascii.b2a_base64(body, newline=False), integrated_time, log_id_hex.encode("ascii"), log_index)
    return set_payload(body, integrated_time, log_id_hex, log_index)


_LOWER_HEX = re.compile(r"[0-9a-f]*")


def verify_inclusion_promise(entry: TransparencyLogEntry, log: TransparencyLogInstance) -> int:
    """Verify the SET over {body, integratedTime, logID, logIndex}; returns the integrated time."""
    if entry.inclusion_promise is None or entry.integrated_time is None:
        raise TlogCheckError(
            "the entry has no inclusion promise with an integrated time",
            step="tlog.inclusion_promise",
            reason="tlog.inclusion_promise.missing",
        )
    payload = _set_payload(entry.canonicalized_body, entry.integrated_time, entry.log_id.hex(), entry.log_index)
    try:
        log.verifying_key().verify(entry.inclusion_promise, payload)
    except LabkitError:
        raise TlogCheckError(
            "the inclusion promise (SET) does not verify with the log key",
            step="tlog.inclusion_promise",
            reason="tlog.inclusion_promise",
            details={
                "expected": f"{log.origin_host} signature over JCS(body "
                f"sha256:{hashlib.sha256(entry.canonicalized_body).hexdigest()[:16]}…, "
                f"integratedTime={entry.integrated_time}, logIndex={entry.log_index})",
                "actual": f"signature {entry.inclusion_promise.hex()[:24]}… does not verify over it",
            },
        ) from None
    return entry.integrated_time
