"""Witness policies (C2SP tlog-policy, the syntax rekor-tiles' ``--witness-policy-path`` reads) and quorum checks.

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <member>...
    quorum <name>|none

A checkpoint satisfies a policy when one listed log signed it and the
witnesses whose cosignatures verify satisfy the quorum. `explain_quorum`
records the steps (never raises); `verify_quorum` raises the first failure.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit._internal.fsutil import open_for_reading
from labkit.checks import Recorder, StepTable
from labkit.errors import CheckpointError, LabkitError, PolicyError
from labkit.keys import VerifyingKey
from labkit.tlog.checkpoint import Checkpoint, SignedNote, explain_note
from labkit.tlog.checks import LogCheck
from labkit.witness.cosignature import ED25519, CosignerKey, VKey, parse_vkey

__all__ = ["Policy", "explain_quorum", "parse_policy", "read_policy"]

MAX_POLICY_BYTES = 1 << 20
MAX_ITEMS = 256
_SPEC = "C2SP tlog-policy"

#: The checks `explain_quorum` makes, in order: id -> (title, spec); ``quorum.log``'s title is one of
#: `QUORUM_LOG_TITLES`.
QUORUM_STEPS: StepTable = {
    "quorum.format": ("The note is a signed checkpoint", "C2SP tlog-checkpoint"),
    "quorum.log": ("{log}", _SPEC),
    "quorum.cosignatures": ("Every cosignature by a listed witness verifies", "C2SP tlog-cosignature"),
    "quorum.met": ("The cosigning witnesses satisfy the quorum", _SPEC),
}

#: The title of ``quorum.log``: the origin is not in the policy, or the listed log's signature was checked.
QUORUM_LOG_TITLES = {
    "unlisted": "The policy lists the log",
    "signed": "A listed log signed the checkpoint",
}


@dataclass(frozen=True)
class Group:
    """`threshold` of `members` (witness or group names) must have witnessed."""

    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    """Logs (origin → Ed25519 key), witnesses (name → key, URL), groups, and the quorum (a name or ``none``)."""

    logs: dict[str, VKey] = field(default_factory=dict)
    log_urls: dict[str, str] = field(default_factory=dict)
    witnesses: dict[str, CosignerKey] = field(default_factory=dict)
    witness_urls: dict[str, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    def satisfied(self, name: str, cosigned: set[str]) -> bool:
        """Whether witness or group `name` has witnessed, given the witnesses whose cosignatures verified."""
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self.satisfied(m, cosigned) for m in group.members) >= group.threshold

    def to_text(self) -> str:
        """The policy file text."""
        lines = [f"log {k.name}+{k.log_key_hint().hex()}+" + _b64(bytes([ED25519]) + k.raw)
                 + (f" {self.log_urls[o]}" if o in self.log_urls else "") for o, k in self.logs.items()]
        lines += [f"witness {n} {k.vkey()}" + (f" {self.witness_urls[n]}" if n in self.witness_urls else "")
                  for n, k in self.witnesses.items()]
        lines += [f"group {g.name} {g.threshold} {' '.join(g.members)}" for g in self.groups.values()]
        return "\n".join([*lines, f"quorum {self.quorum}"]) + "\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _fail(lineno: int, message: str) -> PolicyError:
    return PolicyError(f"witness policy line {lineno}: {message}", hint="See c2sp.org/tlog-policy for the syntax.")


def _threshold(word: str, n: int, lineno: int) -> int:
    if word == "all":
        return n
    if word == "any":
        return 1
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= n:
        raise _fail(lineno, f"group threshold must be all, any or 1..{n}, got {word!r}")
    return int(word)


def parse_policy(text: str | bytes) -> Policy:
    """Parse a policy file; raises `PolicyError` naming the line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if any(ord(c) < 0x20 and c not in "\t\n" or c == "\x7f" for c in text):
        raise PolicyError("witness policy has control characters other than tab and newline (C2SP tlog-policy)")
    policy, quorum, names, seen_keys = Policy(), None, set(), set()
    for lineno, raw in enumerate(text.split("\n"), 1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        kind, args = words[0], words[1:]
        try:
            if kind == "log" and len(args) in (1, 2):
                key = parse_vkey(args[0])
                key.log_key_hint()
                if key.raw in seen_keys:
                    raise _fail(lineno, "duplicate key")
                seen_keys.add(key.raw)
                policy.logs[key.name] = key
                if len(args) == 2:
                    policy.log_urls[key.name] = args[1]
            elif kind == "witness" and len(args) in (2, 3):
                name, wkey = args[0], parse_vkey(args[1]).cosigner()
                if name in names or name == "none":
                    raise _fail(lineno, f"name {name!r} is already defined")
                if wkey.raw in seen_keys:
                    raise _fail(lineno, "duplicate key")
                seen_keys.add(wkey.raw)
                names.add(name)
                policy.witnesses[name] = wkey
                if len(args) == 3:
                    policy.witness_urls[name] = args[2]
            elif kind == "group" and len(args) >= 3:
                name, members = args[0], tuple(args[2:])
                if name in names or name == "none":
                    raise _fail(lineno, f"name {name!r} is already defined")
                unknown = [m for m in members if m not in names]
                if unknown or len(set(members)) != len(members):
                    raise _fail(lineno, f"group members must be defined earlier, each once: {' '.join(members)}")
                names.add(name)
                policy.groups[name] = Group(name, _threshold(args[1], len(members), lineno), members)
            elif kind == "quorum" and len(args) == 1:
                if quorum is not None:
                    raise _fail(lineno, "a policy has exactly one quorum line")
                if args[0] != "none" and args[0] not in names:
                    raise _fail(lineno, f"quorum {args[0]!r} is not a witness or group defined earlier")
                quorum = args[0]
            else:
                raise _fail(lineno, f"unknown or malformed line: {raw.strip()[:80]!r}")
        except CheckpointError as exc:
            raise _fail(lineno, exc.message) from None
        if len(names) + len(policy.logs) > MAX_ITEMS:
            raise PolicyError(f"witness policy defines more than {MAX_ITEMS} logs, witnesses and groups")
    if quorum is None:
        raise PolicyError("witness policy has no quorum line", hint="Add `quorum <name>` or `quorum none`.")
    policy.quorum = quorum
    return policy


def read_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and parse a policy file (bounded)."""
    with open_for_reading(path, "witness policy") as fh:
        data = fh.read(MAX_POLICY_BYTES + 1)
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"witness policy {path} is larger than {MAX_POLICY_BYTES} bytes")
    return parse_policy(data)


@dataclass
class QuorumCheck(LogCheck):
    """The steps of a quorum check; `cosigned` names the witnesses whose cosignatures verified."""

    cosigned: set[str] = field(default_factory=set)


def explain_quorum(note: str | SignedNote, policy: Policy, *, log_key: VerifyingKey | None = None,
                   now: int | None = None) -> QuorumCheck:
    """Check a cosigned checkpoint against `policy` step by step; never raises on bad input.

    The log's signature is checked with the policy's key for the origin (or `log_key` when given);
    each witness's line must verify (C2SP signed-note: an invalid signature by a known key rejects);
    then the quorum. With `now`, cosignatures timestamped in the future are refused.
    """
    run = Recorder(QuorumCheck("witness quorum"), QUORUM_STEPS, title_args={"log": QUORUM_LOG_TITLES["signed"]})
    result = run.result
    try:
        parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
        checkpoint: Checkpoint = parsed.checkpoint()
    except LabkitError as exc:
        run.record("quorum.format", False, expected="a checkpoint", actual=exc.message)
        return result
    run.passed("quorum.format", "", "a checkpoint", f"{checkpoint.origin} size {checkpoint.size}")
    key = log_key
    if key is None and checkpoint.origin in policy.logs:
        key = _log_verifying_key(policy.logs[checkpoint.origin])
    if key is None:
        Recorder(result, QUORUM_STEPS, title_args={"log": QUORUM_LOG_TITLES["unlisted"]}).record(
            "quorum.log", False, expected=", ".join(policy.logs) or "(no logs)", actual=checkpoint.origin,
            reason="witness.unknown_log")
        return result
    log_check = explain_note(parsed, checkpoint.origin, key, rule="c2sp", origin=checkpoint.origin)
    if not run.record("quorum.log", log_check.verified, expected="valid log signature",
                      actual="valid" if log_check.verified else log_check.reason, reason="witness.log_signature"):
        return result
    bad: list[str] = []
    for name, wkey in policy.witnesses.items():
        for sig in parsed.signatures:
            if sig.name != wkey.name or sig.key_hint != wkey.key_id:
                continue
            try:
                t = wkey.verify(sig, checkpoint)
            except LabkitError as exc:
                bad.append(f"{name}: {exc.message}")
                continue
            if now is not None and t > now + 60:
                bad.append(f"{name}: cosignature timestamp {t} is in the future")
                continue
            result.cosigned.add(name)
    if bad:
        run.record("quorum.cosignatures", False, expected="valid cosignatures", actual="; ".join(bad),
                   reason="witness.cosignature_invalid")
        return result
    run.passed("quorum.cosignatures", "", "valid cosignatures", ", ".join(sorted(result.cosigned)) or "(none)")
    ok = policy.satisfied(policy.quorum, result.cosigned)
    cosigned = ", ".join(sorted(result.cosigned)) or "no listed witness"
    run.record("quorum.met", ok, expected=f"quorum {policy.quorum}", actual=f"cosigned by {cosigned}",
               reason="witness.quorum")
    return result


def verify_quorum(note: str | SignedNote, policy: Policy, *, log_key: VerifyingKey | None = None,
                  now: int | None = None) -> Checkpoint:
    """`explain_quorum` and raise (`VerificationError` naming the step) unless it passed; returns the checkpoint."""
    explain_quorum(note, policy, log_key=log_key, now=now).raise_for_failure()
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    return parsed.checkpoint()


def _log_verifying_key(vkey: VKey) -> VerifyingKey:
    return VerifyingKey.from_key(ed25519.Ed25519PublicKey.from_public_bytes(vkey.raw))
