from __future__ import annotations

from labkit.attacks import run_scenario
from labkit.attacks.relatives import malleate
from labkit.keys import generate
from labkit.lab import Lab
from tests.attacks.helpers import assert_both_halves


def test_unrelated_entry_cve_2022_36056() -> None:
    out = run_scenario("unrelated-entry")
    assert_both_halves(out, "cosign-verify-blob-pre-1.12", reason="binding.digest")


def test_bundle_copy_ghsa_ccxc() -> None:
    out = run_scenario("bundle-copy")
    assert_both_halves(out, "cosign-bundle-no-sig-compare", reason="binding.signature")
    assert out.verdict("cosign-patched-legacy").reason == "tlog.signature_mismatch"


def test_malleated_signature_is_valid_and_different() -> None:
    key = generate("ecdsa-p256", lab=Lab(seed="t"), label="k")
    sig = key.sign(b"m")
    twin = malleate(sig)
    assert twin != sig
    key.public_key().verify(twin, b"m")
