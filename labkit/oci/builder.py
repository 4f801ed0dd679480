"""A tiny, reproducible OCI image builder for the lab (no Docker needed).

An image is built from files (a mapping of path -> bytes, or a directory) or
from a Python dict describing layers and config. Everything that could vary
is fixed: tar entries sorted by path, mtime = the lab epoch, uid/gid 0,
empty user/group names, mode 0644 (0755 for directories), PAX format; gzip
with mtime 0 and no file name. The same input gives the same digest, every
run, on every machine with the same zlib.

    >>> import tempfile
    >>> from labkit.oci.layout import OCILayout
    >>> store = OCILayout.init(tempfile.mkdtemp())
    >>> a = build_image(store, {"hello.txt": b"hi"}, tag="v1")
    >>> b = build_image(store, {"hello.txt": b"hi"}, tag="v1")
    >>> a.digest == b.digest
    True
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from labkit.errors import InputError
from labkit.lab import DEFAULT_LAB_TIME
from labkit.oci.descriptor import (
    MT_CONFIG,
    MT_LAYER_GZIP,
    MT_MANIFEST,
    Descriptor,
    Manifest,
    canonical_json,
)
from labkit.oci.digest import Digest

__all__ = ["BuiltImage", "build_from_dict", "build_image", "files_from_directory"]

#: The mtime of every file in a lab layer: the lab clock's start (2026-01-01T12:00:00Z).
LAB_EPOCH = int(DEFAULT_LAB_TIME.timestamp())


class BlobSink(Protocol):
    """Where the builder writes (an `OCILayout` or a `RegistryRepository`)."""

    def put_blob(self, data: bytes, media_type: str = ...) -> Descriptor:
        """Store a blob and return its descriptor."""

    def put_manifest(
        self, data: bytes, media_type: str | None = None, *, tag: str | None = None
    ) -> Descriptor:
        """Store a manifest (optionally tagged) and return its descriptor."""


@dataclass(frozen=True)
class BuiltImage:
    """What `build_image` produced."""

    descriptor: Descriptor
    manifest: Manifest
    manifest_bytes: bytes
    config: dict[str, Any]
    layers: tuple[Descriptor, ...]

    @property
    def digest(self) -> Digest:
        """The manifest digest: the image's identity."""
        return self.descriptor.digest


def _clean_path(name: str) -> str:
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InputError(f"invalid file name in layer: {name!r}")
    norm = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if name.startswith("/") or norm in ("", ".") or norm == ".." or norm.startswith("../"):
        raise InputError(f"layer paths must be relative and stay inside the image: {name!r}")
    return norm


def make_layer(files: Mapping[str, bytes | str], *, mtime: int = LAB_EPOCH) -> tuple[bytes, Digest]:
    """A gzip tar layer of `files`; returns (compressed bytes, diff_id = digest of the tar)."""
    entries: dict[str, bytes] = {}
    for name, content in files.items():
        path = _clean_path(name)
        if path in entries:
            raise InputError(f"file {path!r} appears twice in one layer")
        if not isinstance(content, (bytes, bytearray, str)):
            raise InputError(f"content of {path!r} must be bytes or str, not {type(content).__name__}")
        entries[path] = content.encode() if isinstance(content, str) else bytes(content)
    dirs: set[str] = set()
    for path in entries:
        parent = posixpath.dirname(path)
        while parent:
            if parent in entries:
                raise InputError(f"{parent!r} is both a file and a directory")
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(dirs | set(entries)):
            info = tarfile.TarInfo(path)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path in entries:
                data = entries[path]
                info.type = tarfile.REGTYPE
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
    tar_bytes = raw.getvalue()
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(tar_bytes)
    return out.getvalue(), Digest.of(tar_bytes)


def files_from_directory(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every regular file under `path`, keyed by its relative POSIX path (symlinks refused)."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"not a directory: {root}")
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            raise InputError(f"symlinks are not supported in lab images: {p.relative_to(root)}")
        if p.is_file():
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def build_image(
    store: BlobSink,
    files: Mapping[str, bytes | str] | None = None,
    *,
    layers: Sequence[Mapping[str, bytes | str]] | None = None,
    config: Mapping[str, Any] | None = None,
    tag: str | None = None,
    architecture: str = "amd64",
    os_name: str = "linux",
    created: str = "2026-01-01T12:00:00Z",
    annotations: Mapping[str, str] | None = None,
) -> BuiltImage:
    """Build an image from `files` (one layer) or `layers` (several), store it, and tag it.

    `config` is the image-spec ``config`` object (``Env``, ``Cmd``,
    ``Entrypoint``, ``WorkingDir``, ``Labels``...).
    """
    if files is not None and layers is not None:
        raise InputError("give files (one layer) or layers, not both")
    layer_specs: list[Mapping[str, bytes | str]] = list(layers) if layers is not None else [files or {}]
    layer_descs: list[Descriptor] = []
    diff_ids: list[str] = []
    for spec in layer_specs:
        blob, diff_id = make_layer(spec)
        layer_descs.append(store.put_blob(blob, MT_LAYER_GZIP))
        diff_ids.append(str(diff_id))
    config_doc: dict[str, Any] = {
        "created": created,
        "architecture": architecture,
        "os": os_name,
        "config": dict(config or {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": "labkit image build"} for _ in diff_ids],
    }
    config_bytes = canonical_json(config_doc)
    config_desc = store.put_blob(config_bytes, MT_CONFIG)
    manifest = Manifest(config_desc, tuple(layer_descs), MT_MANIFEST, annotations=dict(annotations or {}))
    data = manifest.to_bytes()
    desc = store.put_manifest(data, MT_MANIFEST, tag=tag)
    return BuiltImage(desc, manifest, data, config_doc, tuple(layer_descs))


def build_from_dict(store: BlobSink, spec: Mapping[str, Any]) -> BuiltImage:
    """Build from a dict: ``{"tag": "v1", "layers": [{"path": "content"}], "config": {...}, "annotations": {...}}``.

    ``files`` may replace ``layers`` for a single layer. Unknown keys are refused.
    """
    if not isinstance(spec, Mapping):
        raise InputError("an image spec must be a mapping")
    allowed = {"tag", "files", "layers", "config", "annotations", "architecture", "os", "created"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InputError(
            f"unknown keys in image spec: {', '.join(unknown)}", details={"allowed": ", ".join(sorted(allowed))}
        )
    layers = spec.get("layers")
    if layers is not None and (not isinstance(layers, list) or not all(isinstance(x, Mapping) for x in layers)):
        raise InputError("'layers' must be a list of {path: content} mappings")
    files = spec.get("files")
    if files is not None and not isinstance(files, Mapping):
        raise InputError("'files' must be a {path: content} mapping")
    return build_image(
        store,
        files,
        layers=layers,
        config=spec.get("config"),
        tag=spec.get("tag"),
        architecture=str(spec.get("architecture", "amd64")),
        os_name=str(spec.get("os", "linux")),
        created=str(spec.get("created", "2026-01-01T12:00:00Z")),
        annotations=spec.get("annotations"),
    )
