"""Signed times in the future are refused beyond the clock-skew allowance (issue 12 #4)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.lab import FixedClock
from labkit.verify import REASONS, Artifact, Identity, explain_bundle, verify_bundle
from labkit.verify.verifier import MAX_CLOCK_SKEW
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
POLICY = Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")
FUTURE = dt.datetime(2041, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _integrated_time(case: str) -> dt.datetime:
    doc = json.loads((CASES / case / "bundle.sigstore.json").read_text())
    seconds = int(doc["verificationMaterial"]["tlogEntries"][0]["integratedTime"])
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def test_the_reason_is_declared() -> None:
    assert REASONS["time.in_future"][0] == "time.verified_source"
    assert dt.timedelta(seconds=60) == MAX_CLOCK_SKEW


def test_an_integrated_time_after_now_is_refused() -> None:
    """The verifier's clock before the log's signed integrated time: refused with its own reason."""
    bundle = (CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    artifact = Artifact.from_path(CASES / "a.txt")
    signed = _integrated_time("happy-path-v0.3")
    early = explain_bundle(bundle, artifact, None, POLICY, clock=FixedClock(signed - dt.timedelta(days=400)))
    assert early.reason == "time.in_future", early.checklist()
    step = early.failed_step
    assert step is not None and step.id == "time.verified_source"
    assert step.actual == signed.isoformat() and step.expected and step.expected.startswith("<= ")
    assert "integrated time" in step.detail and "clock-skew" in step.detail
    # within the allowance (a verifier clock a little behind) and afterwards it verifies
    within = FixedClock(signed - MAX_CLOCK_SKEW + dt.timedelta(seconds=1))
    assert explain_bundle(bundle, artifact, None, POLICY, clock=within).verified
    assert verify_bundle(bundle, artifact, None, POLICY).verified  # the system clock


def test_a_timestamp_after_now_is_refused() -> None:
    """An RFC 3161 genTime after the verifier's now (Rekor v2: the TSA is the only time source)."""
    case = CASES / "rekor2-happy-path"
    bundle, root = (case / "bundle.sigstore.json").read_bytes(), (case / "trusted_root.json").read_bytes()
    artifact = Artifact.from_path(CASES / "a.txt")
    ok = explain_bundle(bundle, artifact, root, POLICY)
    assert ok.verified and ok.verified_times, ok.checklist()
    gen_time = dt.datetime.fromisoformat(ok.verified_times[0])
    result = explain_bundle(bundle, artifact, root, POLICY, clock=FixedClock(gen_time - dt.timedelta(hours=2)))
    assert result.reason == "time.in_future", result.checklist()
    assert result.failed_step is not None and "RFC 3161 timestamp" in result.failed_step.detail
    assert result.failed_step.actual == gen_time.isoformat()


def test_a_lab_log_running_ahead_is_refused(tmp_path: Path) -> None:
    """A bundle made with a clock years ahead: refused today, fine for a verifier whose clock is that lab's."""
    with Instance.create(tmp_path / "inst", seed="future-times", clock=FixedClock(FUTURE)) as inst:
        bundle = sign_blob_keyless(inst, b"from the future\n", identity="alice@example.com")
        root = inst.trusted_root_json()
        policy = Identity(identity="alice@example.com", issuer=inst.issuer.url)
    result = explain_bundle(bundle, b"from the future\n", root, policy)
    assert result.reason == "time.in_future", result.checklist()
    assert result.failed_step is not None and (result.failed_step.actual or "").startswith("2041-03-01")
    later = FixedClock(FUTURE + dt.timedelta(minutes=5))
    assert explain_bundle(bundle, b"from the future\n", root, policy, clock=later).verified
