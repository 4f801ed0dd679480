"""Verification steps and results: the explain half of every check.

A verifier records one `Step` per check, in order: a stable id, a title, the
spec it enforces, its status and, when it matters, the expected and actual
values. `VerificationResult` holds the steps; `raise_for_failure()` turns the
first failed step into a `VerificationError` whose `reason` is stable.
A result that did not run to the end is *not* verified: a
bundle is never accepted because a check was skipped.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from labkit.errors import VerificationError

__all__ = ["NOT_REACHED", "Step", "StepStatus", "VerificationResult", "BundleVerificationError"]

#: The detail of a step skipped because an earlier step failed.
NOT_REACHED = "not reached"


class StepStatus(str, enum.Enum):
    """The outcome of one step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    """One check: `id` is stable (tests and pipelines match it), `reason` refines a failure."""

    id: str
    title: str
    spec: str
    status: StepStatus
    detail: str = ""
    expected: str | None = None
    actual: str | None = None
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status is StepStatus.PASSED

    @property
    def failed(self) -> bool:
        return self.status is StepStatus.FAILED

    @property
    def reason_code(self) -> str:
        """The failure reason code (`reason`, or the step id when none is finer)."""
        return self.reason or self.id

    def line(self) -> str:
        """One plain-text line: ``[ok] id: title``."""
        mark = {StepStatus.PASSED: "ok", StepStatus.FAILED: "FAIL", StepStatus.SKIPPED: "skip"}[self.status]
        text = f"[{mark:>4}] {self.id}: {self.title}"
        if self.detail:
            text += f" ({self.detail})"
        return text


class BundleVerificationError(VerificationError):
    """A bundle failed verification; `step` and `reason` name the failed check."""


@dataclass
class VerificationResult:
    """The ordered steps of one verification and what they established."""

    steps: list[Step] = field(default_factory=list)
    #: The identity (certificate SAN) or key that signed, once known.
    signer: str | None = None
    #: Verified signing times (ISO 8601), from verified sources only.
    verified_times: list[str] = field(default_factory=list)
    #: True once every check ran to the end (a run that stopped early is never verified).
    complete: bool = False

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    @property
    def verified(self) -> bool:
        """True only when every check ran and none failed."""
        return self.complete and bool(self.steps) and not any(s.failed for s in self.steps)

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
        return "" if self.verified else "incomplete"

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if it ran."""
        return next((s for s in self.steps if s.id == step_id), None)

    def checklist(self) -> str:
        """Plain-text checklist, one line per step, plus the verdict."""
        lines = [s.line() for s in self.steps if s.detail != NOT_REACHED]
        unreached = sum(1 for s in self.steps if s.detail == NOT_REACHED)
        if unreached:
            lines.append(f"[skip] {unreached} later check(s) not reached")
        failed = self.failed_step
        if failed is not None:
            if failed.expected is not None or failed.actual is not None:
                lines.append(f"  expected: {failed.expected}")
                lines.append(f"  actual:   {failed.actual}")
        lines.append("VERIFIED" if self.verified else f"REJECTED ({self.reason})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from labkit.display.checklist import verification_checklist

        return verification_checklist(self).html

    def raise_for_failure(self) -> None:
        """Raise `BundleVerificationError` naming the first failed step; do nothing when verified."""
        if self.verified:
            return
        step = self.failed_step
        if step is None:
            raise BundleVerificationError(
                "verification did not complete", step="incomplete", reason="incomplete"
            )
        details: dict[str, object] = {"step": step.id, "spec": step.spec}
        if step.expected is not None:
            details["expected"] = step.expected
        if step.actual is not None:
            details["actual"] = step.actual
        message = f"{step.title}: {step.detail}" if step.detail else step.title
        raise BundleVerificationError(message, step=step.id, reason=step.reason_code, details=details)
