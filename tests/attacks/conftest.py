"""A real docker-registry for the registry scenarios (the OCI tests' helper, reused)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.attacks.scenario import RegistryTarget
from tests.oci.conftest import start_registry, stop_registry


@pytest.fixture
def registry_target(tmp_path: Path) -> Iterator[RegistryTarget]:
    """A fresh registry process for one test, stopped by PID afterwards."""
    reg, proc = start_registry(tmp_path / "registry")
    try:
        yield RegistryTarget(reg.url, str(reg.storage))
    finally:
        stop_registry(proc)
