"""Hidden dependencies (issue 13): imports sit at module level outside labkit/cli/, and the step model does not
import its renderer (the `labkit.checks` <-> `labkit.display.checks` circle is gone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import labkit
from tests._tools import load_tool

ROOT = Path(__file__).resolve().parent.parent


def test_no_function_level_import_of_labkit_outside_cli() -> None:
    tool = load_tool("imports")
    hidden = [
        f"{path}:{line} {module}"
        for path, line, module in tool.function_imports(Path(labkit.__file__).parent)
        if module.startswith(("labkit", ".")) and not path.startswith("labkit/cli/")
    ]
    assert not hidden, "move these imports to module level: " + ", ".join(hidden)


def test_the_step_model_does_not_import_the_display_layer() -> None:
    code = "import sys, labkit.checks; print(sorted(m for m in sys.modules if m.startswith('labkit.display')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_attack_catalogue_imports_standalone() -> None:
    # Each entry point of the attack lab imports on its own (no circle through a registry).
    for module in ("labkit.attacks.scenario", "labkit.attacks.catalogue", "labkit.attacks.tags", "labkit.checks",
                   "labkit.display.checks"):
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_verify_imports_nothing_above_it() -> None:
    # The teaching fixtures live in labkit.samples (issue 13 #8): verification never imports the keyless
    # instance that makes them. (labkit.verify.image reads the OCI storage format, which signs too.)
    code = (
        "import importlib, pkgutil, sys, labkit.verify\n"
        "for m in pkgutil.iter_modules(labkit.verify.__path__, 'labkit.verify.'):\n"
        "    if m.name != 'labkit.verify.image': importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('labkit.keyless', 'labkit.samples', 'labkit.sign.'))\n"
        "             or m == 'labkit.sign'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_signing_and_verifying_start_without_the_key_homes() -> None:
    # boto3 alone took ~135 ms of every command's start-up when the signers package imported its resolver.
    code = (
        "import sys, labkit.payloads, labkit.sign, labkit.attest, labkit.verify.verifier, labkit.signers\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'pkcs11', 'labkit.signers.resolve') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
