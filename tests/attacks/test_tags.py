from __future__ import annotations

import pytest

from labkit.attacks import RegistryTarget, run_scenario
from tests.attacks.helpers import assert_both_halves


def test_tag_swap_on_a_layout() -> None:
    out = run_scenario("tag-swap")
    assert_both_halves(out, "verify-then-pull-by-tag", reason="image.digest_pinned")
    assert out.evidence["installed"] == {"vulnerable": "malicious", "labkit": "verified"}
    assert out.evidence["current_tag_verifies"] == "no (signatures.found)"
    assert [m["actor"] for m in out.evidence["tag_history"]] == ["publisher", "attacker", "publisher", "attacker"]


@pytest.mark.registry
def test_tag_swap_against_the_real_registry(registry_target: RegistryTarget) -> None:
    out = run_scenario("tag-swap", registry=registry_target)
    assert out.evidence["store"] == "registry"
    assert_both_halves(out, "verify-then-pull-by-tag", reason="image.digest_pinned")
    # Forensics: distribution keeps a link for every digest the tag ever pointed to.
    assert len(out.evidence["registry_tag_index"]) == 2


def test_rollback() -> None:
    out = run_scenario("rollback")
    assert_both_halves(out, "cosign-claims-digest-only", reason="payload.annotation.tag")


def test_cross_repo_replay_and_its_cost() -> None:
    out = run_scenario("cross-repo-replay")
    assert_both_halves(out, "cosign-claims-digest-only", reason="payload.docker_reference")
    assert out.evidence["cost"] == {"mirror, not listed": "rejected (payload.docker_reference)",
                                    "mirror, listed": "accepted"}


@pytest.mark.registry
def test_rollback_and_replay_against_the_real_registry(registry_target: RegistryTarget) -> None:
    for sid, reason in (("rollback", "payload.annotation.tag"), ("cross-repo-replay", "payload.docker_reference")):
        assert_both_halves(run_scenario(sid, registry=registry_target), "cosign-claims-digest-only", reason=reason)
