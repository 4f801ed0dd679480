"""The attack-lab framework: the scenario definition and the structured outcome.

A `Scenario` names one attack: a stable id, a title, the advisories or CVEs
it reproduces, the verifier modes it is played against and the behaviour
that fixes it. Running it builds a fresh sandbox, plays the attacker's
steps and returns an `Outcome`: the steps taken, the artifacts touched, a
`ModeVerdict` per verifier mode and the reason code of the check that caught
it.

An attack *reproduces* when at least one vulnerable mode accepts it, and is
*caught* when labkit's verifier rejects it with the scenario's expected
reason code. `Outcome.ok` needs both: a scenario that no longer reproduces
is a failure, never a silent pass.

Scenario modules define their scenarios with `define`; `labkit.attacks.catalogue`
lists them explicitly (no registry filled by import side effects).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labkit.attacks.vulnerable import mode_info
from labkit.errors import AttackError, LabkitError
from labkit.lab import Lab

__all__ = ["Outcome", "RegistryTarget", "define"]

#: The mode id of labkit's current verifier in every outcome.
LABKIT_MODE = "labkit"


class Verdict(str, enum.Enum):
    """What one verifier mode concluded."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    #: The mode could not run (a component it needs is missing); never counts as caught.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class AttackStep:
    """One step of the story: who acted (attacker, victim, verifier) and what they did."""

    actor: str
    text: str

    def line(self) -> str:
        """The step as one line: actor, then text."""
        return f"{self.actor:>8}: {self.text}"


@dataclass(frozen=True)
class ArtifactTouched:
    """Something the attack created, changed or replayed: its kind, a name and a short detail."""

    kind: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class ModeVerdict:
    """One verifier mode's conclusion; `reason` is the reason code of a rejection."""

    mode: str
    label: str
    verdict: Verdict
    reason: str = ""
    detail: str = ""
    vulnerable: bool = False

    @property
    def accepted(self) -> bool:
        """Whether this mode accepted the attack."""
        return self.verdict is Verdict.ACCEPTED

    def line(self) -> str:
        """The verdict as one line: verdict, mode label, reason."""
        text = f"{self.verdict.value.upper():<8} {self.label}"
        if self.reason:
            text += f"  [{self.reason}]"
        return text


@dataclass
class Outcome:
    """The result of running a scenario once."""

    scenario: Scenario
    steps: list[AttackStep] = field(default_factory=list)
    artifacts: list[ArtifactTouched] = field(default_factory=list)
    verdicts: list[ModeVerdict] = field(default_factory=list)
    #: Free-form extra evidence (tables, forensics lines) for notebooks and the CLI.
    evidence: dict[str, Any] = field(default_factory=dict)

    # -- recording -------------------------------------------------------
    def step(self, actor: str, text: str) -> None:
        """Record a step of the story."""
        self.steps.append(AttackStep(actor, text))

    def touch(self, kind: str, name: str, detail: str = "") -> None:
        """Record an artifact the attack touched."""
        self.artifacts.append(ArtifactTouched(kind, name, detail))

    def judge(self, mode: str, accepted: bool, reason: str = "", detail: str = "") -> ModeVerdict:
        """Record what `mode` concluded (its label and vulnerability come from the mode registry)."""
        label, vulnerable = mode_info(mode)
        verdict = ModeVerdict(
            mode, label, Verdict.ACCEPTED if accepted else Verdict.REJECTED,
            "" if accepted else (reason or "rejected"), detail, vulnerable,
        )
        self.verdicts.append(verdict)
        return verdict

    def judge_call(self, mode: str, check: Callable[[], object]) -> ModeVerdict:
        """Run `check`; returning is acceptance, a `LabkitError` is rejection with its reason code."""
        try:
            check()
        except LabkitError as exc:
            reason = str(getattr(exc, "reason", "") or type(exc).__name__)
            return self.judge(mode, False, reason, exc.message)
        except ImportError as exc:
            return self.unavailable(mode, f"component missing: {exc.name or exc}")
        return self.judge(mode, True)

    def unavailable(self, mode: str, detail: str) -> ModeVerdict:
        """Record that `mode` could not run."""
        label, vulnerable = mode_info(mode)
        verdict = ModeVerdict(mode, label, Verdict.UNAVAILABLE, "unavailable", detail, vulnerable)
        self.verdicts.append(verdict)
        return verdict

    # -- reading ---------------------------------------------------------
    def verdict(self, mode: str) -> ModeVerdict:
        """The verdict of `mode` (raises `AttackError` if that mode did not run)."""
        for v in self.verdicts:
            if v.mode == mode:
                return v
        raise AttackError(f"mode {mode!r} did not run in scenario {self.scenario.id!r}")

    @property
    def reproduced(self) -> bool:
        """True when every vulnerable mode of the scenario accepted the attack."""
        vulnerable = [v for v in self.verdicts if v.vulnerable]
        return bool(vulnerable) and all(v.accepted for v in vulnerable)

    @property
    def caught_by(self) -> str:
        """The reason code labkit's verifier rejected with ("" if it accepted)."""
        labkit = [v for v in self.verdicts if v.mode == LABKIT_MODE]
        return labkit[0].reason if labkit and labkit[0].verdict is Verdict.REJECTED else ""

    @property
    def caught(self) -> bool:
        """True when labkit rejected the attack with the scenario's expected reason code."""
        return self.caught_by == self.scenario.expected_reason

    @property
    def ok(self) -> bool:
        """The attack reproduces against its vulnerable modes AND labkit catches it."""
        return self.reproduced and self.caught

    def report(self) -> str:
        """Plain text: header, steps, artifacts, verdicts, conclusion. Deterministic."""
        s = self.scenario
        lines = [f"{s.id}: {s.title}"]
        if s.refs:
            lines.append("refs: " + ", ".join(s.refs))
        lines.append("")
        lines.append("steps:")
        lines += [f"  {i}. [{st.actor}] {st.text}" for i, st in enumerate(self.steps, 1)]
        if self.artifacts:
            lines.append("artifacts touched:")
            lines += [f"  - {a.kind} {a.name}" + (f" ({a.detail})" if a.detail else "") for a in self.artifacts]
        lines.append("verdicts:")
        lines += ["  " + v.line() for v in self.verdicts]
        lines.append("")
        lines.append(f"fixed behaviour: {s.fixed_behaviour}")
        lines.append(f"reproduces against the vulnerable mode(s): {'yes' if self.reproduced else 'NO'}")
        got = next((v.verdict.value if v.verdict is not Verdict.REJECTED else v.reason
                    for v in self.verdicts if v.mode == LABKIT_MODE), "not run")
        caught = f"yes ({self.caught_by})" if self.caught else f"NO (expected {s.expected_reason}, got {got})"
        lines.append(f"caught by labkit: {caught}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.scenario.id,
            "title": self.scenario.title,
            "refs": list(self.scenario.refs),
            "steps": [{"actor": st.actor, "text": st.text} for st in self.steps],
            "artifacts": [{"kind": a.kind, "name": a.name, "detail": a.detail} for a in self.artifacts],
            "verdicts": [
                {"mode": v.mode, "label": v.label, "verdict": v.verdict.value, "reason": v.reason,
                 "detail": v.detail, "vulnerable": v.vulnerable}
                for v in self.verdicts
            ],
            "reproduced": self.reproduced,
            "caught_by": self.caught_by,
            "ok": self.ok,
        }


Runner = Callable[["Scenario", Lab], Outcome]


@dataclass(frozen=True)
class RegistryTarget:
    """A running OCI registry for scenarios that need one: its URL and (optionally) its storage root."""

    url: str
    storage: str | None = None


@dataclass(frozen=True)
class Scenario:
    """One attack in the catalogue."""

    id: str
    number: int
    title: str
    refs: tuple[str, ...]
    summary: str
    fixed_behaviour: str
    expected_reason: str
    modes: tuple[str, ...]
    runner: Runner = field(repr=False, compare=False)
    #: The registry a run plays against (None: an OCI layout sandbox); set by `run`, read by the runner.
    target: RegistryTarget | None = field(default=None, repr=False, compare=False)

    def run(self, lab: Lab | None = None, *, registry: RegistryTarget | None = None) -> Outcome:
        """Build a fresh sandbox and play the attack (deterministic for a given `lab` seed).

        `registry`: play registry scenarios against this running registry
        instead of an OCI layout.
        """
        lab = lab if lab is not None else Lab(seed=f"attack/{self.id}")
        return self.runner(dataclasses.replace(self, target=registry), lab)

    def outcome(self) -> Outcome:
        """An empty outcome for this scenario (runners fill it in)."""
        return Outcome(self)


def define(
    id: str,
    *,
    number: int,
    title: str,
    refs: tuple[str, ...],
    summary: str,
    fixed_behaviour: str,
    expected_reason: str,
    modes: tuple[str, ...],
) -> Callable[[Runner], Scenario]:
    """Decorator: make `fn(scenario, lab) -> Outcome` scenario `id` (listed in `labkit.attacks.catalogue`)."""

    def wrap(fn: Runner) -> Scenario:
        return Scenario(id, number, title, refs, summary, fixed_behaviour, expected_reason, modes, fn)

    return wrap
