from __future__ import annotations

from labkit.attacks import run_scenario
from tests.attacks.helpers import assert_both_halves


def test_attestation_type_confusion() -> None:
    out = run_scenario("attestation-type")
    assert_both_halves(out, "cosign-verify-attestation-pre-1.10.1", reason="attestation.found")
    assert out.evidence["attached types"] == ["https://cosign.sigstore.dev/attestation/vuln/v1"]
