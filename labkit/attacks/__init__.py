"""The attack lab: supply-chain attacks built for real against labkit's own log, CA and registry.

Each scenario (one module per attack family) builds a fresh sandbox, plays
the attacker's steps, runs the verifier that fell for the attack (a named
*vulnerable mode*, `labkit.attacks.vulnerable`) and labkit's verifier, and
returns an `Outcome`::

    >>> from labkit.attacks import run_scenario
    >>> outcome = run_scenario("bundle-copy")
    >>> outcome.reproduced, outcome.caught_by
    (True, 'binding.signature')

`scenarios()` lists the catalogue, `labkit.attacks.matrix` builds the attack
matrix, and ``labkit attack list|run|matrix`` drives it from a shell.
Vulnerable modes are reachable only through this package.
"""

from __future__ import annotations

from labkit.attacks.catalogue import get_scenario, run_scenario, scenarios
from labkit.attacks.scenario import LABKIT_MODE, Outcome, RegistryTarget, Verdict

__all__ = ["LABKIT_MODE", "Outcome", "RegistryTarget", "Verdict", "get_scenario", "run_scenario", "scenarios"]
