from __future__ import annotations

import json

from labkit.attacks import run_scenario
from tests.attacks.helpers import assert_both_halves


def test_image_forgery_reproduces_and_is_caught() -> None:
    out = run_scenario("ghsa-whqx-image")
    assert_both_halves(out, "cosign-legacy-trusted-root", reason="binding.digest")
    assert out.verdict("cosign-patched-legacy").reason == "tlog.signature_mismatch"
    # The forged annotation is a genuine rekorBundle: SET + Payload{body, integratedTime, logIndex, logID}.
    doc = json.loads(out.evidence["annotation"])
    assert set(doc) == {"SignedEntryTimestamp", "Payload"}
    assert set(doc["Payload"]) == {"body", "integratedTime", "logIndex", "logID"}
    assert [r["match"] for r in out.evidence["comparison"]] == ["NO", "NO", "NO"]
    assert "binding.digest" in out.evidence["labkit_checklist"]


def test_blob_forgery_reproduces_and_is_caught() -> None:
    out = run_scenario("ghsa-whqx-blob")
    assert_both_halves(out, "cosign-legacy-trusted-root", reason="binding.digest")
    doc = json.loads(out.evidence["bundle_file"])
    assert set(doc) == {"base64Signature", "rekorBundle"}


def test_outcome_is_deterministic() -> None:
    a, b = run_scenario("ghsa-whqx-image"), run_scenario("ghsa-whqx-image")
    assert a.report() == b.report()
    assert a.to_dict() == b.to_dict()
