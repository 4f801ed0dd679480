"""The attack sandbox: a fresh log and image store per scenario, built on labkit's primitives.

`SandboxLog` is an in-memory Rekor v1 log over `labkit.tlog` primitives
(RFC 6962 tree, canonical hashedrekord bodies, SETs, signed checkpoints). It
also lets the scenario play a *malicious operator* (rewrite a leaf, sign a
second checkpoint of the same size), which the real log refuses to do.

`SandboxRegistry` keeps one OCI image layout per repository and records every
tag move (who, when, from, to) so the tag-swap scenarios can show forensics.
Cosign legacy signatures are stored as `sha256-<hex>.sig` manifests, one
layer per signature with cosign's annotations (cosign SIGNATURE_SPEC).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.attacks.vulnerable import LegacySignature
from labkit.errors import AttackError, LabkitError
from labkit.keys import SigningKey, VerifyingKey, generate
from labkit.lab import Lab
from labkit.oci.descriptor import MT_CONFIG, MT_LAYER_TAR, MT_MANIFEST, Descriptor, Manifest, parse_manifest
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.signatures import (
    append_signature_racy,
    attach_signature,
    list_signatures,
    make_signature_layer,
    signature_manifest,
    signature_tag,
)
from labkit.payloads import simple_signing_payload
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, sign_note
from labkit.tlog.entries import EntryProof, LogEntry, hashedrekord_body, sign_set
from labkit.tlog.store import TransparencyLog
from labkit.tlog.witness import Witness

__all__ = ["LabkitLog", "SandboxRegistry", "sign_image"]

_SIG_LAYER_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
#: The registry name images are signed under in the sandbox (never contacted).
_REGISTRY_HOST = "registry.sandbox.invalid"


class SandboxLog:
    """An in-memory transparency log (Rekor v1 shape) with a seeded key and the lab clock."""

    def __init__(self, lab: Lab, *, origin: str = "rekor.sandbox.invalid", label: str = "attacks/log") -> None:
        self.lab = lab
        self.origin = origin
        self.key: SigningKey = generate("ecdsa-p256", lab=lab, label=label)
        self.tree = merkle.MemoryTree()
        self.bodies: list[bytes] = []
        self.times: list[int] = []

    @property
    def public_key(self) -> VerifyingKey:
        """The log's public key."""
        return self.key.public_key()

    @property
    def log_id(self) -> bytes:
        """SHA-256 of the log key's DER SPKI (Rekor v1 log ID)."""
        return self.public_key.key_id()

    def __len__(self) -> int:
        return len(self.bodies)

    def append(self, body: bytes) -> LogEntry:
        """Log `body`; return the entry with its SET, inclusion proof and checkpoint."""
        index = len(self.bodies)
        self.bodies.append(body)
        self.times.append(int(self.lab.clock.now().timestamp()))
        self.tree.append(body)
        return self.entry(index)

    def upload_hashedrekord(self, signature: bytes, pem: bytes, signed: bytes) -> LogEntry:
        """Log a hashedrekord for `signature` over `signed` (the payload or blob bytes)."""
        return self.append(hashedrekord_body(signature, pem, hashlib.sha256(signed).digest()))

    def signed_checkpoint(self, size: int | None = None, root: bytes | None = None) -> str:
        """The signed note for tree `size` (a malicious operator may pass another `root`)."""
        n = len(self.bodies) if size is None else size
        r = self.tree.root(n) if root is None else root
        return sign_note(Checkpoint(self.origin, n, r), self.origin, self.key).to_text()

    def entry(self, index: int, size: int | None = None) -> LogEntry:
        """The entry at `index` with a proof to tree `size` (default: the current size)."""
        if not 0 <= index < len(self.bodies):
            raise AttackError(f"no entry {index} in the sandbox log")
        n = len(self.bodies) if size is None else size
        body, t = self.bodies[index], self.times[index]
        sset = sign_set(self.key, body, t, self.log_id.hex(), index)
        proof = EntryProof(index, n, self.tree.root(n), tuple(self.tree.inclusion_proof(index, n)),
                           self.signed_checkpoint(n))
        return LogEntry(index, body, t, self.log_id, sset, proof)

    def latest_checkpoint(self) -> str:
        """The current signed checkpoint (`labkit.tlog.witness.LogSource`)."""
        return self.signed_checkpoint()

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """An RFC 9162 consistency proof between two sizes of this view (`LogSource`)."""
        return self.tree.consistency_proof(size1, size2)

    def witness(self, lab: Lab, name: str = "witness.sandbox.invalid") -> Any:
        """A `labkit.tlog.witness.Witness` for this log, with a seeded cosigning key."""
        return Witness(self.origin, self.public_key, key=generate("ecdsa-p256", lab=lab, label="attacks/witness"),
                       name=name)

    def fork(self, size: int) -> SandboxLog:
        """Malicious operator: a second view sharing the key and the first `size` entries."""
        other = SandboxLog.__new__(SandboxLog)
        other.lab, other.origin, other.key = self.lab, self.origin, self.key
        other.bodies, other.times = self.bodies[:size], self.times[:size]
        other.tree = merkle.MemoryTree([merkle.leaf_hash(b) for b in other.bodies])
        return other

    def rewrite(self, index: int, body: bytes) -> None:
        """Malicious operator: replace a logged body and rebuild the tree (roots change)."""
        self.bodies[index] = body
        self.tree = merkle.MemoryTree([merkle.leaf_hash(b) for b in self.bodies])


class LabkitLog:
    """labkit's own transparency log (`labkit.tlog.store.TransparencyLog`) behind the interface scenarios use.

    Genuine entries and SETs in the forgery scenarios come from here: the
    same store, key handling and SET code that ``labkit serve`` runs.
    """

    def __init__(self, directory: str | Path, lab: Lab, *, name: str = "rekor.sandbox.invalid") -> None:
        self.lab = lab
        self.store = TransparencyLog.open(directory, lab=lab, name=name)
        self.origin = name

    @property
    def public_key(self) -> VerifyingKey:
        """The log's public key."""
        return self.store.public_key

    @property
    def log_id(self) -> bytes:
        """The log's id (SHA-256 of its public key)."""
        return self.store.log_id

    def __len__(self) -> int:
        return self.store.size

    def upload_hashedrekord(self, signature: bytes, pem: bytes, signed: bytes) -> LogEntry:
        """Log a hashedrekord for `signature` over `signed` (the payload or blob bytes)."""
        return self.store.upload_hashedrekord(signature, pem, hashlib.sha256(signed).digest())

    def close(self) -> None:
        """Close the log's store."""
        self.store.close()


@contextlib.contextmanager
def labkit_log(lab: Lab) -> Iterator[LabkitLog]:
    """A fresh `LabkitLog` in a temporary directory, closed and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="labkit-attack-log-") as tmp:
        log = LabkitLog(tmp, lab)
        try:
            yield log
        finally:
            log.close()


@dataclass(frozen=True)
class TagMove:
    """One change of a tag: the time, who moved it, and the digests before and after."""

    when: str
    actor: str
    tag: str
    before: str | None
    after: str


class SandboxRegistry:
    """Repositories in OCI image layouts under `root`, or in a real registry; tag moves are recorded.

    With `registry` (a running registry's URL), every repository is a
    `labkit.oci.registry.RegistryRepository`; otherwise an `OCILayout` per
    repository. Signatures use `labkit.oci.signatures` (cosign's storage).
    """

    def __init__(self, root: str | Path, lab: Lab, *, registry: str | None = None,
                 storage: str | None = None) -> None:
        self.root = Path(root)
        self.lab = lab
        self.client: Any = None
        self.storage = Path(storage) if storage else None
        if registry is not None:
            self.client = RegistryClient(registry)
        # Images are signed under a fixed logical registry name, so signed bytes never depend on a port.
        self.host = _REGISTRY_HOST
        self.moves: list[TagMove] = []

    @property
    def kind(self) -> str:
        """``registry`` or ``oci-layout`` (for reports; never a path or port)."""
        return "registry" if self.client is not None else "oci-layout"

    def repo(self, name: str) -> Any:
        """The store holding repository `name` (created on first use)."""
        if self.client is not None:
            return self.client.repository(name)
        return OCILayout.init(self.root / name.replace("/", "_"))

    def push_image(self, repo: str, content: bytes, *, tag: str | None = None, actor: str = "publisher") -> str:
        """Store a one-layer image whose layer is `content`; optionally tag it. Returns the digest."""
        store = self.repo(repo)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(content).hexdigest()]},
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        cfg = store.put_blob(config, MT_CONFIG)
        layer = store.put_blob(content, MT_LAYER_TAR)
        manifest = Manifest(cfg, (layer,)).to_bytes()
        desc = store.put_manifest(manifest, MT_MANIFEST)
        if tag is not None:
            self.tag(repo, tag, str(desc.digest), actor=actor)
        return str(desc.digest)

    def tag(self, repo: str, tag: str, digest: str, *, actor: str) -> None:
        """Point `repo:tag` at `digest`, recording the move."""
        store = self.repo(repo)
        try:
            before: str | None = str(store.resolve(tag).digest)
        except LabkitError:
            before = None
        store.tag(tag, store.resolve(Digest.parse(digest)))
        when = self.lab.clock.now() + _dt.timedelta(minutes=len(self.moves))
        self.moves.append(TagMove(when.isoformat(), actor, f"{repo}:{tag}", before, digest))

    def resolve(self, repo: str, tag: str) -> str:
        """The digest `repo:tag` points at now (one registry round trip)."""
        return str(self.repo(repo).resolve(tag).digest)

    def pull(self, repo: str, ref: str) -> tuple[str, bytes]:
        """Fetch by tag or digest: (manifest digest, layer content), every blob re-hashed."""
        store = self.repo(repo)
        data, desc = store.get_manifest(Digest.parse(ref) if ref.startswith("sha256:") else ref)
        manifest = parse_manifest(data)
        return str(desc.digest), store.get_blob(manifest.layers[0].digest, manifest.layers[0].size)

    def history(self, repo: str, tag: str) -> list[TagMove]:
        """Every recorded move of `repo:tag`, oldest first (the sandbox's audit trail)."""
        return [m for m in self.moves if m.tag == f"{repo}:{tag}"]

    def registry_tag_index(self, repo: str, tag: str) -> list[str]:
        """Digests the registry's own storage remembers for `tag` (distribution keeps one link per digest ever tagged).

        Empty without a registry storage root.
        """
        if self.storage is None:
            return []
        index = self.storage / "docker/registry/v2/repositories" / repo / "_manifests/tags" / tag / "index/sha256"
        if not index.is_dir():
            return []
        return sorted("sha256:" + p.name for p in index.iterdir() if p.is_dir())

    # -- cosign legacy signatures ------------------------------------------------

    @staticmethod
    def sig_tag(digest: str) -> str:
        """cosign's signature tag: ``sha256-<hex>.sig``."""
        return signature_tag(digest)

    def signatures(self, repo: str, digest: str) -> list[LegacySignature]:
        """The legacy signatures stored for `digest` in `repo` (none: an empty list)."""
        try:
            layers = list_signatures(self.repo(repo), digest)
        except LabkitError:
            return []
        return [LegacySignature(s.payload, s.signature, s.certificate.encode() if s.certificate else None,
                                s.rekor_bundle) for s in layers]

    @staticmethod
    def layer(sig: LegacySignature) -> Descriptor:
        """The cosign signature layer of a legacy signature."""
        return make_signature_layer(sig.payload, sig.signature, certificate=sig.certificate_pem,
                                    rekor_bundle=sig.rekor_bundle)

    def write_signatures(self, repo: str, digest: str, sigs: list[LegacySignature], *, actor: str) -> None:
        """PUT a whole `.sig` manifest holding exactly `sigs` (unconditional: last writer wins)."""
        store = self.repo(repo)
        layers = []
        for s in sigs:
            store.put_blob(s.payload, _SIG_LAYER_MEDIA_TYPE)
            layers.append(self.layer(s))
        manifest, config = signature_manifest(layers)
        store.put_blob(config, MT_CONFIG)
        desc = store.put_manifest(manifest.to_bytes(), MT_MANIFEST)
        self.tag(repo, self.sig_tag(digest), str(desc.digest), actor=actor)

    def attach_signature(self, repo: str, digest: str, sig: LegacySignature, *, actor: str) -> None:
        """labkit's storage: add one signature without losing concurrent ones (`labkit.oci.signatures`)."""
        attach_signature(self.repo(repo), digest, self.layer(sig), sig.payload)

    def attach_signature_racy(self, repo: str, digest: str, sig: LegacySignature, *, pause: float = 0.0) -> None:
        """cosign's read-append-write (GET, append, unconditional PUT): concurrent writers lose signatures."""
        append_signature_racy(self.repo(repo), digest, self.layer(sig), sig.payload, pause=pause)


def sign_image(
    key: SigningKey,
    docker_reference: str,
    digest: str,
    log: SandboxLog | LabkitLog | None,
    *,
    annotations: dict[str, str] | None = None,
) -> tuple[LegacySignature, LogEntry | None]:
    """Sign an image as ``cosign sign --key``: simple-signing payload, hashedrekord upload, rekorBundle."""
    payload = simple_signing_payload(docker_reference, digest, annotations)
    signature = key.sign(payload)
    entry = None
    bundle: dict[str, Any] | None = None
    if log is not None:
        entry = log.upload_hashedrekord(signature, key.public_key().pem(), payload)
        bundle = entry.rekor_bundle()
    return LegacySignature(payload, signature, None, bundle), entry
