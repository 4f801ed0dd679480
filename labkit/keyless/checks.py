"""Ordered check results for the keyless issuance path (token checks, proof of possession).

Every check the CA makes exists twice: an ``explain_*`` call returns an
`IssuanceCheck` (a `labkit.checks.CheckResult`: ordered steps, never raises
on bad input) and the enforcing call raises `IssuanceRefused` naming the
first failed step.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.checks import CheckResult, Step
from labkit.errors import KeylessError, LabkitError

__all__ = ["IssuanceCheck", "IssuanceRefused"]


class IssuanceRefused(KeylessError):
    """The CA (or the token check) refused; `step` names the check that failed, `reason` its code."""

    def __init__(
        self, message: str, *, step: str, reason: str = "", details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, details={"step": step, **(details or {})})
        self.step = step
        self.reason = reason or step


@dataclass
class IssuanceCheck(CheckResult):
    """The ordered steps of one keyless decision (token checks, then the CA's); raises `IssuanceRefused`."""

    passed_verdict = "ACCEPTED"
    failed_verdict = "REFUSED"

    def error(self, step: Step | None) -> LabkitError:
        """`IssuanceRefused` naming the failed step, with its expected and actual values."""
        if step is None:
            return IssuanceRefused(f"{self.subject} refused: the checks did not complete", step=self.incomplete_reason)
        details: dict[str, object] = {}
        if step.expected:
            details["expected"] = step.expected
        if step.actual:
            details["actual"] = step.actual
        return IssuanceRefused(
            f"{self.subject} refused at {step.id}: {step.detail}",
            step=step.id,
            reason=step.reason_code,
            details=details,
        )
