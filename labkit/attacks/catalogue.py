"""The attack catalogue: every scenario, listed explicitly in catalogue order.

A new scenario module defines its scenarios with `labkit.attacks.scenario.define` and adds them here;
nothing is registered by importing a module.
"""

from __future__ import annotations

from labkit.attacks.attestation import attestation_type
from labkit.attacks.bundle_forgery import ghsa_whqx_blob, ghsa_whqx_image
from labkit.attacks.downgrade import downgrade
from labkit.attacks.identity import expired_cert, identity_issuer, identity_regexp
from labkit.attacks.logs import log_rewrite, split_view
from labkit.attacks.racy import racy_storage
from labkit.attacks.relatives import bundle_copy, unrelated_entry
from labkit.attacks.scenario import Outcome, RegistryTarget, Scenario
from labkit.attacks.tags import cross_repo_replay, rollback, tag_swap
from labkit.attacks.tuf import TUF_SCENARIOS
from labkit.attacks.witnesses import forged_cosignature, witness_rewind, witness_split_view
from labkit.errors import AttackError
from labkit.lab import Lab

__all__ = ["get_scenario", "scenarios"]

#: Every scenario, in catalogue order (by number, then as listed).
CATALOGUE: tuple[Scenario, ...] = (
    tag_swap,
    rollback,
    cross_repo_replay,
    ghsa_whqx_image,
    ghsa_whqx_blob,
    unrelated_entry,
    bundle_copy,
    downgrade,
    log_rewrite,
    split_view,
    identity_regexp,
    identity_issuer,
    expired_cert,
    racy_storage,
    attestation_type,
    witness_split_view,
    witness_rewind,
    forged_cosignature,
    *TUF_SCENARIOS,
)


def scenarios() -> list[Scenario]:
    """Every scenario, in catalogue order."""
    return list(CATALOGUE)


def get_scenario(id: str) -> Scenario:
    """The scenario with this id; raises `AttackError` naming the known ids otherwise."""
    for scenario in CATALOGUE:
        if scenario.id == id:
            return scenario
    known = ", ".join(s.id for s in CATALOGUE)
    raise AttackError(f"unknown attack scenario {id!r}; known: {known}")


def run_scenario(id: str, lab: Lab | None = None, *, registry: RegistryTarget | None = None) -> Outcome:
    """Run scenario `id` in a fresh sandbox."""
    return get_scenario(id).run(lab, registry=registry)
