"""Offline proofs of logging (C2SP tlog-proof): index, inclusion proof and cosigned checkpoint in one text file.

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <n>
    <base64 hash>...            (RFC 6962 inclusion proof, leaf sibling first)
    <empty line>
    <signed checkpoint, with cosignatures>

Stored with the extension ``.tlog-proof``. Verifying one needs only the
entry and a witness policy (`labkit.witness.policy`): the checkpoint must
satisfy the policy's quorum and the entry must be included under it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from labkit.checks import Recorder, StepTable
from labkit.errors import LabkitError, LogError
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote
from labkit.tlog.checks import LogCheck
from labkit.witness._framing import hash_lines, is_uint64, split_note, text_of
from labkit.witness.policy import Policy, explain_quorum

__all__ = ["explain_proof", "export_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_BYTES = 1 << 16
_SPEC = "C2SP tlog-proof"

#: The checks `explain_proof` makes around the quorum's (`labkit.witness.policy.QUORUM_STEPS`): id -> (title, spec).
PROOF_STEPS: StepTable = {
    "proof.format": ("The proof parses", _SPEC),
    "proof.inclusion": ("The entry is included under the cosigned checkpoint", "RFC 6962 §2.1.1"),
}


@dataclass(frozen=True)
class TlogProof:
    """A parsed proof: entry index, inclusion proof hashes, the signed checkpoint note, optional extra data."""

    index: int
    hashes: tuple[bytes, ...]
    note: str
    extra: bytes | None = None

    def to_text(self) -> str:
        """The proof in the C2SP tlog-proof text form."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.note


def export_proof(index: int, hashes: list[bytes], note: str, *, extra: bytes | None = None) -> str:
    """The ``.tlog-proof`` text for entry `index` under the (cosigned) checkpoint `note`."""
    SignedNote.parse(note).checkpoint()
    return TlogProof(index, tuple(hashes), note, extra).to_text()


def _decimal(s: str, what: str) -> int:
    if not is_uint64(s):
        raise LogError(f"tlog-proof {what} is not a decimal number: {s[:40]!r}")
    return int(s)


def parse_proof(text: str | bytes) -> TlogProof:
    """Parse a ``.tlog-proof``; raises `LogError` naming the bad part."""
    if isinstance(text, bytes) and len(text) > MAX_PROOF_BYTES:
        raise LogError(f"tlog-proof is larger than {MAX_PROOF_BYTES} bytes")
    lines, note = split_note(text_of(text, "tlog-proof"), "tlog-proof")
    if lines[0] != HEADER:
        raise LogError(f"tlog-proof must start with {HEADER!r}, got {lines[0][:40]!r}")
    pos, extra = 1, None
    if len(lines) > pos and lines[pos].startswith("extra "):
        try:
            extra = base64.b64decode(lines[pos][6:], validate=True)
        except (binascii.Error, ValueError):
            raise LogError("tlog-proof extra data is not base64") from None
        pos += 1
    if len(lines) <= pos or not lines[pos].startswith("index "):
        raise LogError("tlog-proof has no 'index <n>' line")
    index = _decimal(lines[pos][6:], "index")
    hashes = hash_lines(lines[pos + 1:], "tlog-proof hash line")
    if len(hashes) > 64:
        raise LogError("tlog-proof has more than 64 inclusion proof hashes")
    return TlogProof(index, tuple(hashes), note, extra)


def explain_proof(text: str | bytes | TlogProof, entry: bytes, policy: Policy) -> LogCheck:
    """Check a ``.tlog-proof`` for `entry` against `policy` step by step; never raises on bad input."""
    run = Recorder(LogCheck("tlog-proof"), PROOF_STEPS)
    result = run.result
    try:
        proof = text if isinstance(text, TlogProof) else parse_proof(text)
    except LabkitError as exc:
        run.record("proof.format", False, expected=HEADER, actual=exc.message)
        return result
    run.passed("proof.format", "", HEADER, f"index {proof.index}")
    quorum = explain_quorum(proof.note, policy)
    result.steps.extend(quorum.steps)  # the quorum's own steps (recorded by `explain_quorum`), in order
    if not quorum.verified:
        result.complete = quorum.complete
        return result
    checkpoint: Checkpoint = SignedNote.parse(proof.note).checkpoint()
    try:
        merkle.verify_inclusion(proof.index, checkpoint.size, merkle.leaf_hash(entry), list(proof.hashes),
                                checkpoint.root_hash)
        ok, actual = True, f"leaf {proof.index} of {checkpoint.size}"
    except LabkitError as exc:
        ok, actual = False, exc.message
    run.record("proof.inclusion", ok, expected="root " + checkpoint.root_hash.hex()[:16] + "…", actual=actual,
               reason="tlog.inclusion_proof")
    return result


def verify_proof(text: str | bytes | TlogProof, entry: bytes, policy: Policy) -> Checkpoint:
    """`explain_proof` and raise (`VerificationError` naming the step) unless it passed."""
    explain_proof(text, entry, policy).raise_for_failure()
    proof = text if isinstance(text, TlogProof) else parse_proof(text)
    return SignedNote.parse(proof.note).checkpoint()
