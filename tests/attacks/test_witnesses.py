from __future__ import annotations

from labkit.attacks import run_scenario
from labkit.tlog.checkpoint import SignedNote
from tests.attacks.helpers import assert_both_halves


def test_split_view_for_one_victim_is_caught_by_a_two_of_three_quorum() -> None:
    out = run_scenario("witness-split-view")
    assert_both_halves(out, "rekor2-no-cosignatures", reason="witness.quorum")
    # Every bundle check passes: only the quorum (one cosignature, by the operator's witness) fails.
    assert "VERIFIED" in out.evidence["bundle_checklist"]
    assert "quorum.met" in out.evidence["quorum_checklist"]
    assert [r.split(": ")[1] for r in out.evidence["refusals"]] == ["409", "409"]
    pub = SignedNote.parse(out.evidence["public_checkpoint"]).checkpoint()
    hidden = SignedNote.parse(out.evidence["hidden_checkpoint"]).checkpoint()
    assert pub.size == hidden.size == 6 and pub.root_hash != hidden.root_hash


def test_a_rewound_log_is_refused_with_409_and_the_witness_size() -> None:
    out = run_scenario("witness-rewind")
    assert_both_halves(out, "witness-stateless", reason="witness.conflict")
    assert out.evidence["witness_answer"] == "409 text/x.tlog.size: 6"


def test_forged_cosignatures_are_refused() -> None:
    out = run_scenario("forged-cosignature")
    assert_both_halves(out, "quorum-by-signature-lines", reason="witness.cosignature_invalid")
    names = [s.name for s in SignedNote.parse(out.evidence["forged_checkpoint"]).signatures]
    assert names == ["rekor2.lab.test", "w0.witness.lab.test", "w1.witness.lab.test"]
