"""Fixtures for the keyless tests: a seeded lab instance in a temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.keyless.instance import Instance


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    """A fresh seeded lab instance."""
    inst = Instance.create(tmp_path / "instance", seed="keyless-tests")
    yield inst
    inst.close()
