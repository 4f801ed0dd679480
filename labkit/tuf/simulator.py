"""A tampering TUF repository: serve a real repository's files, some replaced by an attacker.

`TamperingRepository` copies what a `TufRepository` published, lets an attacker replace or re-sign
any file (with the repository's keys it "stole", or its own), and serves the result over loopback HTTP
(`labkit.tuf.server`). It is the test double for the attacks TUF stops (`labkit.attacks.tuf`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import Metadata, MetaFile, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from labkit.keys import generate, load_secret_pem
from labkit.lab import Lab
from labkit.tuf.repository import TufRepository
from labkit.tuf.server import TufServer

__all__ = ["TamperingRepository", "attacker_signer"]

_SERIALIZER = JSONSerializer(compact=False)


def attacker_signer(lab: Lab, label: str) -> CryptoSigner:
    """A key of the attacker's own (never in any root the victim trusts)."""
    key = generate("ed25519", lab=lab, label=f"attacker/{label}")
    return CryptoSigner(key.key, SSlibKey.from_crypto(key.key.public_key()))


class TamperingRepository:
    """The files of `repo` as published now, with `files[name] = data` replacements on top."""

    def __init__(self, repo: TufRepository) -> None:
        self.repo = repo
        self.files: dict[str, bytes] = {}
        self.capture()

    def capture(self) -> dict[str, bytes]:
        """Re-read the honest repository (what it publishes now); returns a copy of the files before."""
        before = dict(self.files)
        base = self.repo.repo_dir
        self.files = {"/" + p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}
        return before

    def lookup(self, name: str) -> bytes | None:
        """What the server answers for `name`."""
        return self.files.get(name)

    def stolen_signer(self, role: str, *, root: Metadata[Any] | None = None) -> CryptoSigner:
        """The (compromised) key of `role` in the current root, or in `root`."""
        md = root or self.repo.root
        keyid = md.signed.roles[role].keyids[0]
        key = load_secret_pem(self.repo.keys_dir / f"{keyid}.pem", f"TUF key {keyid[:16]}")
        return CryptoSigner(key.key, SSlibKey.from_crypto(key.key.public_key(), keyid=keyid))

    def put(self, name: str, md: Metadata[Any], signers: Iterable[CryptoSigner]) -> bytes:
        """Sign `md` with `signers` (only) and serve it as `name`."""
        md.signatures.clear()
        for signer in signers:
            md.sign(signer, append=True)
        data = md.to_bytes(_SERIALIZER)
        self.files[name] = data
        return data

    def forge_chain(self, target: tuple[str, bytes], version: int, signer: Callable[[str], CryptoSigner]) -> None:
        """Forged targets, snapshot and timestamp at `version`, each signed by ``signer(role)``, serving `target`."""
        name, data = target
        info = TargetFile.from_data(name, data, ["sha256"])
        self.files[f"/targets/{info.hashes['sha256']}.{name}"] = data
        current = self.repo.load("targets", Targets).signed
        expires = current.expires
        targets = Targets(version=version, expires=expires, targets={**current.targets, name: info})
        self.files["/targets.json"] = self.put(f"/{version}.targets.json", Metadata(targets), [signer("targets")])
        snapshot = Snapshot(version=version, expires=expires, meta={"targets.json": MetaFile(version=version)})
        snap = self.put(f"/{version}.snapshot.json", Metadata(snapshot), [signer("snapshot")])
        meta = MetaFile(version=version, length=len(snap), hashes={"sha256": hashlib.sha256(snap).hexdigest()})
        self.put("/timestamp.json", Metadata(Timestamp(version=version, expires=expires, snapshot_meta=meta)),
                 [signer("timestamp")])

    def serve(self) -> TufServer:
        """A started loopback server for the (tampered) files; stop it when done."""
        server = TufServer(self.lookup)
        server.start()
        return server
