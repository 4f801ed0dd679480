"""Scenario 11: a Rekor v2 (tile) log operator against the witness network (C2SP tlog-witness, tlog-cosignature).

* ``witness-split-view``: the operator forks its tile log for one victim. The
  public tree is cosigned by three witnesses; the fork, signed by the same
  log key, gets only the cosignature of a witness the operator controls.
  Sigstore clients today check only the log's signature and accept; a 2-of-3
  quorum (`labkit.witness.policy`) refuses.
* ``witness-rewind``: after the witnesses cosigned size 6, the operator
  rewinds the log to size 4 (a checkpoint they cosigned earlier) and grows
  another tree from there. A witness that checks consistency from the old
  checkpoint the log sends cosigns it; labkit's witness remembers size 6 and
  answers 409.
* ``forged-cosignature``: the operator appends signature lines under the
  witnesses' names and key IDs to its forked checkpoint. A quorum counted
  from signature lines passes; labkit verifies every cosignature and refuses.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import (
    vulnerable_quorum_by_signature_lines,
    vulnerable_rekor2_no_cosignatures,
    vulnerable_stateless_witness,
)
from labkit.bundle import Bundle
from labkit.errors import VerificationError
from labkit.keyless.trustroot import trusted_root_json
from labkit.keys import VerifyingKey, generate
from labkit.lab import Lab
from labkit.sign import sign_blob
from labkit.tlog.checkpoint import NoteSignature, SignedNote
from labkit.tlog.rekor2 import Rekor2Service, trusted_root_tlog
from labkit.tlog.tilelog import TileLog
from labkit.tsa import TimestampAuthority, tsa_entry
from labkit.tsa.client import LocalTimestamper
from labkit.verify.verifier import explain_bundle
from labkit.witness.bundle import require_witness_quorum
from labkit.witness.cosignature import Cosigner, log_vkey
from labkit.witness.policy import Policy, parse_policy
from labkit.witness.service import Witness, add_checkpoint_body

__all__ = []

ORIGIN = "rekor2.lab.test"
_REFS = ("C2SP tlog-witness", "C2SP tlog-cosignature", "C2SP tlog-policy")


@dataclass
class _Network:
    """A tile log (public view), its fork directory, three witnesses (w2 run by the operator), a 2-of-3 policy."""

    lab: Lab
    root: Path
    log: TileLog
    witnesses: list[Witness]
    policy: Policy

    def fork(self, size: int) -> TileLog:
        """The operator's hidden log: same key and origin, the public entries up to `size`."""
        hidden = TileLog.open(self.root / "hidden", origin=ORIGIN, lab=self.lab)
        hidden.append([self.log.entry(i) for i in range(size)])
        return hidden

    def cosign_all(self, old: int) -> str:
        note = self.log.signed_checkpoint()
        proof = self.log.consistency_proof(old) if 0 < old < self.log.size else []
        out = note
        for w in self.witnesses:
            out = _merge(out, w.cosign_note(note, old, proof))
        return out


def _merge(note: str, other: str) -> str:
    a, b = SignedNote.parse(note), SignedNote.parse(other)
    extra = tuple(s for s in b.signatures if s not in a.signatures)
    return SignedNote(a.text, (*a.signatures, *extra)).to_text()


@contextmanager
def _network(lab: Lab) -> Iterator[_Network]:
    with tempfile.TemporaryDirectory(prefix="labkit-witness-attack-") as tmp:
        root = Path(tmp)
        log = TileLog.open(root / "public", origin=ORIGIN, lab=lab)
        clock = lab.clock
        cosigners = [Cosigner.ed25519(f"w{i}.witness.lab.test", lab.derive(f"attacks/witness/w{i}", 32))
                     for i in range(3)]
        witnesses = [Witness({ORIGIN: log.public_key}, [c], clock=lambda: clock.now().timestamp())
                     for c in cosigners]
        raw = log.public_key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        text = f"log {log_vkey(ORIGIN, raw)}\n" + "".join(f"witness w{i} {c.public.vkey()}\n"
                                                         for i, c in enumerate(cosigners))
        yield _Network(lab, root, log, witnesses, parse_policy(text + "group g 2 w0 w1 w2\nquorum g\n"))


def _entries(lab: Lab, tag: str, n: int) -> list[bytes]:
    return [hashlib.sha256(f"{lab.seed}/{tag}/{i}".encode()).hexdigest().encode() for i in range(n)]


def _v2_bundle(lab: Lab, log: TileLog, blob: bytes) -> tuple[Bundle, bytes, VerifyingKey]:
    """Sign `blob` into `log` through the Rekor v2 write path, with a TSA timestamp; (bundle, trusted root, key)."""
    signer = generate("ecdsa-p256", lab=lab, label="attacks/witness/stolen-key")
    with Rekor2Service(log) as svc:
        bundle = sign_blob(blob, signer, tlog=svc.uploader())
    tsa = TimestampAuthority.create(lab=lab)
    assert bundle.message_signature is not None
    bundle.verification_material.rfc3161_timestamps.append(
        LocalTimestamper(tsa).timestamp(bundle.message_signature.signature))
    root = trusted_root_json({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [trusted_root_tlog(f"https://{ORIGIN}", log.public_key, log.key_id,
                                    _dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc))],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [tsa_entry(tsa.chain).to_dict()]})
    return bundle, root, signer.public_key()


def _checkpoint_of(bundle: Bundle) -> str:
    proof = bundle.verification_material.tlog_entries[0].inclusion_proof
    return proof.checkpoint if proof is not None else ""


def _set_checkpoint(bundle: Bundle, note: str) -> None:
    proof = bundle.verification_material.tlog_entries[0].inclusion_proof
    assert proof is not None
    proof.checkpoint = note


def _labkit_quorum(out: Outcome, bundle: Bundle, blob: bytes, root: bytes, key: VerifyingKey, policy: Policy) -> None:
    result = explain_bundle(bundle, blob, root, key=key)
    out.evidence["bundle_checklist"] = result.checklist()
    require_witness_quorum(result, bundle, policy)
    out.evidence["quorum_checklist"] = result.checklist()
    result.raise_for_failure()


def _split(net: _Network, out: Outcome, tag: str) -> tuple[Bundle, bytes, bytes, VerifyingKey]:
    """Public log of 6 cosigned by all; a fork at 4 of the same size 6 holding the attacker's entry; its bundle."""
    net.log.append(_entries(net.lab, "public", 4))
    net.cosign_all(0)
    net.log.append(_entries(net.lab, "public-later", 2))
    public = net.cosign_all(4)
    out.step("log", f"public view: size 6, root {net.log.checkpoint().root_hash.hex()[:16]}…, cosigned by w0, w1, w2")
    out.touch("checkpoint", "size 6 (public)", "cosigned by 3 of 3 witnesses")
    out.evidence["public_checkpoint"] = public
    hidden = net.fork(4)
    hidden.append([b"filler: keeps the fork at the public size"])
    blob = f"backdoored release for one victim ({tag})\n".encode()
    bundle, root, key = _v2_bundle(net.lab, hidden, blob)
    out.step("operator", f"forks at size 4 and logs the attacker's signature: hidden size {hidden.size}, "
                         f"root {hidden.checkpoint().root_hash.hex()[:16]}…, signed by the same log key")
    out.touch("checkpoint", f"size {hidden.size} (hidden)", "log-signed")
    return bundle, root, blob, key


@define(
    "witness-split-view",
    number=11,
    title="Rekor v2 split view for one victim, caught by a 2-of-3 witness quorum",
    refs=_REFS,
    summary="A tile-log operator forks its tree for one victim; only a witness it runs cosigns the fork.",
    fixed_behaviour="require a quorum of verified witness cosignatures (2 of 3) on the bundle's checkpoint",
    expected_reason="witness.quorum",
    modes=("rekor2-no-cosignatures", LABKIT_MODE),
)
def witness_split_view(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``witness-split-view``: witnesses refuse to cosign a forked tree."""
    out = scenario.outcome()
    with _network(lab) as net:
        bundle, root, blob, key = _split(net, out, "split view")
        note = _checkpoint_of(bundle)
        hidden_cp = SignedNote.parse(note).checkpoint()
        refusals = []
        for w in net.witnesses[:2]:
            answer = w.add_checkpoint(add_checkpoint_body(6, [], note))
            refusals.append(f"{w.name}: {answer.status}")
        out.step(
            "witnesses", f"w0 and w1 refuse the hidden checkpoint ({', '.join(refusals)}): same size 6, another root"
        )
        # The operator runs w2: it signs whatever it is given (a compromised witness, no protocol checks).
        rogue = net.witnesses[2].cosigners[0]
        note = SignedNote(
            SignedNote.parse(note).text,
            (*SignedNote.parse(note).signatures, rogue.cosign(hidden_cp, int(lab.clock.now().timestamp()))),
        ).to_text()
        _set_checkpoint(bundle, note)
        out.step("operator", "has its own witness w2 cosign the fork and ships the bundle with that checkpoint")
        out.evidence["hidden_checkpoint"] = note
        out.evidence["refusals"] = refusals
        out.step("victim", "verifies the Rekor v2 bundle: every bundle check passes")
        out.judge_call("rekor2-no-cosignatures", lambda: vulnerable_rekor2_no_cosignatures(bundle, blob, root, key))
        out.judge_call(LABKIT_MODE, lambda: _labkit_quorum(out, bundle, blob, root, key, net.policy))
    return out


@define(
    "witness-rewind",
    number=11,
    title="Tile log rewinds to an older checkpoint, refused by the witness with 409",
    refs=_REFS,
    summary="After size 6 was cosigned, the operator rewinds to size 4 and grows another tree from there.",
    fixed_behaviour="the witness keeps the latest size it cosigned per log and answers 409 (with that size) to any "
                    "other",
    expected_reason="witness.conflict",
    modes=("witness-stateless", LABKIT_MODE),
)
def witness_rewind(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``witness-rewind``: a witness refuses a smaller tree than it cosigned."""
    out = scenario.outcome()
    with _network(lab) as net:
        net.log.append(_entries(net.lab, "public", 4))
        at4 = net.cosign_all(0)
        net.log.append(_entries(net.lab, "public-later", 2))
        net.cosign_all(4)
        out.step("log", "size 4 then size 6, each cosigned by the witnesses")
        hidden = net.fork(4)
        hidden.append([b"rewritten history: the attacker's entry"])
        proof = hidden.consistency_proof(4)
        note = hidden.signed_checkpoint()
        out.step("operator", "rewinds to size 4 and publishes size 5 of another tree, with a valid proof from 4")
        out.touch("checkpoint", "size 5 (rewound)", "consistent with size 4 only")
        out.evidence["rewound_checkpoint"] = note
        witness = net.witnesses[0]
        out.judge_call("witness-stateless", lambda: vulnerable_stateless_witness(at4, proof, note, net.log.public_key))

        def labkit() -> None:
            answer = witness.add_checkpoint(add_checkpoint_body(4, proof, note))
            out.evidence["witness_answer"] = f"{answer.status} {answer.content_type}: {answer.text.strip()}"
            if answer.status == 409:
                raise VerificationError(f"the witness answered 409: it last cosigned size {answer.text.strip()}",
                                        step="witness", reason="witness.conflict",
                                        details={"witness size": answer.text.strip(), "claimed old size": 4})
            if answer.status != 200:
                raise VerificationError(f"the witness answered {answer.status}", step="witness",
                                        reason=f"witness.http_{answer.status}")

        out.step("witness", "receives add-checkpoint with old size 4 for the rewound tree")
        out.judge_call(LABKIT_MODE, labkit)
    return out


@define(
    "forged-cosignature",
    number=11,
    title="Forged witness cosignatures on a forked checkpoint, refused",
    refs=(*_REFS, "C2SP signed-note"),
    summary="The operator adds signature lines under the witnesses' names and key IDs to its forked checkpoint.",
    fixed_behaviour="verify every cosignature by a listed witness (an invalid one rejects the note), then count",
    expected_reason="witness.cosignature_invalid",
    modes=("quorum-by-signature-lines", LABKIT_MODE),
)
def forged_cosignature(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``forged-cosignature``: cosignatures not made by the witnesses' keys."""
    out = scenario.outcome()
    with _network(lab) as net:
        bundle, root, blob, key = _split(net, out, "forged cosignatures")
        parsed = SignedNote.parse(_checkpoint_of(bundle))
        t = int(lab.clock.now().timestamp())
        forged = tuple(NoteSignature(w.name, w.cosigners[0].public.key_id,
                                     t.to_bytes(8, "big") + lab.derive(f"attacks/forged/{w.name}", 64))
                       for w in net.witnesses[:2])
        note = SignedNote(parsed.text, (*parsed.signatures, *forged)).to_text()
        _set_checkpoint(bundle, note)
        out.step("operator", "appends cosignature lines for w0 and w1 (right names and key IDs, made-up signatures)")
        out.touch("checkpoint", "hidden", "2 forged cosignature lines")
        out.evidence["forged_checkpoint"] = note
        listed = {n: (k.name, k.key_id) for n, k in net.policy.witnesses.items()}
        out.judge_call("quorum-by-signature-lines", lambda: vulnerable_quorum_by_signature_lines(note, listed, 2))
        out.judge_call(LABKIT_MODE, lambda: _labkit_quorum(out, bundle, blob, root, key, net.policy))
    return out
