"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labkit.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def require_tool(name: str, why: str) -> str:
    """Return the path of system tool `name`, or skip (locally) / fail (in CI) without it.

    `.ci/run` sets LABKIT_REQUIRE_SYSTEM_TOOLS=1, so a missing tool there is
    a failure, never a silent skip.
    """
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path:
        return path
    message = f"{name} is not installed ({why}); install it with: apt-get install {name}"
    if os.environ.get("LABKIT_REQUIRE_SYSTEM_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The `../shared` folder beside the project (conformance cases, vectors)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing; tests read vectors and conformance cases from it")
    return SHARED


@pytest.fixture
def lab() -> Lab:
    """A fresh deterministic lab (seed 'test', fixed clock)."""
    return Lab(seed="test")
