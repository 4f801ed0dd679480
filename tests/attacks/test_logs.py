from __future__ import annotations

from labkit.attacks import run_scenario
from tests.attacks.helpers import assert_both_halves


def test_log_rewrite_is_caught_by_the_published_checkpoint() -> None:
    out = run_scenario("log-rewrite")
    assert_both_halves(out, "log-client-no-witness", reason="tlog.inclusion_proof")
    # The bundle alone is self-consistent: labkit's bundle checks pass, the published checkpoint does not.
    assert "VERIFIED" in out.evidence["bundle_checklist"]
    assert out.evidence["witness"] == "refused: witness.consistency"


def test_split_view_is_caught_by_the_witness() -> None:
    out = run_scenario("split-view")
    assert_both_halves(out, "log-client-no-witness", reason="witness.split_view")
    pub, hidden = out.evidence["public_checkpoint"], out.evidence["hidden_checkpoint"]
    assert pub.split("\n")[1] == hidden.split("\n")[1] == "4"  # same size
    assert pub.split("\n")[2] != hidden.split("\n")[2]  # different roots
