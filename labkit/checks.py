"""One step model for every check in labkit: explain, then enforce.

Every check exists twice. The *explain* call (``explain_*`` / ``*_steps``)
returns a `CheckResult`: the ordered `Step`s it made, each with a stable id,
a title, the spec it enforces, a `StepStatus` and, when it matters, the
expected and actual values. It never raises on bad input. The *enforce* call
(``verify_*``, ``decrypt_*``, ...) is built on top of it: it calls
`CheckResult.raise_for_failure()`, which raises the domain's `LabkitError`
subclass (chosen by overriding `CheckResult.error`) naming the failed step
and its reason code.

A result is verified only when it ran to the end (`complete`), made at
least one step and none failed: nothing is accepted because a check was
skipped. `labkit.display.checklist` renders any result as HTML.
"""

from __future__ import annotations

import enum
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from labkit._internal.checklist_html import NOT_REACHED, checklist_markup
from labkit.errors import LabkitError, VerificationError

__all__ = ["NOT_REACHED", "CheckResult", "Recorder", "Shown", "Step", "StepStatus", "StepTable", "Stop"]

#: The detail of a step skipped because an earlier step failed.


class StepStatus(str, enum.Enum):
    """The outcome of one step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"

    # Print as the value ("passed"), not "StepStatus.PASSED": Python 3.11+ formats str-mixin enums by name.
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


_MARK = {StepStatus.PASSED: "ok", StepStatus.FAILED: "FAIL", StepStatus.SKIPPED: "skip"}


#: An expected or actual value a step shows: text or a number, kept as its ``str()`` (None: nothing to show).
Shown = str | int | None


@dataclass(frozen=True)
class Step:
    """One check: `id` is stable (tests and pipelines match it), `reason` refines a failure."""

    id: str
    title: str
    spec: str = ""
    status: StepStatus = StepStatus.PASSED
    detail: str = ""
    expected: str | None = None
    actual: str | None = None
    reason: str = ""

    @property
    def passed(self) -> bool:
        """True when the step passed."""
        return self.status is StepStatus.PASSED

    @property
    def failed(self) -> bool:
        """True when the step failed."""
        return self.status is StepStatus.FAILED

    @property
    def skipped(self) -> bool:
        """True when the step did not run."""
        return self.status is StepStatus.SKIPPED

    @property
    def reason_code(self) -> str:
        """The failure reason code (`reason`, or the step id when none is finer)."""
        return self.reason or self.id

    def line(self) -> str:
        """One plain-text line: ``[  ok] id: title (detail)``."""
        text = f"[{_MARK[self.status]:>4}] {self.id}: {self.title}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass
class CheckResult:
    """The ordered steps of one check of `subject`; verified when complete and none failed.

    Subclasses set `passed_verdict` / `failed_verdict` (the words of the
    plain-text verdict), `incomplete_reason`, and override `error` to raise
    their own `LabkitError` subclass.
    """

    subject: str = ""
    steps: list[Step] = field(default_factory=list)
    #: True once every check ran to the end (a run that stopped early is never verified).
    complete: bool = True

    passed_verdict: ClassVar[str] = "VERIFIED"
    failed_verdict: ClassVar[str] = "REJECTED"
    #: The reason code of a result that has no failed step but is not verified.
    incomplete_reason: ClassVar[str] = "incomplete"

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def verified(self) -> bool:
        """True only when every check ran and none failed."""
        return self.complete and bool(self.steps) and not _any_failed(self.steps)

    @property
    def failed_step(self) -> Step | None:
        """The first failed step, if any."""
        return next((s for s in self.steps if s.failed), None)

    @property
    def reason(self) -> str:
        """The reason code of the first failure ("" when verified)."""
        step = self.failed_step
        if step is not None:
            return step.reason_code
        return "" if self.verified else self.incomplete_reason

    @property
    def verdict(self) -> str:
        """``VERIFIED`` or ``REJECTED (reason)`` (in the subclass's words)."""
        return self.passed_verdict if self.verified else f"{self.failed_verdict} ({self.reason})"

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if it was recorded."""
        return next((s for s in self.steps if s.id == step_id), None)

    def rows(self) -> list[dict[str, str]]:
        """The steps as plain rows for a table: step, check, status, detail, expected, actual, spec."""
        return [
            {
                "step": s.id,
                "check": s.title,
                "status": s.status.value,
                "detail": s.detail,
                "expected": s.expected or "",
                "actual": s.actual or "",
                "spec": s.spec,
            }
            for s in self.steps
        ]

    def checklist(self, *, show_skipped: bool = False, verbose: bool = False) -> str:
        """Plain-text checklist, one line per step, the failed step's values under its row, then the verdict.

        Steps not reached after a failure are folded into one line unless `show_skipped`. `verbose` adds,
        under the failed row, its reason code and the spec it enforces, and lists every step.
        """
        lines: list[str] = []
        unreached = 0
        for s in self.steps:
            if s.skipped and s.detail == NOT_REACHED and not (show_skipped or verbose):
                unreached += 1
                continue
            lines.append(s.line())
            if s.failed:
                lines.extend(self.failure_lines(s, verbose=verbose))
        if unreached:
            lines.append(f"[skip] {unreached} later check(s) not reached")
        lines.append(self.verdict)
        return "\n".join(lines)

    def failure_lines(self, step: Step, *, verbose: bool = False) -> list[str]:
        """The indented lines printed under a failed row: expected and actual; with `verbose` reason and spec."""
        lines: list[str] = []
        if step.expected or step.actual:
            lines.append(f"  expected: {step.expected}")
            lines.append(f"  actual:   {step.actual}")
        if verbose:
            lines.append(f"  reason:   {step.reason_code}")
            if step.spec:
                lines.append(f"  spec:     {step.spec}")
        return lines

    def _repr_html_(self) -> str:
        return checklist_markup(self)

    def error(self, step: Step | None) -> LabkitError:
        """The error `raise_for_failure` raises for the failed `step` (None: the run did not complete).

        Domains override this to raise their own error class; it must carry
        the step id and the reason code.
        """
        if step is None:
            return VerificationError(
                f"{self.subject or 'check'} did not complete",
                step=self.incomplete_reason,
                reason=self.incomplete_reason,
            )
        return VerificationError(self.message(step), step=step.id, reason=step.reason_code, details=self.details(step))

    def message(self, step: Step) -> str:
        """One line naming the failed step: ``title: detail``."""
        return f"{step.title}: {step.detail}" if step.detail else step.title

    def details(self, step: Step) -> dict[str, object]:
        """The failed step's id, spec, expected and actual values (for `LabkitError.details`)."""
        details: dict[str, object] = {"step": step.id}
        if step.spec:
            details["spec"] = step.spec
        if step.expected is not None:
            details["expected"] = step.expected
        if step.actual is not None:
            details["actual"] = step.actual
        return details

    def raise_for_failure(self) -> None:
        """Raise `error(failed step)` unless verified; do nothing when verified."""
        if self.verified:
            return
        raise self.error(self.failed_step)


#: A domain's steps: id -> (title, spec), in the order they run.
StepTable = Mapping[str, "tuple[str, str]"]

R = TypeVar("R", bound=CheckResult)

_new = object.__new__
_setattr = object.__setattr__
_STATUS = operator.attrgetter("status")
_ID = operator.attrgetter("id")


def _any_failed(steps: Iterable[Step]) -> bool:
    """``any(s.failed for s in steps)`` without a Python call per step (`Step.failed` is ``status is FAILED``)."""
    return any(map(operator.is_, map(_STATUS, steps), itertools.repeat(StepStatus.FAILED)))


class Stop(Exception):
    """Ends a run at its first failure: ``raise run.fail(...)``."""


class Recorder(Generic[R]):
    """The one way to record the steps of a check: titles and specs come from the domain's `StepTable`.

    ``run.passed(id, ...)`` records a pass, ``run.skip(id, detail)`` a step that did not run, and
    ``raise run.fail(id, detail, reason=...)`` a failure that ends the run. `Recorder.run` drives a body:
    it marks the result complete when the body returns, and lists the table's steps it did not reach.
    """

    def __init__(self, result: R, table: StepTable, *, title_args: Mapping[str, str] | None = None) -> None:
        self.result = result
        self.table = table
        self.title_args = dict(title_args or {})

    #: Values for ``{name}`` fields in the table's titles (e.g. the predicate type a title names).
    title_args: Mapping[str, str] = {}

    def make(
        self, step_id: str, status: StepStatus, detail: str = "", expected: Shown = None, actual: Shown = None,
        reason: str = "",
    ) -> Step:
        """The `Step` for `step_id` with the table's title (fields filled from `title_args`) and spec."""
        title, spec = self.table[step_id]
        if "{" in title:
            title = title.format_map(self.title_args)
        # The frozen dataclass's __init__ sets each field through object.__setattr__; giving the instance its
        # dict at once builds the same Step (equal, same hash and repr, fields in order) at a third of the cost,
        # which counts on the verify path's ~25 steps per bundle (ADR 0006; gate: tests/test_checks.py::
        # test_recorder_steps_*).
        step = _new(Step)
        _setattr(step, "__dict__", {"id": step_id, "title": title, "spec": spec, "status": status, "detail": detail,
                                    "expected": None if expected is None else str(expected),
                                    "actual": None if actual is None else str(actual), "reason": reason})
        return step

    def _add(
        self, step_id: str, status: StepStatus, detail: str, expected: Shown, actual: Shown, reason: str
    ) -> None:
        self.result.steps.append(self.make(step_id, status, detail, expected, actual, reason))

    def passed(
        self, step_id: str, detail: str = "", expected: Shown = None, actual: Shown = None
    ) -> None:
        """Record that `step_id` passed."""
        self.result.steps.append(self.make(step_id, StepStatus.PASSED, detail, expected, actual))

    def skip(self, step_id: str, detail: str = NOT_REACHED) -> None:
        """Record that `step_id` did not run, and why."""
        self._add(step_id, StepStatus.SKIPPED, detail, None, None, "")

    def fail(  # Any: expected/actual may be an error's details (LabkitError.details values are untyped)
        self, step_id: str, detail: str, *, reason: str = "", expected: object = None, actual: object = None
    ) -> Stop:
        """Record that `step_id` failed (`reason` refines its code) and return the `Stop` to raise."""
        self._add(step_id, StepStatus.FAILED, detail, None if expected is None else str(expected),
                  None if actual is None else str(actual), reason or step_id)
        return Stop()

    def fail_from(self, step_id: str, exc: LabkitError) -> Stop:
        """Record that `step_id` failed with `exc`'s message, reason and expected/actual details."""
        reason = getattr(exc, "reason", "") or step_id
        return self.fail(step_id, exc.message, reason=reason,
                         expected=exc.details.get("expected"), actual=exc.details.get("actual"))

    def check(
        self, step_id: str, ok: bool, detail: str = "", *, reason: str = "", expected: Shown = None,
        actual: Shown = None,
    ) -> None:
        """Record a pass when `ok`, else raise the failure (the one-line form of a comparison)."""
        if not ok:
            raise self.fail(step_id, detail, reason=reason, expected=expected, actual=actual)
        self.passed(step_id, detail, expected, actual)

    def record(
        self, step_id: str, ok: bool, detail: str = "", *, reason: str = "", expected: Shown = None,
        actual: Shown = None,
    ) -> bool:
        """Record a pass when `ok`, else a failure that does not end the run (later checks still run); returns `ok`."""
        if ok:
            self.passed(step_id, detail, expected, actual)
        else:
            self.fail(step_id, detail, reason=reason, expected=expected, actual=actual)
        return ok

    def finish_skipped(self) -> None:
        """List every step of the table not recorded yet as not reached."""
        done = set(map(_ID, self.result.steps))
        if done.issuperset(self.table):  # every step recorded (a run that reached its end): nothing to add
            return
        for step_id in self.table:
            if step_id not in done:
                self.skip(step_id, NOT_REACHED)

    def run(self, body: Callable[[Recorder[R]], None], *, skip_unreached: bool = True) -> R:
        """Run `body(self)`: complete when it returns, stopped at a `Stop`; then list unreached steps."""
        try:
            body(self)
            self.result.complete = True
        except Stop:
            pass
        if skip_unreached:
            self.finish_skipped()
        return self.result
