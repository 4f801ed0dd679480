"""The TUF target names of an instance's trust, as Sigstore's own TUF repository names them.

A module of its own so that a client (`labkit.tuf.client`) knows the names without importing the
repository writer (`labkit.tuf.repository`: signers, key files, the Metadata API's write side).
"""

from __future__ import annotations

__all__ = ["TARGET_NAMES"]

#: The targets a refresh delivers: the trusted root and the signing config.
TARGET_NAMES = ("trusted_root.json", "signing_config.v0.2.json")
