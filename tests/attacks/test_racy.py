from __future__ import annotations

import pytest

from labkit.attacks.scenario import RegistryTarget, run_scenario

from tests.attacks.helpers import assert_both_halves


def test_racy_storage_on_a_layout() -> None:
    out = run_scenario("racy-storage")
    assert_both_halves(out, "cosign-read-append-write", reason="signatures.all_kept")
    assert out.evidence["cosign-read-append-write: signatures kept"] == "1 of 2"
    assert out.evidence["labkit: signatures kept"] == "2 of 2"


@pytest.mark.registry
def test_racy_storage_against_the_real_registry(registry_target: RegistryTarget) -> None:
    out = run_scenario("racy-storage", registry=registry_target)
    assert_both_halves(out, "cosign-read-append-write", reason="signatures.all_kept")
    assert out.evidence["labkit: signatures kept"] == "2 of 2"
