"""Glue between a keyless instance and its TUF repository (``DIR/tuf``).

The targets are the instance's ``trusted_root.json`` and ``signing_config.v0.2.json``, the two halves of
the ClientTrustConfig it would otherwise hand out as one file. `labkit serve` publishes the signing config
that names the ports it serves on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from labkit._internal import jsonio
from labkit._internal.jsonio import JSONWritable
from labkit.lab import Lab
from labkit.tuf.errors import TufError
from labkit.tuf.repository import TufRepository

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance

__all__ = ["instance_repository", "targets_from_trust_config"]


def targets_from_trust_config(trust_config: bytes) -> dict[str, bytes]:
    """Split a ClientTrustConfig into the two TUF targets Sigstore names."""
    doc = jsonio.loads(trust_config, what="client trust config", error=TufError)
    if not isinstance(doc, dict) or not isinstance(doc.get("trustedRoot"), dict) \
            or not isinstance(doc.get("signingConfig"), dict):
        raise TufError("a client trust config needs a trustedRoot and a signingConfig object")
    return {"trusted_root.json": _dump(doc["trustedRoot"]), "signing_config.v0.2.json": _dump(doc["signingConfig"])}


def _dump(value: JSONWritable) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def instance_repository(instance: Instance, *, create: bool = False, force: bool = False,
                        trust_config: bytes | None = None) -> TufRepository:
    """The TUF repository of `instance`; `create` makes one (lab keys when the instance is seeded)."""
    lab = Lab(seed=str(instance.config["seed"])) if instance.lab is not None else None
    path = instance.path / "tuf"
    if create:
        targets = targets_from_trust_config(trust_config or instance.client_trust_config_json())
        return TufRepository.create(path, targets, clock=instance.clock, lab=lab, force=force)
    if not (path / "repo" / "1.root.json").exists():
        raise TufError(f"the instance in {instance.path} has no TUF repository",
                       hint="Create one: labkit tuf init --instance DIR")
    return TufRepository(path, clock=instance.clock, lab=lab)
