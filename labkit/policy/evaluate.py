"""Admission decisions: does each image satisfy the policies that match it?

The evaluator does not read storage itself. It asks an `EvidenceSource`
for the signatures and attestations found for an image. The source has
already checked what needs no policy input (the payload names this image's
digest; a keyless certificate chains to the trust root and its log entry
verifies) and hands back `Evidence` items; the evaluator then asks the
policy questions: was it signed by this key, does the certificate name
this identity, is the predicate of the required type, does it parse as that
type, do its conditions hold?

`evaluate` returns one `Decision` per image and never raises on bad
evidence; `enforce` raises `VerificationError` naming the policy that denied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from labkit._internal.jsonio import JSONValue
from labkit.attest.predicates import resolve_predicate_type
from labkit.errors import LabkitError, VerificationError
from labkit.keys import VerifyingKey
from labkit.policy.glob import _kyverno_regex, normalize_image
from labkit.policy.model import (
    AttestationRequirement,
    Authority,
    AuthorityGroup,
    Condition,
    ConditionBlock,
    Policy,
)

__all__ = ["Evidence", "evaluate"]


@dataclass(eq=False)
class Evidence:
    """One signature or attestation found for an image.

    `signed_bytes` are the bytes the signature covers (the simple-signing
    payload, or the DSSE PAE). `certificate_key` is the key of a keyless
    certificate the source verified, with its `issuer` and `subject`.
    `checker`, when set, replaces the bare signature check for a candidate
    key (a source uses it to run the full bundle verification, log included).
    """

    kind: str  # "signature" or "attestation"
    signed_bytes: bytes
    signature: bytes
    issuer: str | None = None
    subject: str | None = None
    certificate_key: VerifyingKey | None = None
    predicate_type: str | None = None
    predicate: Any = None
    where: str = ""
    checker: Callable[[VerifyingKey], bool] | None = field(default=None, repr=False)
    _cache: dict[bytes, bool] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def signed_by(self, key: VerifyingKey) -> bool:
        """Does the signature over `signed_bytes` verify with `key`? (cached per key)"""
        der = key.der()
        with self._lock:
            cached = self._cache.get(der)
        if cached is not None:
            return cached
        if self.checker is not None and key is not self.certificate_key:
            ok = bool(self.checker(key))
        else:
            try:
                key.verify(self.signature, self.signed_bytes)
                ok = True
            except LabkitError:
                ok = False
        with self._lock:
            self._cache[der] = ok
        return ok


class EvidenceSource(Protocol):
    """Where the evaluator gets an image's signatures and attestations."""

    def evidence(self, image: str) -> Sequence[Evidence]:
        """Everything found for `image`; raise a `LabkitError` if the image cannot be looked up."""
        ...


@dataclass
class StaticEvidenceSource:
    """Evidence given up front, keyed by fully written image name (tests, benchmarks, notebooks)."""

    items: dict[str, list[Evidence]] = field(default_factory=dict)

    def add(self, image: str, evidence: Evidence) -> None:
        """Record `evidence` for `image`."""
        self.items.setdefault(normalize_image(image).name(), []).append(evidence)

    def evidence(self, image: str) -> Sequence[Evidence]:
        """The evidence stored for `image`."""
        return self.items.get(normalize_image(image).name(), [])


@dataclass(frozen=True)
class PolicyResult:
    """The outcome of one policy for one image."""

    policy: str
    kind: str
    mode: str
    ok: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    """allow or deny for one image, with the reason and each matching policy's result."""

    image: str
    allowed: bool
    reason: str
    results: tuple[PolicyResult, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``allow`` or ``deny``."""
        return "allow" if self.allowed else "deny"


def _lookup(predicate: JSONValue, path: tuple[str, ...]) -> Any:
    value = predicate
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _eq(actual: JSONValue, expected: JSONValue) -> bool:
    if isinstance(expected, str) and isinstance(actual, str) and any(c in expected for c in "*?"):
        return _kyverno_regex(expected).match(actual) is not None
    return bool(actual == expected)


def _as_list(v: JSONValue) -> list[JSONValue]:
    return v if isinstance(v, list) else [v]


def _condition_holds(c: Condition, predicate: JSONValue) -> bool:
    actual = _lookup(predicate, c.path)
    op, expected = c.operator, c.value
    if op == "Equals":
        return _eq(actual, expected)
    if op == "NotEquals":
        return not _eq(actual, expected)
    if op in ("In", "AnyIn"):
        return any(any(_eq(a, e) for e in _as_list(expected)) for a in _as_list(actual))
    if op == "AllIn":
        return all(any(_eq(a, e) for e in _as_list(expected)) for a in _as_list(actual))
    if op in ("NotIn", "AllNotIn"):
        return not any(any(_eq(a, e) for e in _as_list(expected)) for a in _as_list(actual))
    if op == "AnyNotIn":
        return any(not any(_eq(a, e) for e in _as_list(expected)) for a in _as_list(actual))
    try:
        a, e = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {"GreaterThan": a > e, "GreaterThanOrEquals": a >= e,
            "LessThan": a < e, "LessThanOrEquals": a <= e}[op]


def _block_holds(b: ConditionBlock, predicate: JSONValue) -> str | None:
    for c in b.all:
        if not _condition_holds(c, predicate):
            return f"condition failed: {c.describe()}"
    if b.any and not any(_condition_holds(c, predicate) for c in b.any):
        return "no 'any' condition holds: " + "; ".join(c.describe() for c in b.any)
    return None


def _signer_matches(auth: Authority, ev: Evidence) -> bool:
    if auth.keys:
        return any(ev.signed_by(k) for k in auth.keys)
    if auth.identities:
        if ev.certificate_key is None or not ev.signed_by(ev.certificate_key):
            return False
        return any(i.matches(ev.issuer, ev.subject) for i in auth.identities)
    return False


def _predicate_ok(req: AttestationRequirement, ev: Evidence) -> str | None:
    try:
        ptype = resolve_predicate_type(req.predicate_type)
    except LabkitError as exc:
        return exc.message
    check = ptype.check_steps(ev.predicate)
    if not check.verified:
        failed = check.failed_step
        assert failed is not None
        return f"predicate is not a valid {ptype.name} ({failed.id}): {failed.detail}"
    for block in req.conditions:
        problem = _block_holds(block, ev.predicate)
        if problem:
            return problem
    if req.cue is not None:
        statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": ev.predicate_type,
                     "predicate": ev.predicate}
        violations = req.cue.violations(statement)
        if violations:
            return "CUE policy: " + "; ".join(violations)
    return None


def _authority(auth: Authority, evidence: Sequence[Evidence]) -> tuple[bool, str]:
    """Is `auth` satisfied by `evidence`? Returns (ok, reason)."""
    if auth.static == "pass":
        return True, f"{auth.name}: static pass"
    if auth.static == "fail":
        return False, f"{auth.name}: static fail"
    if not auth.attestations:
        sigs = [e for e in evidence if e.kind == "signature"]
        if not sigs:
            return False, f"{auth.name}: no signature found"
        if any(_signer_matches(auth, e) for e in sigs):
            return True, f"{auth.name}: signature verified"
        return False, f"{auth.name}: no signature from {auth.describe()}"
    for req in auth.attestations:
        # GHSA-vjxv-45g9-9296: an attestation of another type never satisfies the requirement.
        of_type = [e for e in evidence if e.kind == "attestation" and e.predicate_type == req.predicate_type]
        if not of_type:
            return False, f"{auth.name}: no attestation of type {req.predicate_type}"
        signed = [e for e in of_type if _signer_matches(auth, e)]
        if not signed:
            return False, f"{auth.name}: no {req.predicate_type} attestation from {auth.describe()}"
        problems = [_predicate_ok(req, e) for e in signed]
        if all(p is not None for p in problems):
            return False, f"{auth.name}: attestation {req.name}: {problems[0]}"
    names = ", ".join(r.name for r in auth.attestations)
    return True, f"{auth.name}: attestations verified ({names})"


def _group(group: AuthorityGroup, evidence: Sequence[Evidence]) -> tuple[bool, str]:
    outcomes = [_authority(a, evidence) for a in group.authorities]
    passed = [r for ok, r in outcomes if ok]
    if len(passed) >= group.required:
        return True, passed[0]
    failed = "; ".join(r for ok, r in outcomes if not ok)
    need = "" if group.required == 1 else f" (needed {group.required} of {len(group.authorities)})"
    return False, failed + need


def _policy(policy: Policy, evidence: Sequence[Evidence]) -> PolicyResult:
    reasons = []
    for g in policy.groups:
        ok, reason = _group(g, evidence)
        if not ok:
            return PolicyResult(policy.name, policy.kind, policy.mode, False, reason)
        reasons.append(reason)
    return PolicyResult(policy.name, policy.kind, policy.mode, True, "; ".join(reasons))


def evaluate_image(policies: Sequence[Policy], image: str, source: EvidenceSource, *,
                   no_match: str = "deny") -> Decision:
    """The decision for one image; never raises on bad input or evidence.

    `no_match` is what happens when no policy matches (policy-controller's
    ``no-match-policy``: ``deny`` by default, or ``warn``/``allow``).
    """
    try:
        normalize_image(image)
    except LabkitError as exc:
        return Decision(image, False, f"image reference does not parse: {exc.message}")
    matching = [p for p in policies if p.matches(image)]
    if not matching:
        if no_match == "allow":
            return Decision(image, True, "no policy matches (no-match policy: allow)")
        if no_match == "warn":
            return Decision(image, True, "no policy matches", warnings=("no policy matches this image",))
        return Decision(image, False, "no policy matches this image (no-match policy: deny)")
    try:
        evidence = list(source.evidence(image))
    except LabkitError as exc:
        return Decision(image, False, f"cannot look up signatures: {exc.message}")
    results = tuple(_policy(p, evidence) for p in matching)
    denied = [r for r in results if not r.ok and r.mode == "enforce"]
    warnings = tuple(f"{r.policy}: {r.reason}" for r in results if not r.ok and r.mode == "warn")
    if denied:
        return Decision(image, False, "; ".join(f"{r.policy}: {r.reason}" for r in denied), results, warnings)
    passed = "; ".join(f"{r.policy}: {r.reason}" for r in results if r.ok) or "only warn-mode policies failed"
    return Decision(image, True, passed, results, warnings)


def evaluate(policies: Sequence[Policy], images: Iterable[str], source: EvidenceSource, *,
             no_match: str = "deny") -> list[Decision]:
    """One `Decision` per image, in order (an admission dry run)."""
    return [evaluate_image(policies, i, source, no_match=no_match) for i in images]


def enforce(policies: Sequence[Policy], image: str, source: EvidenceSource, *, no_match: str = "deny") -> Decision:
    """Return the allow decision, or raise `VerificationError` naming the policy that denied."""
    d = evaluate_image(policies, image, source, no_match=no_match)
    if not d.allowed:
        failed = next((r.policy for r in d.results if not r.ok and r.mode == "enforce"), "no-match")
        raise VerificationError(f"{image} denied: {d.reason}", step=f"policy:{failed}", reason="policy.denied",
                                details={"image": image})
    return d


def decisions_table(decisions: Sequence[Decision]) -> Any:
    """The decisions as a pandas DataFrame (image, decision, reason)."""
    import pandas as pd

    return pd.DataFrame(
        [{"image": d.image, "decision": d.verdict, "reason": d.reason} for d in decisions],
        columns=["image", "decision", "reason"],
    )

