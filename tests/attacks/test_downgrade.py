from __future__ import annotations

from labkit.attacks import run_scenario
from tests.attacks.helpers import assert_both_halves


def test_downgrade_to_legacy_sig() -> None:
    out = run_scenario("downgrade")
    assert_both_halves(out, "cosign-v3-referrers-fallback", reason="format.no_bundle")
    assert out.evidence["referrers"] == {"verified digest": 0, "original digest": 1}
    # with the fallback but the legacy SET checked against the log, the forged entry does not bind
    assert out.evidence["fallback, log checked"] == "rejected (binding.digest)"
