"""The transparency log's check results: the `labkit.checks` step model with the log's errors.

An ``explain_*`` call returns a `LogCheck` (ordered steps, never raises on
bad input); the matching ``verify_*`` call is ``explain_*(...)`` followed by
`raise_for_failure()`, which raises on the first failed step. Every step
names the spec it enforces.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.checks import CheckResult, Step
from labkit.errors import CheckpointError, LabkitError, VerificationError

__all__ = ["LogCheck"]


class CheckpointRefused(CheckpointError):
    """A signed checkpoint failed a check; `step` and `reason` name it."""

    def __init__(self, message: str, *, step: str, reason: str = "", details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.step = step
        self.reason = reason or step


def _message(result: CheckResult, step: Step) -> str:
    text = f"{result.subject} check {step.id} failed: {step.title.lower()}"
    if step.expected or step.actual:
        text += f" (expected {step.expected or ''}, got {step.actual or ''})"
    return text


@dataclass
class LogCheck(CheckResult):
    """The ordered steps of one log check (entry, witness); raises `VerificationError` naming the step."""

    def error(self, step: Step | None) -> LabkitError:
        """`VerificationError` whose `step` and `reason` are the failed step's id."""
        if step is None:
            return VerificationError(f"{self.subject} check did not complete", step=self.incomplete_reason)
        return VerificationError(_message(self, step), step=step.id, reason=step.reason_code,
                                 details={"expected": step.expected or "", "actual": step.actual or ""})


@dataclass
class CheckpointCheck(LogCheck):
    """The ordered steps of a signed-checkpoint check; raises `CheckpointRefused` (a `CheckpointError`)."""

    def error(self, step: Step | None) -> LabkitError:
        """`CheckpointRefused` naming the failed step."""
        if step is None:
            return CheckpointRefused(f"{self.subject} check did not complete", step=self.incomplete_reason)
        return CheckpointRefused(
            _message(self, step),
            step=step.id,
            reason=step.reason_code,
            details={"step": step.id, "expected": step.expected or "", "actual": step.actual or ""},
        )
