"""Imports every scenario module so the registry is complete (`labkit.attacks.scenario.scenarios`)."""

from __future__ import annotations

from labkit.attacks import attestation, bundle_forgery, downgrade, identity, logs, racy, relatives, tags  # noqa: F401

__all__: list[str] = []
