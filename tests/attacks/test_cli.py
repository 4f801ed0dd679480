"""`labkit attack` (labkit/cli/attack.py)."""

from __future__ import annotations

import json

import pytest

from labkit.attacks import RegistryTarget
from labkit.cli import main


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "list"]) == 0
    out = capsys.readouterr().out
    assert "ghsa-whqx-image" in out and "tag-swap" in out


def test_run_exits_zero_when_reproduced_and_caught(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "run", "bundle-copy"]) == 0
    out = capsys.readouterr().out
    assert "caught by labkit: yes (binding.signature)" in out


def test_run_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "run", "ghsa-whqx-blob", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["reproduced"] and doc["caught_by"] == "binding.digest"


def test_unknown_scenario_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "run", "no-such-attack"]) == 1
    assert "unknown attack scenario" in capsys.readouterr().err


def test_refuses_a_non_loopback_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "run", "tag-swap", "--registry", "registry.example.com"]) == 1
    assert "loopback" in capsys.readouterr().err


def test_run_exits_one_when_the_attack_no_longer_reproduces(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import labkit.attacks.vulnerable as vulnerable

    # Pretend the vulnerable mode was fixed: the scenario must then fail, not pass silently.
    monkeypatch.setattr(vulnerable, "_legacy_verify", lambda sig, **kw: (_ for _ in ()).throw(
        vulnerable._reject("tlog.signature_mismatch", "fixed")))
    import labkit.attacks.bundle_forgery as bf

    monkeypatch.setattr(bf, "vulnerable_cosign_legacy_bundle_trusted_root",
                        lambda sig, **kw: vulnerable._legacy_verify(sig, **kw))
    assert main(["attack", "run", "ghsa-whqx-blob"]) == 1
    assert "reproduces against the vulnerable mode(s): NO" in capsys.readouterr().out


@pytest.mark.registry
def test_run_against_a_real_registry(registry_target: RegistryTarget, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["attack", "run", "tag-swap", "--json", "--registry", registry_target.url]
    if registry_target.storage:
        args += ["--registry-storage", registry_target.storage]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["caught_by"] == "image.digest_pinned"


def test_matrix_subset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "matrix", "bundle-copy", "unrelated-entry"]) == 0
    out = capsys.readouterr().out
    assert "rejected (binding.signature)" in out and "rejected (binding.digest)" in out
    assert main(["attack", "matrix", "--html", "bundle-copy"]) == 0
    assert capsys.readouterr().out.startswith('<table class="labkit-attack-matrix"')
