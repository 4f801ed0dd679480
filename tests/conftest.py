"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labkit import systools
from labkit.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
#: Public test data (conformance cases, trust roots, Merkle vectors, cosign keys), vendored unmodified:
#: see tests/vendor/README.md. A fresh clone has it; nothing beside the project is read.
VENDOR = ROOT / "tests" / "vendor"
#: The name tests used when this data was read from ../shared; the same layout, now the vendored copy.
SHARED = VENDOR


def require_tool(name: str, why: str) -> str:
    """Return the path of system tool `name` (declared in `labkit.systools.TOOLS`), or skip / fail without it.

    Skips with the reason and what to install; `.ci/run` sets
    LABKIT_REQUIRE_SYSTEM_TOOLS=1, so a missing tool there is a failure,
    never a silent skip.
    """
    path = systools.find(name)
    if path:
        return path
    message = f"{systools.missing_message(name, why)}. Install it: " + systools.install_hint(name).replace("\n", "; ")
    if os.environ.get(systools.REQUIRE_ENV) == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """The vendored public test data (`tests/vendor`: conformance cases, vectors, cosign keys)."""
    return VENDOR


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The fixture's name from when the data was read from ../shared: the vendored copy (`vendor_dir`)."""
    return VENDOR


@pytest.fixture
def lab() -> Lab:
    """A fresh deterministic lab (seed 'test', fixed clock)."""
    return Lab(seed="test")
