"""Ordered check steps for the transparency log's explain-then-enforce calls.

An ``explain_*`` call returns a `CheckResult` (never raises on bad input);
the matching ``verify_*`` call raises on its first failed step. Every step
names the spec it enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CheckResult", "Step"]


@dataclass(frozen=True)
class Step:
    """One check: a stable id, what it checks, the spec, and how it went."""

    id: str
    title: str
    spec: str
    status: str  # "passed" | "failed" | "skipped" (as labkit.display.html.checklist expects)
    expected: str = ""
    actual: str = ""

    @property
    def ok(self) -> bool:
        """True unless the step failed."""
        return self.status != "failed"


@dataclass
class CheckResult:
    """The ordered steps of one check; `ok` when none failed."""

    what: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step passed (or was skipped)."""
        return all(s.ok for s in self.steps)

    @property
    def verified(self) -> bool:
        """Same as `ok` (the name `labkit.display.html.checklist` reads)."""
        return self.ok

    @property
    def reason(self) -> str:
        """The id of the first failed step, or empty."""
        failed = self.failed
        return failed.id if failed else ""

    @property
    def failed(self) -> Step | None:
        """The first failed step, if any."""
        return next((s for s in self.steps if not s.ok), None)

    def add(self, id: str, title: str, spec: str, ok: bool, expected: object = "", actual: object = "") -> bool:
        """Record a step and return whether it passed."""
        self.steps.append(Step(id, title, spec, "passed" if ok else "failed", str(expected), str(actual)))
        return ok

    def skip(self, id: str, title: str, spec: str, why: str) -> None:
        """Record a step that could not run because an earlier one failed."""
        self.steps.append(Step(id, title, spec, "skipped", "", why))

    def rows(self) -> list[dict[str, str]]:
        """The steps as plain dicts (for tables)."""
        return [
            {"step": s.id, "title": s.title, "spec": s.spec, "status": s.status, "expected": s.expected, "actual": s.actual}
            for s in self.steps
        ]
