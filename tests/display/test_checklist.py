"""The verification checklist HTML is deterministic and shows the failed step's expected and actual values."""

from __future__ import annotations

from labkit.display.checklist import failure_card, verification_checklist
from labkit.verify import Artifact, Identity, explain_bundle
from labkit.verify.steps import Step, StepStatus, VerificationResult
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
POLICY = Identity(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)


def _result(case: str) -> VerificationResult:
    return explain_bundle((CASES / case / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"), None, POLICY)


def test_checklist_is_deterministic_and_complete() -> None:
    one, two = verification_checklist(_result("happy-path-v0.3")), verification_checklist(_result("happy-path-v0.3"))
    assert one.html == two.html
    assert "VERIFIED" in one.html and "tlog.inclusion_proof" in one.html and "RFC 9162" in one.html
    assert one.text.endswith("VERIFIED")
    assert _result("happy-path-v0.3")._repr_html_() == one.html


def test_failed_step_shows_expected_and_actual() -> None:
    result = _result("checkpoint-wrong-roothash_fail")
    html = verification_checklist(result).html
    assert "REJECTED (tlog.checkpoint.root)" in html and "later check(s) not reached" in html
    card = failure_card(result)
    assert "expected" in card.html and "size 75610772" in card.html
    assert card.text.startswith("FAIL tlog.checkpoint.root")
    assert "later check(s) not reached" not in verification_checklist(result, show_unreached=True).text


def test_values_are_escaped() -> None:
    r = VerificationResult([Step("bundle.parse", "t", "s", StepStatus.FAILED, "<script>", "<a>", "&")])
    html = verification_checklist(r).html + failure_card(r).html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html


def test_failure_card_without_failure() -> None:
    assert "VERIFIED" in failure_card(_result("happy-path-v0.3")).html
