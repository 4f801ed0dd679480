"""labkit's transparency log.

RFC 6962 Merkle core, checkpoints, Rekor v1 entries, durable store, server, client, witness.

Import the submodules you need (`labkit.tlog.merkle`, `.checkpoint`, `.entries`,
`.store`, `.server`, `.client`, `.witness`); this package module stays light.
"""

from __future__ import annotations

__all__ = ["checkpoint", "checks", "client", "entries", "merkle", "server", "store", "witness"]
