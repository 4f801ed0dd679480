"""A witness / monitor: holds the log to its past checkpoints.

Given a checkpoint it trusted before and the log as it is now, the witness
fetches the current checkpoint and a consistency proof between the two sizes
and checks it (RFC 9162 §2.1.4.2): the new tree must extend the old one.
Given two validly signed checkpoints of the same size with different roots,
it reports a split view (the log showed two different histories), with both
roots as evidence.

`TransparencyLog` (local) and `RekorClient` (over HTTP) are both `LogSource`\\ s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from labkit.checks import Recorder, StepTable
from labkit.errors import CheckpointError, LabkitError, ProofError
from labkit.keys import SigningKey, VerifyingKey
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote, sign_note, verify_note
from labkit.tlog.checks import LogCheck

__all__ = ["Witness"]

_SPEC_CONS = "RFC 9162 §2.1.4.2"
_SPEC_NOTE = "C2SP signed-note"

#: The checks `Witness.explain_consistency` makes, in order: id -> (title, spec).
#: The title of ``witness.consistency`` depends on the sizes (`CONSISTENCY_TITLES`).
CONSISTENCY_STEPS: StepTable = {
    "witness.old_checkpoint": ("The old checkpoint is signed by the log", _SPEC_NOTE),
    "witness.new_checkpoint": ("The log's current checkpoint is signed by the log", _SPEC_NOTE),
    "witness.origin": ("Both checkpoints come from the same log", "C2SP tlog-checkpoint"),
    "witness.size": ("The log did not shrink", "RFC 9162 §2.1.4"),
    "witness.consistency": ("{consistency}", _SPEC_CONS),
}

#: The title of ``witness.consistency``: same size, from the empty tree, or a proof from `old` to `new`.
CONSISTENCY_TITLES = {
    "same_size": "Same size, so the roots must be equal",
    "from_empty": "Every tree extends the empty tree",
    "proof": "A consistency proof from {old} to {new} verifies",
}


class LogSource(Protocol):
    """What a witness needs from a log: its latest signed checkpoint and consistency proofs."""

    def latest_checkpoint(self) -> str:
        """The current signed checkpoint (signed-note text)."""
        ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """A consistency proof from `size1` to `size2`."""
        ...


@dataclass(frozen=True)
class SplitView:
    """Evidence that a log showed two histories: same size, two roots, both signed by the log."""

    origin: str
    size: int
    root_a: bytes
    root_b: bytes
    note_a: str
    note_b: str

    def __str__(self) -> str:
        return (
            f"split view in {self.origin} at size {self.size}: "
            f"root {self.root_a.hex()} and root {self.root_b.hex()} are both signed by the log"
        )


class Witness:
    """Checks checkpoints of one log (by key name, key and origin) and remembers the latest it accepted."""

    def __init__(
        self,
        log_name: str,
        log_key: VerifyingKey,
        *,
        origin: str | None = None,
        rule: str = "rekor-v1",
        key: SigningKey | None = None,
        name: str = "witness.labkit.local",
    ) -> None:
        self.log_name = log_name
        self.log_key = log_key
        self.origin = origin
        self.rule = rule
        self.key = key
        self.name = name
        self.latest: Checkpoint | None = None
        self.latest_note: str | None = None

    def _verify(self, note: str | SignedNote) -> Checkpoint:
        return verify_note(note, self.log_name, self.log_key, rule=self.rule, origin=self.origin)

    def explain_consistency(self, old_note: str | SignedNote, source: LogSource) -> LogCheck:
        """Check that the log now extends `old_note`, step by step; never raises on bad input."""
        run = Recorder(LogCheck("checkpoint consistency"), CONSISTENCY_STEPS)
        result = run.result
        try:
            old = self._verify(old_note)
            run.passed("witness.old_checkpoint", "", "valid", f"size {old.size}")
        except LabkitError as exc:
            run.record("witness.old_checkpoint", False, expected="valid", actual=exc.message)
            return result
        try:
            new_text = source.latest_checkpoint()
            new = self._verify(new_text)
            run.passed("witness.new_checkpoint", "", "valid", f"size {new.size}")
        except LabkitError as exc:
            run.record("witness.new_checkpoint", False, expected="valid", actual=exc.message)
            return result
        run.record("witness.origin", old.origin == new.origin, expected=old.origin, actual=new.origin)
        if not run.record("witness.size", new.size >= old.size, expected=f">= {old.size}", actual=new.size):
            return result
        if new.size == old.size:
            how, ok, expected, actual = ("same_size", new.root_hash == old.root_hash, old.root_hash.hex(),
                                         new.root_hash.hex())
        elif old.size == 0:
            how, ok, expected, actual = "from_empty", True, "", ""
        else:
            try:
                proof = source.consistency_proof(old.size, new.size)
                merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
                ok, actual = True, f"{len(proof)} hashes verify"
            except LabkitError as exc:
                ok, actual = False, exc.message
            how, expected = "proof", new.root_hash.hex()
        title = CONSISTENCY_TITLES[how].format(old=old.size, new=new.size)
        Recorder(result, CONSISTENCY_STEPS, title_args={"consistency": title}).record(
            "witness.consistency", ok, expected=expected, actual=actual)
        if result.verified:
            self.latest, self.latest_note = new, new_text
        return result

    def verify_consistency(self, old_note: str | SignedNote, source: LogSource) -> Checkpoint:
        """Return the log's current checkpoint, or raise `VerificationError` naming the failed step."""
        self.explain_consistency(old_note, source).raise_for_failure()
        assert self.latest is not None
        return self.latest

    def update(self, source: LogSource) -> Checkpoint:
        """Move to the log's current checkpoint, checking consistency with the last one accepted."""
        if self.latest_note is None:
            text = source.latest_checkpoint()
            self.latest, self.latest_note = self._verify(text), text
            return self.latest
        return self.verify_consistency(self.latest_note, source)

    def detect_split_view(self, note_a: str | SignedNote, note_b: str | SignedNote) -> SplitView | None:
        """Compare two checkpoints; a `SplitView` when both are signed by the log at one size with different roots.

        Raises `CheckpointError` if either is not validly signed (an unsigned
        "fork" is only a forgery, not evidence against the log).
        """
        a, b = self._verify(note_a), self._verify(note_b)
        if a.origin != b.origin or a.size != b.size or a.root_hash == b.root_hash:
            return None
        ta = note_a.to_text() if isinstance(note_a, SignedNote) else note_a
        tb = note_b.to_text() if isinstance(note_b, SignedNote) else note_b
        return SplitView(a.origin, a.size, a.root_hash, b.root_hash, ta, tb)

    def check_pair(self, note_a: str | SignedNote, note_b: str | SignedNote) -> None:
        """Raise `ProofError` with both roots if the two checkpoints show a split view."""
        split = self.detect_split_view(note_a, note_b)
        if split is not None:
            raise ProofError(
                str(split), details={"size": split.size, "root A": split.root_a.hex(), "root B": split.root_b.hex()}
            )

    def cosign(self, note: str | SignedNote) -> SignedNote:
        """Add this witness's signature to a checkpoint it has verified (C2SP signed-note cosignature)."""
        if self.key is None:
            raise CheckpointError("this witness has no signing key")
        parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
        self._verify(parsed)
        return sign_note(parsed.text, self.name, self.key, rule=self.rule, existing=parsed)
