"""The checklist renderer: deterministic HTML for any CheckResult, failed step's expected and actual values."""

from __future__ import annotations

import re

from labkit.checks import CheckResult, Step, StepStatus
from labkit.display import checklist, failure_card
from labkit.keys import generate
from labkit.lab import Lab
from labkit.verify import Artifact, Identity, VerificationResult, explain_bundle
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
POLICY = Identity(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)


def _result(case: str) -> VerificationResult:
    return explain_bundle(
        (CASES / case / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"), None, POLICY
    )


def _no_volatile(markup: str) -> None:
    assert " id=" not in markup
    assert not re.search(r"\b20\d\d-\d\d-\d\dT", markup)
    assert "0x7f" not in markup


def test_display_exports_functions_not_modules() -> None:
    import labkit.display
    import labkit.display.checks  # importing the submodule must not shadow the function

    assert callable(labkit.display.checklist) and callable(labkit.display.failure_card)


def test_checklist_is_deterministic_and_complete() -> None:
    one, two = checklist(_result("happy-path-v0.3")), checklist(_result("happy-path-v0.3"))
    assert one.html == two.html
    assert "VERIFIED" in one.html and "tlog.inclusion_proof" in one.html and "RFC 9162" in one.html
    assert one.text.endswith("VERIFIED")
    assert _result("happy-path-v0.3")._repr_html_() == one.html


def test_failed_step_shows_expected_and_actual() -> None:
    result = _result("checkpoint-wrong-roothash_fail")
    html = checklist(result).html
    assert "REJECTED (tlog.checkpoint.root)" in html and "later check(s) not reached" in html
    card = failure_card(result)
    assert "expected" in card.html and "size 75610772" in card.html
    assert card.text.startswith("FAIL tlog.checkpoint.root")
    assert "later check(s) not reached" not in checklist(result, show_skipped=True).text


def test_values_are_escaped() -> None:
    r = VerificationResult(steps=[Step("bundle.parse", "t", "s", StepStatus.FAILED, "<script>", "<a>", "&")])
    html = checklist(r).html + failure_card(r).html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html


def test_failure_card_without_failure() -> None:
    assert "VERIFIED" in failure_card(_result("happy-path-v0.3")).html
    assert "did not complete" in failure_card(VerificationResult()).text


def test_any_check_result_in_its_own_words(lab: Lab) -> None:
    from labkit.keyfile import encrypt_private_key, explain_key_file

    pem = encrypt_private_key(generate("ecdsa-p256", lab=lab), "pw", allow_lab=True, lab=lab)
    assert checklist(explain_key_file(pem, "pw")).text.endswith("OPENED")
    wrong = checklist(explain_key_file(pem, "nope"), title="wrong password")
    assert "REFUSED (decrypt)" in wrong.html and "wrong password" in wrong.html
    assert failure_card(explain_key_file(pem, "nope")).text.startswith("FAIL decrypt")


def test_a_list_of_steps_is_accepted() -> None:
    steps = [Step("a", "A", "RFC 1"), Step("b", "B", "", StepStatus.FAILED, "bad", "1", "2"),
             Step("c", "C", "", StepStatus.SKIPPED, "not reached")]
    out = checklist(steps, title="check")
    assert out.text.splitlines() == [
        "[  ok] a: A", "[FAIL] b: B (bad)", "  expected: 1", "  actual:   2",
        "[skip] 1 later check(s) not reached", "REJECTED (b)",
    ]
    assert "C" in checklist(steps, show_skipped=True).text
    assert checklist([Step("a", "A")]).text.endswith("VERIFIED")
    assert checklist(CheckResult("x", [])).text == "REJECTED (incomplete)"


def test_checklist_of_a_real_verification(lab: Lab) -> None:
    from labkit.sign import sign_blob

    key = generate("ecdsa-p256", lab=lab)
    result = explain_bundle(sign_blob(b"x", key), b"y", key=key.public_key())
    out = checklist(result)
    assert "REJECTED (artifact.digest)" in out.text
    assert out.html == checklist(result).html
    _no_volatile(out.html)


def test_collapse_passed_folds_each_run_of_passed_rows() -> None:
    steps = [Step("a", "A", "RFC 1"), Step("b", "B"), Step("c", "C", "", StepStatus.SKIPPED, "lab only"),
             Step("d", "D"), Step("e", "E", "", StepStatus.FAILED, "bad", "1", "2"),
             Step("f", "F", "", StepStatus.SKIPPED, "not reached")]
    full, short = checklist(steps).html, checklist(steps, collapse_passed=True).html
    assert short.count("<tr") == full.count("<tr") - 1  # a, b -> one row; d -> one row
    assert "2 check(s) passed: <span" in short and ">a, b</span>" in short and ">d</span>" in short
    assert "lab only" in short and "reason: e" in short and "1 later check(s) not reached" in short
    assert checklist(steps, collapse_passed=True).text == checklist(steps).text  # the text form stays whole
    every = checklist([Step("a", "A"), Step("b", "B")], collapse_passed=True).html
    assert "2 check(s) passed" in every and "VERIFIED" in every
    # The folded row expands (<details>) to each passed step's id, title and linked spec.
    assert short.count("<details>") == 2 and "<summary" in short
    assert "a</span> · A · <a href=\"https://www.rfc-editor.org/rfc/rfc1.html\"" in short
