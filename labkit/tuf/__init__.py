"""The instance's trust, delivered over TUF (The Update Framework, theupdateframework.github.io/specification).

`repository` maintains a TUF repository (root, targets, snapshot, timestamp; consistent
snapshots) whose targets are the instance's ``trusted_root.json`` and
``signing_config.v0.2.json``, as Sigstore's own TUF repository names them.
`client` refreshes it through python-tuf's ngclient into a labkit cache directory.
"""


__all__ = []
