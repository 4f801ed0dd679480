"""Scenario 7: attacks by the log itself (a compromised log operator holds the log key).

* ``log-rewrite``: after a checkpoint was published and witnessed, the
  operator rewrites an old entry (backdating an attacker's signature into
  it), re-signs its SET and serves a self-consistent proof to a fresh
  checkpoint. Checked against the *published* checkpoint, the inclusion
  proof no longer leads to its root (RFC 9162 §2.1.3.2).
* ``split-view``: the operator shows the victim a second checkpoint of the
  same size with a different root (a tree holding an entry the public never
  sees). Both are signed by the log key; the witness, which already cosigned
  the public one, refuses the other (C2SP tlog-witness).
"""

from __future__ import annotations

import hashlib

from labkit.attacks.checks import blob_bundle, sandbox_trusted_root
from labkit.attacks.sandbox import SandboxLog
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import vulnerable_log_client_no_witness
from labkit.bundle import InclusionProof
from labkit.errors import VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.checkpoint import SignedNote
from labkit.tlog.entries import hashedrekord_body
from labkit.verify.tlog import verify_inclusion_proof
from labkit.verify.verifier import explain_bundle

__all__ = []


def _fill(log: SandboxLog, lab: Lab, n: int, tag: str) -> None:
    for i in range(n):
        k = generate("ecdsa-p256", lab=lab, label=f"attacks/{tag}/{i}")
        doc = f"{tag} document {i}\n".encode()
        log.upload_hashedrekord(k.sign(doc), k.public_key().pem(), doc)
        lab.clock.now()


@define(
    "log-rewrite",
    number=7,
    title="Log entry rewritten after the fact",
    refs=("RFC 9162 §2.1.3.2", "C2SP tlog-witness"),
    summary="A compromised log operator backdates a signature into an old entry and serves a self-consistent proof.",
    fixed_behaviour="check the entry against a published, witnessed checkpoint (and demand consistency proofs)",
    expected_reason="tlog.inclusion_proof",
    modes=("log-client-no-witness", LABKIT_MODE),
)
def log_rewrite(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``log-rewrite``: the log rewrites its history; consistency proofs catch it."""
    out = scenario.outcome()
    log = SandboxLog(lab)
    witness = log.witness(lab)
    _fill(log, lab, 4, "honest")
    witness.update(log)
    published = witness.cosign(log.signed_checkpoint()).to_text()
    root4 = log.tree.root(4)
    out.step("log", f"publishes checkpoint size 4, root {root4.hex()[:16]}…; the witness cosigns it")
    out.touch("checkpoint", "size 4", "published, witnessed")

    stolen = generate("ecdsa-p256", lab=lab, label="attacks/stolen-key")
    blob = b"backdoored release, signed after the key was stolen\n"
    sig = stolen.sign(blob)
    log.rewrite(1, hashedrekord_body(sig, stolen.public_key().pem(), hashlib.sha256(blob).digest()))
    out.step("operator", "rewrites entry #1 to record the attacker's signature (backdated to entry #1's time)")
    out.touch("log entry", "#1", "rewritten: body replaced, SET re-signed, tree rebuilt")
    _fill(log, lab, 2, "later")
    entry = log.entry(1)
    out.step("operator", f"serves entry #1 with a valid SET and a proof to a fresh signed checkpoint (size {len(log)})")
    bundle = blob_bundle(blob, sig, stolen.public_key(), entry)
    tr = sandbox_trusted_root(log)
    b_entry = bundle.verification_material.tlog_entries[0]
    out.step("victim", "verifies the bundle: 'logged long before the compromise'")
    out.judge_call("log-client-no-witness", lambda: vulnerable_log_client_no_witness(b_entry, tr.tlogs[0]))

    def labkit() -> None:
        result = explain_bundle(bundle, blob, trusted_root=tr, key=stolen.public_key())
        out.evidence["bundle_checklist"] = result.checklist()
        result.raise_for_failure()
        # The bundle alone is self-consistent. Check it against the published checkpoint:
        # ask the log for a proof of entry #1 in the tree of size 4 (RFC 9162 §2.1.3.2).
        cp = SignedNote.parse(published).checkpoint()
        proof = InclusionProof(1, cp.root_hash, cp.size, log.tree.inclusion_proof(1, cp.size), published)
        verify_inclusion_proof(b_entry, proof)

    out.judge_call(LABKIT_MODE, labkit)
    try:
        witness.update(log)  # labkit.tlog.witness: the new checkpoint must extend the witnessed one
        out.evidence["witness"] = "cosigned"
    except VerificationError as exc:
        out.evidence["witness"] = f"refused: {exc.reason}"
        out.step("witness", f"refuses the log's new checkpoint: no consistency proof from size 4 to {len(log)}")
    return out


@define(
    "split-view",
    number=7,
    title="Split view: two checkpoints of the same size, different roots",
    refs=("C2SP tlog-witness", "C2SP tlog-checkpoint"),
    summary="The log shows the victim a forked tree holding an entry the public log never contains.",
    fixed_behaviour="require a witness cosignature; a witness never cosigns two roots for one size",
    expected_reason="witness.split_view",
    modes=("log-client-no-witness", LABKIT_MODE),
)
def split_view(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``split-view``: the log shows two parties two different trees."""
    out = scenario.outcome()
    log = SandboxLog(lab)
    witness = log.witness(lab)
    _fill(log, lab, 3, "honest")
    witness.update(log)
    hidden = log.fork(3)
    _fill(log, lab, 1, "public")
    witness.update(log)  # checks the consistency proof from 3 to 4
    public_note = witness.cosign(log.signed_checkpoint()).to_text()
    out.step("log", f"public view: size 4, root {log.tree.root(4).hex()[:16]}…, cosigned by the witness")
    out.touch("checkpoint", "size 4 (public)", "witnessed")

    stolen = generate("ecdsa-p256", lab=lab, label="attacks/stolen-key")
    blob = b"backdoored release for one victim only\n"
    sig = stolen.sign(blob)
    entry = hidden.upload_hashedrekord(sig, stolen.public_key().pem(), blob)
    out.step("operator", f"hidden view: the attacker's entry at #{entry.log_index}, size 4, root "
                         f"{hidden.tree.root(4).hex()[:16]}…, signed by the same log key")
    out.touch("checkpoint", "size 4 (hidden)", "log-signed, never witnessed")
    bundle = blob_bundle(blob, sig, stolen.public_key(), entry)
    tr = sandbox_trusted_root(hidden)
    b_entry = bundle.verification_material.tlog_entries[0]
    out.evidence["public_checkpoint"] = public_note
    out.evidence["hidden_checkpoint"] = entry.inclusion_proof.checkpoint if entry.inclusion_proof else ""
    out.step("victim", "verifies the attacker's bundle; monitors of the public log never see the entry")
    out.judge_call("log-client-no-witness", lambda: vulnerable_log_client_no_witness(b_entry, tr.tlogs[0]))

    def labkit() -> None:
        result = explain_bundle(bundle, blob, trusted_root=tr, key=stolen.public_key())
        out.evidence["bundle_checklist"] = result.checklist()
        result.raise_for_failure()
        # The checkpoint must carry the witness's cosignature; it has none, so compare it with the
        # checkpoint the witness cosigned (labkit.tlog.witness): same size, another root = split view.
        assert b_entry.inclusion_proof is not None
        offered = b_entry.inclusion_proof.checkpoint
        if witness.name not in {sig.name for sig in SignedNote.parse(offered).signatures}:
            split = witness.detect_split_view(public_note, offered)
            if split is not None:
                raise VerificationError(
                    str(split),
                    step="witness",
                    reason="witness.split_view",
                    details={"witnessed root": split.root_a.hex(), "offered root": split.root_b.hex()},
                )
            raise VerificationError("the checkpoint carries no witness cosignature", step="witness",
                                    reason="witness.cosignature")

    out.judge_call(LABKIT_MODE, labkit)
    return out
