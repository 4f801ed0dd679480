"""The registry, the outcome and the isolation of vulnerable modes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from labkit.attacks import get_scenario, scenarios
from labkit.attacks.vulnerable import MODES
from labkit.errors import AttackError


def test_every_issue_scenario_is_registered() -> None:
    numbers = {s.number for s in scenarios()}
    # 1-10: issue 12; 11: witnesses of a Rekor v2 tile log (issue 15); 12: what TUF stops (issue 16)
    assert numbers == set(range(1, 13))
    for s in scenarios():
        assert s.refs and s.fixed_behaviour and s.expected_reason
        assert all(m in MODES for m in s.modes)
        assert any(MODES[m].vulnerable for m in s.modes), s.id
        assert "labkit" in s.modes


def test_unknown_scenario() -> None:
    with pytest.raises(AttackError):
        get_scenario("nope")


def test_vulnerable_modes_are_not_reachable_from_the_verify_api() -> None:
    # Importing the verifier and the CLI's verify commands must not load the vulnerable modes.
    code = ("import sys, labkit.verify, labkit.verify.verifier, labkit.cli.verify, labkit.oci.signatures;"
            "print('labkit.attacks.vulnerable' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_catalogue_lists_every_defined_scenario_once() -> None:
    # The catalogue is an explicit list (no registry filled by import side effects): a scenario defined in a
    # module but missing from the list would never run, so every module-level Scenario must be in it.
    import importlib
    import pkgutil

    import labkit.attacks
    from labkit.attacks.catalogue import CATALOGUE
    from labkit.attacks.scenario import Scenario

    defined = set()
    for info in pkgutil.iter_modules(labkit.attacks.__path__, "labkit.attacks."):
        module = importlib.import_module(info.name)
        defined |= {v.id for v in vars(module).values() if isinstance(v, Scenario)}
        for value in vars(module).values():  # families listed as a tuple (labkit.attacks.tuf.TUF_SCENARIOS)
            if isinstance(value, tuple) and value and all(isinstance(v, Scenario) for v in value):
                defined |= {v.id for v in value}
    ids = [s.id for s in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert set(ids) == defined
    assert [s.number for s in CATALOGUE] == sorted(s.number for s in CATALOGUE)
