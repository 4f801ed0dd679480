from __future__ import annotations

from labkit.attacks import run_scenario
from tests.attacks.helpers import assert_both_halves


def test_unanchored_regexp() -> None:
    out = run_scenario("identity-regexp")
    assert_both_halves(out, "identity-regexp-search", reason="policy.identity")
    assert out.evidence["san"].startswith("https://github.com/org/app-evil/")


def test_other_issuer() -> None:
    out = run_scenario("identity-issuer")
    assert_both_halves(out, "identity-san-only", reason="policy.issuer")
    assert out.evidence["issuer"] == "https://login.attacker.invalid"


def test_expired_certificate_without_verified_time() -> None:
    out = run_scenario("expired-cert")
    assert_both_halves(out, "unverified-signing-time", reason="time.no_verified_source")
