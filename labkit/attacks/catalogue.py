"""Imports every scenario module so the registry is complete (`labkit.attacks.scenario.scenarios`)."""

from __future__ import annotations

from labkit.attacks import (  # noqa: F401
    attestation,
    bundle_forgery,
    downgrade,
    identity,
    logs,
    racy,
    relatives,
    tags,
    witnesses,
)

__all__: list[str] = []
