"""The witness-quorum option of bundle verification: a quorum of cosignatures on the bundle's checkpoint.

No Sigstore client checks witness cosignatures yet, and ``TrustedRoot`` has
no witness field, so the witnesses come from a policy file
(`labkit.witness.policy`). The check runs after
`labkit.verify.verifier.explain_bundle` and appends its steps to that
result, so the checklist shows them and ``raise_for_failure`` names them::

    result = explain_bundle(bundle, blob, trusted_root=root, key=key)
    require_witness_quorum(result, bundle, policy)   # adds witness.* steps
    result.raise_for_failure()

Only a verified result is checked further: a bundle that already failed
keeps its first failure.
"""

from __future__ import annotations

from labkit.bundle import Bundle
from labkit.checks import CheckResult, Recorder, StepTable
from labkit.errors import LabkitError
from labkit.keys import VerifyingKey
from labkit.tlog.checks import LogCheck
from labkit.witness.policy import Policy, explain_quorum

__all__ = ["require_witness_quorum"]

_SPEC = "C2SP tlog-cosignature"

#: The check `explain_witness_quorum` makes before each entry's quorum steps: id -> (title, spec).
BUNDLE_QUORUM_STEPS: StepTable = {
    "witness.checkpoint": ("The bundle carries a checkpoint to check", _SPEC),
}


def explain_witness_quorum(bundle: Bundle | bytes | str, policy: Policy, *, log_key: VerifyingKey | None = None,
                           now: int | None = None) -> CheckResult:
    """The quorum steps for every transparency log entry of `bundle` (a `Bundle` or its JSON; never raises)."""
    run = Recorder(LogCheck("witness quorum"), BUNDLE_QUORUM_STEPS)
    result = run.result
    try:
        bundle = bundle if isinstance(bundle, Bundle) else Bundle.from_json(bundle)
    except LabkitError as exc:
        run.record("witness.checkpoint", False, expected="a bundle", actual=exc.message,
                   reason="witness.no_checkpoint")
        return result
    entries = bundle.verification_material.tlog_entries
    if not entries:
        run.record("witness.checkpoint", False, expected="a log entry with a checkpoint",
                   actual="no transparency log entry", reason="witness.no_checkpoint")
        return result
    for n, entry in enumerate(entries):
        note = entry.inclusion_proof.checkpoint if entry.inclusion_proof else ""
        if not note:
            run.record("witness.checkpoint", False, expected="a checkpoint", actual=f"entry {n} has none",
                       reason="witness.no_checkpoint")
            return result
        check = explain_quorum(note, policy, log_key=log_key, now=now)
        result.steps.extend(check.steps)  # each entry's quorum steps (recorded by `explain_quorum`)
        if not check.verified:
            return result
    return result


def require_witness_quorum(result: CheckResult, bundle: Bundle | bytes | str, policy: Policy, *,
                           log_key: VerifyingKey | None = None, now: int | None = None) -> CheckResult:
    """Append the quorum steps to a verified `explain_bundle` result (in place; returned for chaining)."""
    if not result.verified:
        return result
    check = explain_witness_quorum(bundle, policy, log_key=log_key, now=now)
    result.steps.extend(check.steps)
    return result
