"""The shared step model: explain (ordered steps, never raises) and enforce (the domain's error naming the step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from labkit.checks import NOT_REACHED, CheckResult, Recorder, Step, StepStatus, StepTable
from labkit.errors import LabkitError, PolicyError, VerificationError

TABLE: StepTable = {
    "a": ("A holds", "RFC 1 §1"), "b": ("B holds", "RFC 1 §2"), "c": ("C holds", "RFC 1 §3"),
    "only": ("Only", ""), "p": ("Policy holds", ""),
}


def _result() -> CheckResult:
    run = Recorder(CheckResult("thing"), TABLE)
    assert run.record("a", True, "fine")
    assert not run.record("b", False, "bad", expected=1, actual=2, reason="b.value")
    run.skip("c")
    return run.result


def test_steps_in_order_and_first_failure() -> None:
    r = _result()
    assert [s.id for s in r] == ["a", "b", "c"] and len(r) == 3
    assert [s.status for s in r.steps] == [StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED]
    assert r.steps[0].status == "passed"  # str enum: plain strings compare equal
    assert not r.verified and not r.verified
    assert r.failed_step is r.failed_step and r.failed_step is not None and r.failed_step.id == "b"
    assert r.reason == "b.value" and r.failed_step.reason_code == "b.value"
    assert r.step("c") is not None and r.step("c").detail == NOT_REACHED  # type: ignore[union-attr]
    assert r.step("zzz") is None
    assert r.steps[1].expected == "1" and r.steps[1].actual == "2"


def test_reason_defaults_to_step_id() -> None:
    r = CheckResult("x")
    Recorder(r, TABLE).record("only", False)
    assert r.reason == "only" and r.verdict == "REJECTED (only)"


def test_verified_needs_steps_and_completion() -> None:
    assert not CheckResult("empty").verified and CheckResult("empty").reason == "incomplete"
    r = CheckResult("x")
    Recorder(r, TABLE).passed("a")
    assert r.verified and r.verified and r.reason == "" and r.verdict == "VERIFIED"
    r.complete = False
    assert not r.verified and r.reason == "incomplete"
    r.complete = True
    Recorder(r, TABLE).skip("b", "no such evidence")
    assert r.verified  # a skipped step is not a failure


def test_checklist_text_and_rows() -> None:
    r = _result()
    assert r.checklist().splitlines() == [
        "[  ok] a: A holds (fine)", "[FAIL] b: B holds (bad)", "  expected: 1", "  actual:   2",
        "[skip] 1 later check(s) not reached", "REJECTED (b.value)",
    ]
    assert "[skip] c: C holds (not reached)" in r.checklist(show_skipped=True)
    assert r.rows()[1] == {"step": "b", "check": "B holds", "status": "failed", "detail": "bad",
                           "expected": "1", "actual": "2", "spec": "RFC 1 §2"}
    assert "REJECTED (b.value)" in r._repr_html_()


def test_raise_for_failure_default_error() -> None:
    with pytest.raises(VerificationError) as err:
        _result().raise_for_failure()
    assert err.value.step == "b" and err.value.reason == "b.value"
    assert err.value.details == {"step": "b", "spec": "RFC 1 §2", "expected": "1", "actual": "2"}
    assert "B holds: bad" in str(err.value)
    with pytest.raises(VerificationError) as err:
        CheckResult("x").raise_for_failure()
    assert err.value.reason == "incomplete"
    ok = CheckResult("x")
    Recorder(ok, TABLE).passed("a")
    ok.raise_for_failure()


class _PolicyRefused(PolicyError):
    def __init__(self, message: str, *, step: str, reason: str) -> None:
        super().__init__(message)
        self.step, self.reason = step, reason


@dataclass
class _PolicyResult(CheckResult):
    passed_verdict: ClassVar[str] = "ALLOWED"
    failed_verdict: ClassVar[str] = "DENIED"

    def error(self, step: Step | None) -> LabkitError:
        assert step is not None
        return _PolicyRefused(self.message(step), step=step.id, reason=step.reason_code)


def test_domain_error_and_words() -> None:
    r = _PolicyResult("image")
    Recorder(r, TABLE).record("p", False, reason="policy.p")
    assert r.verdict == "DENIED (policy.p)" and r.checklist().endswith("DENIED (policy.p)")
    with pytest.raises(_PolicyRefused) as err:
        r.raise_for_failure()
    assert err.value.step == "p" and err.value.reason == "policy.p"


def test_passed_step_drops_reason() -> None:
    r = CheckResult("x")
    assert Recorder(r, TABLE).record("a", True, reason="ignored")
    assert r.steps[0].reason == "" and not r.steps[0].failed and r.steps[0].passed


def test_record_does_not_stop_the_run() -> None:
    run = Recorder(CheckResult("x"), TABLE)
    assert not run.record("a", False, "bad") and run.record("b", True)
    assert [(s.id, s.status.value, s.reason_code) for s in run.result] == [("a", "failed", "a"), ("b", "passed", "b")]


def test_a_check_result_has_no_ad_hoc_step_builders() -> None:
    """Steps are recorded through `Recorder` over a declared table only (issue 13 item 2)."""
    assert not hasattr(CheckResult, "add") and not hasattr(CheckResult, "skip")


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, labkit.checks; print('pandas' in sys.modules, 'labkit.display' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_recorder_takes_titles_from_the_domain_table_and_stops_at_the_first_failure() -> None:
    from labkit.checks import Recorder, Stop

    table = {"a": ("Step {name} one", "spec A"), "b": ("Step two", "spec B"), "c": ("Step three", "")}

    def body(run: Recorder[CheckResult]) -> None:
        run.passed("a", "fine")
        run.check("b", False, "broken", reason="b.broken", expected=1, actual=2)
        raise AssertionError("not reached")

    result = Recorder(CheckResult("x"), table, title_args={"name": "first"}).run(body)
    assert [(s.id, s.title, s.status.value) for s in result] == [
        ("a", "Step first one", "passed"), ("b", "Step two", "failed"), ("c", "Step three", "skipped")]
    assert result.reason == "b.broken" and result.failed_step is not None and result.failed_step.expected == "1"
    assert not result.verified
    assert isinstance(Recorder(CheckResult(), table).fail("c", "x"), Stop)


def test_checklist_values_under_their_failed_row_and_verbose() -> None:
    """The expected/actual values sit under the [FAIL] row, never after the folded skip line (issue 17)."""
    r = _result()
    lines = r.checklist().splitlines()
    fail = lines.index("[FAIL] b: B holds (bad)")
    assert lines[fail + 1 : fail + 3] == ["  expected: 1", "  actual:   2"]
    verbose = r.checklist(verbose=True).splitlines()
    assert verbose[fail + 3 : fail + 5] == ["  reason:   b.value", "  spec:     RFC 1 §2"]
    assert "[skip] c: C holds (not reached)" in verbose and "later check(s)" not in r.checklist(verbose=True)


def test_recorder_steps_are_the_constructors_steps() -> None:
    """ADR 0006: `Recorder.make` fills the instance dict; the Step is the one ``Step(...)`` builds."""
    import dataclasses

    assert "__post_init__" not in vars(Step) and "__slots__" not in vars(Step)  # nothing the fast build would skip
    run = Recorder(CheckResult(), TABLE)
    for args in (("a", StepStatus.PASSED, "d", "1", 2, ""), ("b", StepStatus.FAILED, "", None, None, "b.x"),
                 ("c", StepStatus.SKIPPED, NOT_REACHED, None, None, "")):
        step_id, status, detail, expected, actual, reason = args
        made = run.make(step_id, status, detail, expected, actual, reason)
        title, spec = TABLE[step_id]
        built = Step(step_id, title, spec, status, detail, None if expected is None else str(expected),
                     None if actual is None else str(actual), reason)
        assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
        assert dataclasses.asdict(made) == dataclasses.asdict(built) and list(vars(made)) == list(vars(built))
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.detail = "changed"  # type: ignore[misc]
