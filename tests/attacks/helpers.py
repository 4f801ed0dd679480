"""Assertions every scenario test makes: both halves, never a silent pass."""

from __future__ import annotations

from labkit.attacks import LABKIT_MODE, Outcome, Verdict


def assert_both_halves(outcome: Outcome, *vulnerable_modes: str, reason: str | None = None) -> None:
    """The attack reproduces against each named vulnerable mode AND labkit rejects it with the reason."""
    for mode in vulnerable_modes:
        v = outcome.verdict(mode)
        assert v.vulnerable, f"{mode} is not marked vulnerable"
        assert v.verdict is Verdict.ACCEPTED, f"attack no longer reproduces against {mode}: {v.reason} {v.detail}"
    labkit = outcome.verdict(LABKIT_MODE)
    assert labkit.verdict is Verdict.REJECTED, f"labkit did not reject: {labkit.verdict} {labkit.detail}"
    want = reason or outcome.scenario.expected_reason
    assert labkit.reason == want, (labkit.reason, labkit.detail)
    assert outcome.reproduced and outcome.caught and outcome.ok
