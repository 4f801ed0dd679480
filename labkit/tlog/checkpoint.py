"""Checkpoints in the C2SP signed-note format.

A checkpoint (C2SP ``tlog-checkpoint``) is the note text::

    <origin>\\n<tree size, decimal>\\n<base64 root hash>\\n[<extension line>\\n ...]

and a signed note (C2SP ``signed-note``) appends a blank line and one line
per signature: ``— <key name> <base64(4-byte key hint ‖ signature)>``.

Key hints (the 4-byte key ID):

* Rekor v1 (`key_hint_spki`): SHA-256(DER SubjectPublicKeyInfo)[:4] for every
  key type; also the C2SP rule for ECDSA keys (type 0x02).
* C2SP Ed25519 (`key_hint_ed25519`): SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit.checks import Recorder, StepTable
from labkit.errors import CheckpointError, LabkitError
from labkit.keys import SigningKey, VerifyingKey
from labkit.tlog.checks import CheckpointCheck
from labkit.tlog.merkle import HASH_SIZE

#: C0 control characters other than newline (one regex search instead of a per-character loop).
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f]")
#: C0 control characters (code points below 0x20), and whitespace (``\s`` of a str pattern is `str.isspace`).
_CONTROL = re.compile(r"[\x00-\x1f]")
_SPACE = re.compile(r"\s")

__all__ = [
    "Checkpoint", "NoteSignature", "SignedNote", "explain_note", "key_hint_ed25519", "key_hint_spki", "sign_note",
    "verify_note",
]


def _has_control(text: str) -> bool:
    """``any(ord(c) < 0x20 for c in text)``: one regex search for a `str` (anything else takes the loop)."""
    if isinstance(text, str):
        return _CONTROL.search(text) is not None
    return any(ord(c) < 0x20 for c in text)


def _has_space(text: str) -> bool:
    """``any(c.isspace() for c in text)``: one regex search for a `str` (anything else takes the loop)."""
    if isinstance(text, str):
        return _SPACE.search(text) is not None
    return any(c.isspace() for c in text)

EM_DASH = "\u2014"
#: The key-hint rules `key_hint` knows: Rekor v1 (SPKI for all keys) and C2SP (Ed25519 name rule).
HINT_RULES = ("rekor-v1", "c2sp")
_SPEC_NOTE = "C2SP signed-note"
_SPEC_CKPT = "C2SP tlog-checkpoint"

#: The checks `explain_note` makes, in order: id -> (title, spec).
NOTE_STEPS: StepTable = {
    "note.format": ("The note parses as a signed note", _SPEC_NOTE),
    "checkpoint.format": ("The text is origin, size, root hash", _SPEC_CKPT),
    "note.known_key": ("A signature names the log key", _SPEC_NOTE),
    "note.signature": ("The log key's signature verifies over the note text", _SPEC_NOTE),
    "checkpoint.origin": ("The origin is the expected log", _SPEC_CKPT),
}


def key_hint_spki(spki_der: bytes) -> bytes:
    """SHA-256(DER SPKI)[:4]: the Rekor v1 key hint, and C2SP's for ECDSA (type 0x02)."""
    return hashlib.sha256(spki_der).digest()[:4]


def key_hint_ed25519(name: str, raw_key: bytes) -> bytes:
    """C2SP signed-note Ed25519 key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte key)[:4]."""
    if len(raw_key) != 32:
        raise CheckpointError(f"an Ed25519 public key is 32 bytes, got {len(raw_key)}")
    return hashlib.sha256(name.encode() + b"\n\x01" + raw_key).digest()[:4]


def key_hint(name: str, key: VerifyingKey, rule: str = "rekor-v1") -> bytes:
    """The 4-byte hint `key` signs under with `rule` (one of `HINT_RULES`)."""
    if rule not in HINT_RULES:
        raise CheckpointError(f"unknown key-hint rule {rule!r}; choose one of {', '.join(HINT_RULES)}")
    if rule == "c2sp" and isinstance(key.key, ed25519.Ed25519PublicKey):
        raw = key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return key_hint_ed25519(name, raw)
    return key_hint_spki(key.der())


def _check_name(name: str) -> None:
    # C2SP signed-note: key names are non-empty and contain no whitespace and no '+'.
    if not name or _has_space(name) or "+" in name:
        raise CheckpointError(f"key name {name!r} must be non-empty with no spaces or '+' (C2SP signed-note)")


def _line_kind(line: str) -> str:
    """What a checkpoint line looks like: a tree size, a root hash, or (anything else) an origin."""
    if line.isascii() and line.isdigit():
        return "tree size"
    try:
        if len(base64.b64decode(line, validate=True)) == HASH_SIZE:
            return "root hash"
    except (binascii.Error, ValueError):
        pass
    return "origin"


def _kinds(lines: list[str]) -> list[str]:
    return [_line_kind(line) for line in lines]


def _missing_lines(lines: list[str]) -> list[str]:
    """Which of origin, tree size and root hash a too-short checkpoint lacks, judged by what its lines look like."""
    slots = ("origin", "tree size", "root hash")
    # Match the lines in order against the three slots; the slots left unmatched are missing.
    matched: set[str] = set()
    pos = 0
    for kind in _kinds(lines):
        while pos < len(slots) and slots[pos] != kind:
            pos += 1
        if pos == len(slots):
            return list(slots[len(lines):])  # lines out of order: say what a count of lines says
        matched.add(kind)
        pos += 1
    return [slot for slot in slots if slot not in matched]


@dataclass(frozen=True)
class Checkpoint:
    """The signed content of a checkpoint: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.origin or _has_control(self.origin):
            raise CheckpointError("checkpoint origin must be one non-empty line without control characters")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0 or self.size >= 1 << 64:
            raise CheckpointError(f"checkpoint size must be an integer in 0..2^64-1, got {self.size!r}")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash must be {HASH_SIZE} bytes, got {len(self.root_hash)}")
        for ext in self.extensions:
            if not ext or _has_control(ext):
                raise CheckpointError(
                    "checkpoint extension lines must be non-empty single lines without control characters"
                )

    def body(self) -> bytes:
        """The note text, UTF-8, ending with a newline (what the signatures cover)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def parse_body(cls, text: str | bytes) -> Checkpoint:
        """Parse note text (C2SP tlog-checkpoint); raises `CheckpointError` naming the bad line."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise CheckpointError("checkpoint text is not UTF-8") from None
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            missing = _missing_lines(lines)
            raise CheckpointError(
                f"checkpoint has {len(lines)} line{'s' if len(lines) != 1 else ''}; "
                f"missing the {' and '.join(missing)} line",
                details={"expected": "origin, tree size, root hash", "actual": ", ".join(_kinds(lines))},
            )
        origin, size_s, root_s, *ext = lines
        if not origin:
            raise CheckpointError("checkpoint origin line (line 1) is empty")
        # C2SP tlog-checkpoint: the size is ASCII decimal with no leading zeros.
        if not size_s.isascii() or not size_s.isdigit() or (len(size_s) > 1 and size_s[0] == "0"):
            raise CheckpointError(f"checkpoint tree size (line 2) is not a decimal number: {size_s!r}")
        size = int(size_s)
        if size >= 1 << 64:
            raise CheckpointError(f"checkpoint tree size {size_s} does not fit in 64 bits")
        try:
            root = base64.b64decode(root_s, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError(f"checkpoint root hash (line 3) is not standard base64: {root_s!r}") from None
        if len(root) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash (line 3) is {len(root)} bytes, expected {HASH_SIZE}")
        if any(not e for e in ext):
            raise CheckpointError("checkpoint has an empty extension line")
        return cls(origin, size, root, tuple(ext))

    def __str__(self) -> str:
        return self.body().decode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key hint, signature bytes."""

    name: str
    key_hint: bytes
    signature: bytes

    def line(self) -> str:
        """``— <name> <base64(hint ‖ signature)>`` (no newline)."""
        return f"{EM_DASH} {self.name} {base64.b64encode(self.key_hint + self.signature).decode()}"


@dataclass(frozen=True)
class SignedNote:
    """A note text with its signatures (C2SP signed-note)."""

    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, note: str | bytes) -> SignedNote:
        """Parse a signed note; raises `CheckpointError` on any malformed part."""
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError:
                raise CheckpointError("signed note is not UTF-8") from None
        if _CONTROL_BUT_NEWLINE.search(note):
            raise CheckpointError("signed note contains control characters other than newline (C2SP signed-note)")
        # C2SP signed-note: the text ends at the *last* blank line; signatures follow.
        cut = note.rfind("\n\n")
        if cut < 0:
            raise CheckpointError("signed note has no blank line between the text and the signatures")
        text, sig_block = note[: cut + 1], note[cut + 2 :]
        if not sig_block:
            raise CheckpointError("signed note has no signature lines")
        if not sig_block.endswith("\n"):
            raise CheckpointError("signed note must end with a newline after the last signature line")
        sigs: list[NoteSignature] = []
        for line in sig_block[:-1].split("\n"):
            if not line.startswith(EM_DASH + " "):
                raise CheckpointError(f"signature line does not start with an em dash and a space: {line!r}")
            parts = line[2:].split(" ")
            if len(parts) != 2:
                raise CheckpointError(f"signature line must be '— <name> <base64>': {line!r}")
            name, b64 = parts
            _check_name(name)
            try:
                raw = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                raise CheckpointError(f"signature of {name!r} is not standard base64") from None
            if len(raw) < 5:
                raise CheckpointError(
                    f"signature of {name!r} is {len(raw)} bytes; needs a 4-byte key hint and a signature"
                )
            sigs.append(NoteSignature(name, raw[:4], raw[4:]))
        if not sigs:
            raise CheckpointError("signed note has no signature lines")
        return cls(text, tuple(sigs))

    def to_text(self) -> str:
        """The note as text: note text, blank line, one signature line each, trailing newline."""
        return self.text + "\n" + "".join(s.line() + "\n" for s in self.signatures)

    def checkpoint(self) -> Checkpoint:
        """The checkpoint the note text carries (unverified)."""
        return Checkpoint.parse_body(self.text)

    def __str__(self) -> str:
        return self.to_text()


def sign_note(
    checkpoint: Checkpoint | str | bytes,
    name: str,
    key: SigningKey,
    *,
    rule: str = "rekor-v1",
    existing: SignedNote | None = None,
) -> SignedNote:
    """Sign a checkpoint (or any note text) as key `name`; cosigns `existing` if given.

    ECDSA signs SHA-256 of the note text (DER signature, as Rekor v1);
    Ed25519 signs the note text itself (C2SP signed-note).
    """
    _check_name(name)
    if isinstance(checkpoint, Checkpoint):
        text = checkpoint.body().decode()
    else:
        text = checkpoint.decode() if isinstance(checkpoint, bytes) else checkpoint
    if existing is not None and existing.text != text:
        raise CheckpointError("cannot cosign: the existing note has a different text")
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    hint = key_hint(name, key.public_key(), rule)
    sig = NoteSignature(name, hint, key.sign(text.encode()))
    prior = existing.signatures if existing else ()
    return SignedNote(text, (*prior, sig))


def _signature_ok(key: VerifyingKey, sig: NoteSignature, text: str) -> bool:
    try:
        key.verify(sig.signature, text.encode())
    except LabkitError:
        return False
    return True


def explain_note(
    note: str | bytes | SignedNote,
    name: str,
    key: VerifyingKey,
    *,
    rule: str = "rekor-v1",
    origin: str | None = None,
) -> CheckpointCheck:
    """Check a signed checkpoint step by step; never raises on bad input."""
    run = Recorder(CheckpointCheck("signed checkpoint"), NOTE_STEPS)
    try:
        parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    except LabkitError as exc:
        run.record("note.format", False, expected="a signed note", actual=exc.message)
        return run.result
    run.passed("note.format", "", "a signed note", f"{len(parsed.signatures)} signature(s)")
    try:
        ckpt = parsed.checkpoint()
        ok, actual = True, f"size {ckpt.size}"
    except LabkitError as exc:
        ckpt, ok, actual = None, False, exc.message
    run.record("checkpoint.format", ok, expected="3+ lines", actual=actual)
    try:
        hint = key_hint(name, key, rule)
    except LabkitError as exc:
        run.record("note.known_key", False, expected=name, actual=exc.message)
        return run.result
    candidates = [s for s in parsed.signatures if s.name == name and s.key_hint == hint]
    # C2SP signed-note: signatures from unknown (name, key ID) pairs MUST be ignored.
    found = run.record(
        "note.known_key", bool(candidates), expected=f"{name} {hint.hex()}",
        actual=", ".join(f"{s.name} {s.key_hint.hex()}" for s in parsed.signatures),
    )
    if found:
        # C2SP signed-note: a note with an invalid signature from a known key is rejected, so every
        # signature under the log's (name, key ID) must verify, whatever the order of the lines.
        invalid = [n for n, s in enumerate(candidates) if not _signature_ok(key, s, parsed.text)]
        actual = "valid" if not invalid else "invalid" if len(invalid) == len(candidates) else (
            f"invalid ({len(invalid)} of {len(candidates)} signatures by {name} {hint.hex()} do not verify)"
        )
        run.record("note.signature", not invalid, expected="valid signature", actual=actual)
    else:
        run.skip("note.signature", "no signature by the log key")
    if origin is not None:
        got = ckpt.origin if ckpt else "(unparsed)"
        run.record("checkpoint.origin", got == origin, expected=origin, actual=got)
    return run.result


def verify_note(
    note: str | bytes | SignedNote,
    name: str,
    key: VerifyingKey,
    *,
    rule: str = "rekor-v1",
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint and return its checkpoint; raises `CheckpointError` naming the failed step."""
    explain_note(note, name, key, rule=rule, origin=origin).raise_for_failure()
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    return parsed.checkpoint()
