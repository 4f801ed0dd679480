"""Imports every scenario module so the registry is complete (`labkit.attacks.scenario.scenarios`)."""

from __future__ import annotations

from labkit.attacks import bundle_forgery, identity, logs, relatives, tags  # noqa: F401

__all__: list[str] = []
