"""labkit.systools: one declared table of optional system tools, found under every name, honoured everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import nbformat
import pytest
from nbclient import NotebookClient

from labkit import systools
from labkit.errors import InputError, RegistryError
from labkit.oci.registry import RegistryClient
from labkit.oci.server import LocalRegistry, find_registry_binary
from labkit.signers.pkcs11 import softhsm_module
from tests.conftest import ROOT, require_tool

REGISTRY_NOTEBOOKS = ("03-oci-images", "09-attack-tag-swap")
#: Notebook → the tool its guarded cells need (`if needs(TOOL):`); each must run without it.
GUARDED_NOTEBOOKS = {"03-oci-images": "docker-registry", "09-attack-tag-swap": "docker-registry",
                     "14-keys-that-never-leave": "softhsm2-util"}
#: What the install note printed without the tool must say (besides the Debian package).
INSTALL_NOTE = {"docker-registry": ("sudo apt-get install docker-registry", "brew install distribution"),
                "softhsm2-util": ("sudo apt-get install softhsm2", "brew install softhsm")}


def _bare_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only `folder`, and no fallback folders: nothing is installed but what a test puts there."""
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(systools, "_FALLBACK_DIRS", ())
    monkeypatch.delenv(systools.DISABLE_ENV, raising=False)
    return folder


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _bare_path(tmp_path / "bin", monkeypatch)


def test_every_tool_is_declared_with_install_instructions() -> None:
    assert {"docker-registry", "skopeo", "umoci", "chromium", "chromedriver", "softhsm2-util"} <= set(systools.TOOLS)
    for name, tool in systools.TOOLS.items():
        assert tool.name == name and tool.binaries and tool.enables
        hint = systools.install_hint(name)
        assert all(platform in hint for platform in ("Debian/Ubuntu:", "macOS:", "Windows:")), hint
    assert "brew install distribution" in systools.install_hint("docker-registry")


def test_the_registry_is_found_under_homebrews_name(bare_path: Path) -> None:
    assert systools.find("docker-registry") is None and find_registry_binary() is None
    binary = bare_path / "registry"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert systools.find("docker-registry") == str(binary) == find_registry_binary()
    assert systools.available("docker-registry")


def test_a_registry_named_registry_really_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LocalRegistry starts the binary found as `registry` (Homebrew's distribution formula)."""
    real = require_tool("docker-registry", "the registry binary is linked under Homebrew's name")
    bare_path = _bare_path(tmp_path / "bin", monkeypatch)
    (bare_path / "registry").symlink_to(real)
    with LocalRegistry() as reg:
        assert reg.binary == str(bare_path / "registry")
        assert RegistryClient(reg.url).ping()


def test_softhsm_needs_its_module_as_well_as_its_binary(bare_path: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`softhsm2-util` without libsofthsm2.so cannot make a usable token: not available, and the message says why."""
    module = tmp_path / "lib" / "libsofthsm2.so"
    softhsm = replace(systools.TOOLS["softhsm2-util"], libraries=(str(module),))
    monkeypatch.setattr(systools, "TOOLS", MappingProxyType({**systools.TOOLS, "softhsm2-util": softhsm}))
    binary = bare_path / "softhsm2-util"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert not systools.available("softhsm2-util") and softhsm_module() is None
    assert f"no {module} found" in systools.missing_message("softhsm2-util")
    module.parent.mkdir()
    module.write_bytes(b"")
    assert systools.find("softhsm2-util") == str(binary) and softhsm_module() == str(module)
    monkeypatch.setenv(systools.DISABLE_ENV, "softhsm2-util")
    assert not systools.available("softhsm2-util") and softhsm_module() is None


def test_disabled_tools_are_missing_everywhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(systools.DISABLE_ENV, "skopeo, docker-registry")
    monkeypatch.setattr(systools, "_told", set())
    assert systools.find("docker-registry") is None and not systools.available("skopeo")
    with pytest.raises(systools.SystemToolMissing, match="disabled by LABKIT_DISABLE_TOOLS") as err:
        systools.require("skopeo", "the interop test")
    assert "brew install skopeo" in err.value.diagnostics()
    with pytest.raises(RegistryError, match="docker-registry"):
        LocalRegistry().start()
    assert not systools.needs("docker-registry", "section 4")
    assert not systools.needs("docker-registry")
    out = capsys.readouterr().out
    assert out.count("Debian/Ubuntu: sudo apt-get install docker-registry") == 1, "the install note is printed once"
    assert "needed for section 4" in out and "(skipped: this cell needs docker-registry" in out


def test_an_undeclared_tool_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="not a declared system tool"):
        systools.find("docker")


def test_require_tool_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(systools.DISABLE_ENV, "umoci")
    monkeypatch.delenv(systools.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="umoci .*Debian/Ubuntu: sudo apt-get install umoci"):
        require_tool("umoci", "a test")
    monkeypatch.setenv(systools.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="umoci"):
        require_tool("umoci", "a test")


def _nbval(*notebooks: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg",
         *(f"notebooks/{n}.ipynb" for n in notebooks)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_token_cells_are_skipped_under_nbval_without_softhsm() -> None:
    """`make test` without SoftHSM: notebook 14's token cells are skipped with the reason, the KMS cells pass."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), systools.DISABLE_ENV: "softhsm2-util"}
    env.pop(systools.REQUIRE_ENV, None)
    run = _nbval("14-keys-that-never-leave", env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "5 skipped" in run.stdout and "failed" not in run.stdout, run.stdout[-3000:]
    assert "sudo apt-get install softhsm2" in run.stdout


@pytest.mark.slow
def test_registry_cells_are_skipped_under_nbval_without_the_registry() -> None:
    """`make test` on a laptop without the registry: those cells are skipped with the reason, none fails."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), systools.DISABLE_ENV: "docker-registry"}
    env.pop(systools.REQUIRE_ENV, None)
    run = _nbval(*REGISTRY_NOTEBOOKS, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " skipped" in run.stdout and "failed" not in run.stdout
    assert "sudo apt-get install docker-registry" in run.stdout
    env[systools.REQUIRE_ENV] = "1"
    run = _nbval("03-oci-images", env=env)
    assert run.returncode == 1 and "docker-registry" in run.stdout, run.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", GUARDED_NOTEBOOKS)
def test_guarded_notebooks_run_top_to_bottom_without_their_tool(name: str) -> None:
    """JupyterLab's Run All without the tool: no NameError cascade, the guarded cells say what to install."""
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    tool = GUARDED_NOTEBOOKS[name]
    saved = os.environ.get(systools.DISABLE_ENV)
    os.environ[systools.DISABLE_ENV] = tool  # the kernel inherits it
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        if saved is None:
            del os.environ[systools.DISABLE_ENV]
        else:
            os.environ[systools.DISABLE_ENV] = saved
    text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    errors = [
        o.ename
        for c in nb.cells
        if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert errors == []
    assert all(note in text for note in INSTALL_NOTE[tool]), text[-2000:]
