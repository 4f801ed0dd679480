"""A TUF repository an instance maintains with python-tuf's Metadata API (TUF specification v1.0).

Layout of ``DIR`` (consistent snapshots, TUF spec §5.5.1 and §7)::

    DIR/keys/<keyid>.pem          one Ed25519 private key per role key (0600 in a 0700 directory)
    DIR/repo/N.root.json          every root version, as clients walk them
    DIR/repo/N.targets.json       N.snapshot.json, timestamp.json: the published top-level metadata
    DIR/repo/targets/<sha256>.<name>   the targets: trusted_root.json, signing_config.v0.2.json
    DIR/repo/{root,targets,snapshot}.json   the newest of each (the repository's own working copy)

Keys are random; in lab mode (a `Lab`) they derive from the seed and are marked LAB in `status`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from labkit._internal.fsutil import atomic_write, file_lock, read_bytes
from labkit.keys import generate, load_secret_pem, make_private_dir, save_secret_pem
from labkit.lab import Clock, Lab, SystemClock, utc
from labkit.tuf.errors import TufError
from labkit.tuf.targets import TARGET_NAMES  # as Sigstore's TUF repository (tuf-repo-cdn.sigstore.dev) names them

__all__ = ["TufRepository"]

#: The top-level roles, in the order a client loads them.
_ROLES = ("root", "timestamp", "snapshot", "targets")
#: How long each role's metadata stays valid after signing.
_EXPIRY = {"root": _dt.timedelta(days=365), "targets": _dt.timedelta(days=90),
          "snapshot": _dt.timedelta(days=7), "timestamp": _dt.timedelta(days=1)}

_S = TypeVar("_S", Root, Timestamp, Snapshot, Targets)
_SERIALIZER = JSONSerializer(compact=False)


@dataclass(frozen=True)
class PublishResult:
    """What a publish changed: the new version of each role it re-signed."""

    versions: dict[str, int]
    changed_targets: tuple[str, ...]


class TufRepository:
    """The instance's TUF repository in `path` (see the module docstring for the layout)."""

    def __init__(self, path: str | Path, *, clock: Clock | None = None, lab: Lab | None = None) -> None:
        self.path = Path(path)
        self.clock: Clock = clock or SystemClock()
        self.lab = lab

    @property
    def repo_dir(self) -> Path:
        """The directory a client reads (serve this over HTTP, or point a client at it)."""
        return self.path / "repo"

    @property
    def keys_dir(self) -> Path:
        """The directory of the repository's private role keys."""
        return self.path / "keys"

    # -- creation ---------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, targets: Mapping[str, bytes], *, clock: Clock | None = None,
               lab: Lab | None = None, root_keys: int = 2, root_threshold: int = 2,
               force: bool = False) -> TufRepository:
        """A new repository: fresh role keys, version 1 of every role, `targets` published."""
        if not 1 <= root_threshold <= root_keys:
            raise TufError(f"root threshold {root_threshold} must be between 1 and the number of keys ({root_keys})")
        repo = cls(path, clock=clock, lab=lab)
        if (repo.repo_dir / "1.root.json").exists():
            if not force:
                raise TufError(f"a TUF repository already exists in {repo.path}",
                               hint="Use `labkit tuf publish` to update it, or --force to start over "
                               "(clients holding the old root will refuse the new one).")
            shutil.rmtree(repo.repo_dir)
        make_private_dir(repo.keys_dir)
        root = Root(expires=repo._expiry("root"), consistent_snapshot=True)
        for role in ("root", "targets", "snapshot", "timestamp"):
            count = root_keys if role == "root" else 1
            for n in range(count):
                root.add_key(repo._new_key(role, 1, n), role)
        root.roles["root"].threshold = root_threshold
        repo._write_root(Metadata(root))
        repo._publish(targets, Targets(expires=repo._expiry("targets")), force_targets=True)
        return repo

    # -- reading ----------------------------------------------------------------------

    def load(self, role: str, signed_type: type[_S]) -> Metadata[_S]:
        """The newest metadata of `role` (the repository's working copy)."""
        name = "timestamp.json" if role == "timestamp" else f"{role}.json"
        path = self.repo_dir / name
        if not path.exists():
            raise TufError(f"no TUF repository in {self.path} ({name} is missing)",
                           hint="Create one: labkit tuf init --instance DIR")
        md: Metadata[Any] = Metadata.from_bytes(read_bytes(path, f"TUF {role} metadata"))
        if not isinstance(md.signed, signed_type):
            raise TufError(f"{name} holds {md.signed.type} metadata, not {role}")
        return cast("Metadata[_S]", md)

    @property
    def root(self) -> Metadata[Root]:
        """The current root metadata."""
        return self.load("root", Root)

    def root_bytes(self, version: int | None = None) -> bytes:
        """The bytes of root version `version` (default: the newest) for bootstrapping a client."""
        number = version if version is not None else self.root.signed.version
        return read_bytes(self.repo_dir / f"{number}.root.json", f"TUF root version {number}")

    def status(self) -> dict[str, Any]:
        """Each role's version, expiry, keys and threshold; each target's digest and length."""
        root = self.root
        roles: dict[str, Any] = {}
        loaded: dict[str, Metadata[Any]] = {"root": root, "targets": self.load("targets", Targets),
                                             "snapshot": self.load("snapshot", Snapshot),
                                             "timestamp": self.load("timestamp", Timestamp)}
        for role, md in loaded.items():
            r = root.signed.roles[role]
            roles[role] = {"version": md.signed.version, "expires": md.signed.expires.isoformat(),
                           "expired": md.signed.is_expired(utc(self.clock.now())),
                           "threshold": r.threshold, "keyids": [k[:16] for k in r.keyids]}
        targets = self.load("targets", Targets).signed.targets
        return {"lab": self.lab is not None, "consistent_snapshot": bool(root.signed.consistent_snapshot),
                "roles": roles,
                "targets": {n: {"sha256": t.hashes["sha256"], "length": t.length} for n, t in sorted(targets.items())}}

    # -- changes ----------------------------------------------------------------------

    def publish(self, targets: Mapping[str, bytes]) -> PublishResult:
        """Publish `targets`: a new targets version when any changed, then fresh snapshot and timestamp."""
        with file_lock(self.path / ".tuf.lock"):
            return self._publish(targets, self.load("targets", Targets).signed)

    def rotate_root(self, *, keys: int | None = None, threshold: int | None = None,
                    roles: Iterable[str] = ()) -> int:
        """Replace the root keys (and the keys of `roles`); the new root is signed by old and new root keys.

        Returns the new root version. TUF spec §5.3.4: a client accepts root N+1 only when it is signed by a
        threshold of root N's keys and a threshold of its own.
        """
        with file_lock(self.path / ".tuf.lock"):
            old = self.root
            new = Metadata[Root].from_bytes(old.to_bytes())
            new.signatures.clear()
            version = old.signed.version + 1
            new.signed.version = version
            new.signed.expires = self._expiry("root")
            count = keys or len(old.signed.roles["root"].keyids)
            for role in ("root", *roles):
                if role not in ("root", "targets", "snapshot", "timestamp"):
                    raise TufError(f"unknown TUF role {role!r}")
                n = count if role == "root" else len(old.signed.roles[role].keyids)
                for keyid in list(new.signed.roles[role].keyids):
                    new.signed.revoke_key(keyid, role)
                for i in range(n):
                    new.signed.add_key(self._new_key(role, version, i), role)
            new.signed.roles["root"].threshold = threshold or old.signed.roles["root"].threshold
            if not 1 <= new.signed.roles["root"].threshold <= count:
                raise TufError(f"root threshold {threshold} must be between 1 and the number of keys ({count})")
            # the old root keys vouch for the new root, and the new keys for themselves
            self._sign(new, dict.fromkeys([*old.signed.roles["root"].keyids, *new.signed.roles["root"].keyids]))
            old.verify_delegate("root", new)
            new.verify_delegate("root", new)
            self._write_root(new)
            if roles:  # re-sign the roles whose keys changed
                self._publish({}, self.load("targets", Targets).signed, force_targets=True)
            return version

    # -- internals --------------------------------------------------------------------

    def _expiry(self, role: str) -> _dt.datetime:
        return (utc(self.clock.now()) + _EXPIRY[role]).replace(microsecond=0)

    def _new_key(self, role: str, generation: int, index: int) -> SSlibKey:
        key = generate("ed25519", lab=self.lab, label=f"tuf/{role}/{generation}/{index}")
        public = SSlibKey.from_crypto(key.key.public_key())
        save_secret_pem(key, self.keys_dir / f"{public.keyid}.pem")
        return public

    def _signer(self, keyid: str) -> CryptoSigner:
        key = load_secret_pem(self.keys_dir / f"{keyid}.pem", f"TUF key {keyid[:16]}")
        return CryptoSigner(key.key, SSlibKey.from_crypto(key.key.public_key(), keyid=keyid))

    def _sign(self, md: Metadata[Any], keyids: Iterable[str]) -> None:
        for keyid in keyids:
            if (self.keys_dir / f"{keyid}.pem").exists():
                md.sign(self._signer(keyid), append=True)

    def _sign_role(self, md: Metadata[Any], root: Metadata[Root]) -> bytes:
        role: Role = root.signed.get_delegated_role(md.signed.type)
        md.signatures.clear()
        self._sign(md, role.keyids)
        root.verify_delegate(md.signed.type, md)  # never publish what a client would refuse
        return md.to_bytes(_SERIALIZER)

    def _write_root(self, md: Metadata[Root]) -> None:
        if not md.signatures:
            self._sign(md, md.signed.roles["root"].keyids)
        data = md.to_bytes(_SERIALIZER)
        atomic_write(self.repo_dir / f"{md.signed.version}.root.json", data)
        atomic_write(self.repo_dir / "root.json", data)

    def _publish(self, targets: Mapping[str, bytes], current: Targets, *,
                 force_targets: bool = False) -> PublishResult:
        root = self.root
        changed = tuple(sorted(n for n, d in targets.items() if _target_changed(current, n, d)))
        versions: dict[str, int] = {}
        snap_version = 1
        if (self.repo_dir / "snapshot.json").exists():
            snap_version = self.load("snapshot", Snapshot).signed.version + 1
        if changed or force_targets:
            new_targets = Targets(version=current.version + (0 if not (self.repo_dir / "targets.json").exists() else 1),
                                  expires=self._expiry("targets"), targets=dict(current.targets))
            for name in changed:
                data = targets[name]
                info = TargetFile.from_data(name, data, ["sha256"])
                atomic_write(self.repo_dir / "targets" / f"{info.hashes['sha256']}.{name}", data)
                new_targets.targets[name] = info
            data = self._sign_role(Metadata(new_targets), root)
            atomic_write(self.repo_dir / f"{new_targets.version}.targets.json", data)
            atomic_write(self.repo_dir / "targets.json", data)
            versions["targets"] = new_targets.version
        targets_version = self.load("targets", Targets).signed.version
        snapshot = Snapshot(version=snap_version, expires=self._expiry("snapshot"),
                            meta={"targets.json": MetaFile(version=targets_version)})
        snap_bytes = self._sign_role(Metadata(snapshot), root)
        atomic_write(self.repo_dir / f"{snap_version}.snapshot.json", snap_bytes)
        atomic_write(self.repo_dir / "snapshot.json", snap_bytes)
        versions["snapshot"] = snap_version
        ts_version = 1
        if (self.repo_dir / "timestamp.json").exists():
            ts_version = self.load("timestamp", Timestamp).signed.version + 1
        meta = MetaFile(version=snap_version, length=len(snap_bytes),
                        hashes={"sha256": hashlib.sha256(snap_bytes).hexdigest()})
        ts = Timestamp(version=ts_version, expires=self._expiry("timestamp"), snapshot_meta=meta)
        atomic_write(self.repo_dir / "timestamp.json", self._sign_role(Metadata(ts), root))
        versions["timestamp"] = ts_version
        return PublishResult(versions=versions, changed_targets=changed)


def _target_changed(current: Targets, name: str, data: bytes) -> bool:
    if name not in TARGET_NAMES:
        raise TufError(f"unknown target {name!r}; this repository publishes {', '.join(TARGET_NAMES)}")
    info = current.targets.get(name)
    return info is None or info.hashes.get("sha256") != hashlib.sha256(data).hexdigest() or info.length != len(data)


def describe(status: Mapping[str, Any]) -> str:
    """`TufRepository.status` as a few human lines."""
    lab = " (LAB keys from a public seed: never trust it for real use)" if status["lab"] else ""
    lines = ["TUF repository" + lab]
    for role, r in status["roles"].items():
        flag = " EXPIRED" if r["expired"] else ""
        lines.append(f"  {role:<9} v{r['version']:<4} expires {r['expires']}{flag}  "
                     f"threshold {r['threshold']} of {len(r['keyids'])}")
    for name, t in status["targets"].items():
        lines.append(f"  target {name}: sha256:{t['sha256'][:16]}… ({t['length']} bytes)")
    return "\n".join(lines)

