"""A real docker-registry for the registry scenarios (`labkit.oci.server.LocalRegistry`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.attacks import RegistryTarget
from labkit.oci.server import LocalRegistry
from tests.conftest import require_tool


@pytest.fixture
def registry_target(tmp_path: Path) -> Iterator[RegistryTarget]:
    """A fresh registry process for one test on a loopback port, stopped by PID afterwards."""
    binary = require_tool("docker-registry", "attack scenarios run against a real OCI registry (distribution 2.8)")
    server = LocalRegistry(tmp_path / "registry", binary=binary).start()
    try:
        yield RegistryTarget(server.url, str(server.directory / "storage"))
    finally:
        server.stop()
