"""Ordered check results for the keyless issuance path (token checks, proof of possession).

Every check the CA makes exists twice: an ``explain_*`` call returns a
`CheckReport` (ordered `Check` steps, never raises on bad input) and the
enforcing call raises a `KeylessError` naming the first failed step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from labkit.errors import KeylessError

__all__ = ["Check", "CheckReport", "IssuanceRefused"]


class IssuanceRefused(KeylessError):
    """The CA (or the token check) refused; `step` names the check that failed."""

    def __init__(self, message: str, *, step: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details={"step": step, **(details or {})})
        self.step = step


@dataclass(frozen=True)
class Check:
    """One step: stable `id`, human `title`, the `spec` it enforces, `status` ok/fail/skip."""

    id: str
    title: str
    spec: str
    status: str
    expected: str = ""
    actual: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the step passed (or was skipped)."""
        return self.status != "fail"


@dataclass
class CheckReport:
    """The ordered steps of one decision; `ok` when none failed."""

    subject: str
    steps: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> Check | None:
        """The first failed step, if any."""
        return next((s for s in self.steps if not s.ok), None)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.steps)

    def add(self, check: Check) -> bool:
        """Append `check`; returns whether it passed."""
        self.steps.append(check)
        return check.ok

    def rows(self) -> list[dict[str, str]]:
        """The steps as plain rows (for a table)."""
        return [
            {"step": s.id, "check": s.title, "status": s.status, "expected": s.expected, "actual": s.actual,
             "spec": s.spec}
            for s in self.steps
        ]

    def raise_for_failure(self) -> None:
        """Raise `IssuanceRefused` naming the first failed step."""
        bad = self.failed
        if bad is not None:
            details: dict[str, object] = {}
            if bad.expected:
                details["expected"] = bad.expected
            if bad.actual:
                details["actual"] = bad.actual
            raise IssuanceRefused(f"{self.subject} refused at {bad.id}: {bad.message}", step=bad.id, details=details)
