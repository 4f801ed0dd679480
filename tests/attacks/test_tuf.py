"""Attacks TUF stops (labkit.attacks.tuf): the naive client accepts, labkit's ngclient refresh refuses."""

from __future__ import annotations

import pytest

from labkit.attacks.scenario import LABKIT_MODE, Verdict
from labkit.attacks.tuf import NAIVE_MODE, TUF_SCENARIOS, run_tuf_scenario
from tests.attacks.helpers import assert_both_halves

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", [s.id for s in TUF_SCENARIOS])
def test_naive_client_accepts_and_ngclient_refuses(scenario: str) -> None:
    out = run_tuf_scenario(scenario)
    assert_both_halves(out, NAIVE_MODE)
    detail = out.verdict(LABKIT_MODE).detail
    assert " failed at " in detail and ("version" in detail or "target" in detail), detail
    assert "labkit_trusted_root" not in out.evidence  # a trust root that did not verify is never used


def test_attacker_content_reaches_the_naive_client() -> None:
    out = run_tuf_scenario("tuf-compromised-timestamp-key")
    assert "attacker" in out.evidence["naive_trusted_root"]
    assert out.verdict(NAIVE_MODE).verdict is Verdict.ACCEPTED
