"""Verification steps and results: the explain half of bundle verification.

The step model is `labkit.checks` (re-exported here): a verifier records one
`Step` per check, in order. `VerificationResult` adds what the verification
established (signer, verified times); `raise_for_failure()` turns the first
failed step into a `BundleVerificationError` whose `reason` is stable. A
result that did not run to the end is *not* verified: a bundle is never
accepted because a check was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.checks import CheckResult, Step, StepStatus
from labkit.errors import LabkitError, VerificationError

__all__ = ["Step", "StepStatus", "VerificationResult"]


class BundleVerificationError(VerificationError):
    """A bundle failed verification; `step` and `reason` name the failed check."""


@dataclass
class VerificationResult(CheckResult):
    """The ordered steps of one bundle verification and what they established."""

    subject: str = "bundle"
    complete: bool = False
    #: The identity (certificate SAN) or key that signed, once known.
    signer: str | None = None
    #: Verified signing times (ISO 8601), from verified sources only.
    verified_times: list[str] = field(default_factory=list)

    def error(self, step: Step | None) -> LabkitError:
        """`BundleVerificationError` naming the failed step (``incomplete`` when the run stopped early)."""
        if step is None:
            return BundleVerificationError("verification did not complete", step="incomplete", reason="incomplete")
        return BundleVerificationError(
            self.message(step), step=step.id, reason=step.reason_code, details=self.details(step)
        )
