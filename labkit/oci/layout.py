"""An OCI image-layout directory: labkit's embedded, content-addressed image store.

The layout follows OCI image-spec v1.1 image-layout.md::

    DIR/oci-layout                {"imageLayoutVersion": "1.0.0"}
    DIR/index.json                an image index; tags are ref.name annotations
    DIR/blobs/<alg>/<encoded>     content, named by its digest

Every digest is validated (full match of the descriptor grammar) before it
becomes a path, so ``sha256:../../etc/passwd`` never reaches the file system.
Every blob is re-hashed and size-checked when written and when read. Blobs
are written to a temp file, fsynced and renamed; index.json is replaced
atomically under an exclusive lock (``DIR/.labkit.lock``), so concurrent
writers lose nothing. Unknown files, fields and media types are left alone.

Every read path re-hashes what it reads: a manifest or index (resolving a
tag or digest, `get_manifest`, `referrers`) is checked against its digest
and size like any blob, so a layout whose manifest bytes were edited is
refused (`DigestError`), never trusted. ``index.json``, ``oci-layout`` and
every manifest are read with a byte cap (`MAX_DOCUMENT_BYTES`, 4 MiB) and
never whole first.

Reading layouts written by skopeo and umoci works: their index.json has no
top-level ``mediaType`` (a SHOULD, not a MUST).

    >>> import tempfile
    >>> store = OCILayout.init(tempfile.mkdtemp())
    >>> store.put_blob(b"hello").digest.short()
    'sha256:2cf24dba5fb0'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from labkit._internal.fsutil import atomic_write, file_lock
from labkit._internal.jsonio import MAX_DOCUMENT_BYTES, read_json_file
from labkit.errors import DigestError, StoreError
from labkit.oci.descriptor import (
    ANNOTATION_REF_NAME,
    MT_INDEX,
    Descriptor,
    ImageIndex,
    Manifest,
    ManifestError,
    NotFoundError,
    canonical_json,
    parse_any_manifest,
    parse_index,
)
from labkit.oci.digest import Digest, DigestWriter, verify_bytes
from labkit.oci.reference import validate_tag

__all__ = ["OCILayout"]

_LAYOUT_VERSION = "1.0.0"
CHUNK_SIZE = 1 << 20
_LOCK_NAME = ".labkit.lock"


class OCILayout:
    """An OCI image layout on disk. Use `init` to create one, `open` to use an existing one."""

    #: Byte cap on index.json, oci-layout and every manifest or index read.
    max_document_bytes: int = MAX_DOCUMENT_BYTES

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._rlock = threading.RLock()
        self._depth = 0
        self._check_layout()

    # -- creation ---------------------------------------------------------

    @classmethod
    def init(cls, path: str | os.PathLike[str]) -> OCILayout:
        """Create (or open, if it already is one) a layout at `path`."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        with file_lock(root / _LOCK_NAME):
            (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
            if not (root / "oci-layout").exists():
                atomic_write(root / "oci-layout", canonical_json({"imageLayoutVersion": _LAYOUT_VERSION}))
            if not (root / "index.json").exists():
                atomic_write(root / "index.json", ImageIndex(()).to_bytes())
        return cls(root)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> OCILayout:
        """Open an existing layout; raise `StoreError` if `path` is not one."""
        return cls(path)

    def _check_layout(self) -> None:
        header = self.path / "oci-layout"
        if not self.path.is_dir():
            raise StoreError(f"not an OCI layout directory: {self.path} does not exist")
        if not header.exists():
            raise StoreError(f"not an OCI layout: {self.path} has no oci-layout file")
        doc = read_json_file(header, what=f"oci-layout in {self.path}", error=StoreError,
                             max_bytes=self.max_document_bytes)
        # image-layout.md: oci-layout MUST be a JSON object with imageLayoutVersion.
        if not isinstance(doc, dict) or not isinstance(doc.get("imageLayoutVersion"), str):
            raise StoreError(f"oci-layout in {self.path} has no imageLayoutVersion")
        if doc["imageLayoutVersion"] != _LAYOUT_VERSION:
            raise StoreError(
                f"unsupported image layout version {doc['imageLayoutVersion']!r}",
                details={"supported": _LAYOUT_VERSION},
            )

    @property
    def name(self) -> str:
        """``oci:DIR`` (for messages and displays)."""
        return f"oci:{self.path}"

    def __repr__(self) -> str:
        return f"OCILayout({str(self.path)!r})"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the layout's exclusive writer lock (inter-process `flock`; re-entrant in one process)."""
        with self._rlock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with file_lock(self.path / _LOCK_NAME):
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0

    # -- blobs ------------------------------------------------------------

    def blob_path(self, digest: Digest | str) -> Path:
        """``DIR/blobs/<alg>/<hex>``, only for a digest that passed validation."""
        d = digest if isinstance(digest, Digest) else Digest.parse(digest)
        return self.path / "blobs" / d.algorithm / d.hex

    def has_blob(self, digest: Digest | str) -> bool:
        """True when the blob file exists (its content is checked on read)."""
        return self.blob_path(digest).is_file()

    def put_blob(
        self,
        data: bytes,
        media_type: str = "application/octet-stream",
        *,
        digest: Digest | str | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> Descriptor:
        """Store `data` (checked against `digest` when given) and return its descriptor."""
        if digest is not None:
            verify_bytes(data, digest, what="blob")
        desc = Descriptor.for_bytes(data, media_type, annotations=annotations)
        target = self.blob_path(desc.digest)
        if not self._blob_ok(desc.digest, desc.size):
            atomic_write(target, data)
        return desc

    def _blob_ok(self, digest: Digest, size: int) -> bool:
        """True when the stored blob exists and re-hashes to `digest` (a damaged copy gets replaced)."""
        try:
            for _ in self.open_blob(digest, size):
                pass
        except StoreError:
            return False
        return True

    def put_blob_stream(
        self,
        source: IO[bytes] | Iterable[bytes],
        media_type: str = "application/octet-stream",
        *,
        digest: Digest | str | None = None,
        size: int | None = None,
    ) -> Descriptor:
        """Stream a blob in with bounded memory; check `size` and `digest` when given.

        The bytes go to a temp file beside their final place while being
        hashed, and are renamed into ``blobs/`` only once they verify.
        """
        expected = None if digest is None else (digest if isinstance(digest, Digest) else Digest.parse(digest))
        algorithm = expected.algorithm if expected else "sha256"
        directory = self.path / "blobs" / algorithm
        directory.mkdir(parents=True, exist_ok=True)
        writer = DigestWriter(algorithm)
        fd, tmp = tempfile.mkstemp(prefix=".upload.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in _chunks(source):
                    writer.update(chunk)
                    if size is not None and writer.size > size:
                        raise DigestError(
                            f"blob is longer than its declared size {size}", details={"declared size": size}
                        )
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            actual = writer.digest()
            if size is not None and writer.size != size:
                raise DigestError(
                    f"blob has {writer.size} bytes, expected {size}",
                    details={"expected size": size, "actual size": writer.size},
                )
            if expected is not None and actual != expected:
                raise DigestError(
                    "blob does not match its digest", details={"expected": str(expected), "actual": str(actual)}
                )
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.blob_path(actual))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return Descriptor(media_type, actual, writer.size)

    def get_blob(self, digest: Digest | str, size: int | None = None) -> bytes:
        """The blob's bytes, re-hashed (and size-checked when `size` is given)."""
        d = digest if isinstance(digest, Digest) else Digest.parse(digest)
        path = self.blob_path(d)
        try:
            with path.open("rb") as fh:
                actual_size = os.fstat(fh.fileno()).st_size
                if size is not None and actual_size != size:  # checked before reading anything
                    raise DigestError(
                        f"blob {d.short()} has {actual_size} bytes, its descriptor says {size}",
                        details={"expected size": size, "actual size": actual_size},
                    )
                data = fh.read()
        except FileNotFoundError:
            raise NotFoundError(f"blob {d} is missing from {self.name}", details={"digest": str(d)}) from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {d}: {exc.strerror}") from None
        verify_bytes(data, d, size, what=f"blob {d.short()}")
        return data

    def open_blob(
        self, digest: Digest | str, size: int | None = None, *, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream a blob in chunks; the size is checked first, the digest at the end.

        The last chunk is yielded only after the hash matched, so a consumer
        that reads to the end never accepts bad content silently.
        """
        d = digest if isinstance(digest, Digest) else Digest.parse(digest)
        path = self.blob_path(d)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"blob {d} is missing from {self.name}", details={"digest": str(d)}) from None
        with fh:
            actual_size = os.fstat(fh.fileno()).st_size
            if size is not None and actual_size != size:
                raise DigestError(
                    f"blob {d.short()} has {actual_size} bytes, its descriptor says {size}",
                    details={"expected size": size, "actual size": actual_size},
                )
            h = d.new_hash()
            pending: bytes | None = None
            while True:
                chunk = fh.read(chunk_size)
                if not chunk:
                    break
                h.update(chunk)
                if pending is not None:
                    yield pending
                pending = chunk
            if h.hexdigest() != d.hex:
                raise DigestError(
                    f"blob {d.short()} does not match its digest",
                    details={"expected": str(d), "actual": f"{d.algorithm}:{h.hexdigest()}"},
                )
            if pending is not None:
                yield pending

    def blobs(self) -> list[Digest]:
        """Every blob file whose name is a valid digest, sorted."""
        out: list[Digest] = []
        root = self.path / "blobs"
        if not root.is_dir():
            return out
        for alg_dir in sorted(root.iterdir()):
            if not alg_dir.is_dir():
                continue
            for f in sorted(alg_dir.iterdir()):
                with contextlib.suppress(DigestError):
                    out.append(Digest.parse(f"{alg_dir.name}:{f.name}"))
        return out

    # -- index.json -------------------------------------------------------

    def _index_bytes(self) -> bytes:
        """index.json, read no further than the byte cap."""
        cap = self.max_document_bytes
        try:
            with (self.path / "index.json").open("rb") as fh:
                data = fh.read(cap + 1)
        except FileNotFoundError:
            raise StoreError(f"{self.name} has no index.json") from None
        except OSError as exc:
            raise StoreError(f"cannot read index.json of {self.name}: {exc.strerror or exc}") from None
        if len(data) > cap:
            raise StoreError(f"index.json of {self.name} is over the {cap}-byte limit",
                             hint="A layout index this large is broken or hostile; labkit does not read it.")
        return data

    def _read_index_doc(self) -> dict[str, Any]:
        data = self._index_bytes()
        parse_index(data, what="index.json")  # validates every descriptor and digest (bounded JSON)
        doc: dict[str, Any] = json.loads(data)
        return doc

    def index(self) -> ImageIndex:
        """The parsed index.json."""
        return parse_index(self._index_bytes(), what="index.json")

    def _read_manifest(self, digest: Digest, size: int | None = None) -> bytes:
        """A manifest or index blob: size-capped, read no further than the cap, re-hashed against `digest`."""
        cap = self.max_document_bytes
        if size is not None and size > cap:
            raise StoreError(f"manifest {digest.short()} is {size} bytes, over the {cap}-byte limit",
                             details={"digest": str(digest)})
        path = self.blob_path(digest)
        try:
            with path.open("rb") as fh:
                data = fh.read(cap + 1)
        except FileNotFoundError:
            raise NotFoundError(f"manifest {digest} is missing from {self.name}",
                                details={"digest": str(digest)}) from None
        except OSError as exc:
            raise StoreError(f"cannot read manifest {digest}: {exc.strerror or exc}") from None
        if len(data) > cap:
            raise StoreError(f"manifest {digest.short()} is over the {cap}-byte limit",
                             details={"digest": str(digest)})
        verify_bytes(data, digest, size, what=f"manifest {digest.short()} in {self.name}")
        return data

    def _write_index_doc(self, doc: dict[str, Any]) -> None:
        data = canonical_json(doc)
        parse_index(data, what="index.json")
        atomic_write(self.path / "index.json", data)

    def tags(self) -> list[str]:
        """Every tag (ref.name) in index.json, sorted."""
        return sorted(
            {d.annotations[ANNOTATION_REF_NAME] for d in self.index().manifests if ANNOTATION_REF_NAME in d.annotations}
        )

    def duplicate_tags(self) -> list[str]:
        """Tags that appear on more than one descriptor (skopeo silently picks the first)."""
        seen: dict[str, int] = {}
        for d in self.index().manifests:
            name = d.annotations.get(ANNOTATION_REF_NAME)
            if name is not None:
                seen[name] = seen.get(name, 0) + 1
        return sorted(n for n, c in seen.items() if c > 1)

    def resolve(self, ref: str | Digest | None) -> Descriptor:
        """The descriptor a tag or digest names (None: the layout's only tagged image), its manifest re-hashed."""
        return self.get_manifest(ref)[1]

    def _lookup(self, ref: str | Digest | None) -> tuple[Descriptor, bytes | None]:
        """The descriptor `ref` names in index.json (or a stored manifest by digest, with its verified bytes)."""
        index = self.index()
        if isinstance(ref, Digest) or (isinstance(ref, str) and ":" in ref):
            d = ref if isinstance(ref, Digest) else Digest.parse(ref)
            for desc in index.manifests:
                if desc.digest == d:
                    return desc, None
            path = self.blob_path(d)
            if path.is_file():
                data = self._read_manifest(d)
                parsed = parse_any_manifest(data)
                media_type = parsed.media_type or (MT_INDEX if isinstance(parsed, ImageIndex) else "")
                return Descriptor(media_type or "application/vnd.oci.image.manifest.v1+json", d, len(data)), data
            raise NotFoundError(f"manifest {d} is not in {self.name}")
        if ref is None:
            tagged = [d for d in index.manifests if ANNOTATION_REF_NAME in d.annotations]
            if len(tagged) != 1:
                raise StoreError(
                    f"{self.name} holds {len(tagged)} tagged images; name one with oci:DIR:tag",
                    details={"tags": ", ".join(self.tags())},
                )
            return tagged[0], None
        validate_tag(ref)
        matches = [d for d in index.manifests if d.annotations.get(ANNOTATION_REF_NAME) == ref]
        if not matches:
            raise NotFoundError(f"tag {ref!r} is not in {self.name}", details={"tags": ", ".join(self.tags())})
        if len({m.digest for m in matches}) > 1:
            raise StoreError(
                f"tag {ref!r} appears {len(matches)} times in index.json with different digests",
                hint="Someone edited index.json by hand (a local tag swap?). Remove the entry you do not trust.",
                details={"digests": ", ".join(str(m.digest) for m in matches)},
            )
        return matches[0], None

    def get_manifest(self, ref: str | Digest | None) -> tuple[bytes, Descriptor]:
        """The manifest bytes a tag or digest names, re-hashed and size-checked against the descriptor."""
        desc, data = self._lookup(ref)
        if data is None:
            data = self._read_manifest(desc.digest, desc.size)
        return data, desc

    def put_manifest(
        self,
        data: bytes,
        media_type: str | None = None,
        *,
        tag: str | None = None,
        annotations: Mapping[str, str] | None = None,
        require_blobs: bool = True,
    ) -> Descriptor:
        """Store a manifest (or index), check what it references is present, and optionally tag it."""
        parsed = parse_any_manifest(data)
        mt = media_type or parsed.media_type
        if mt is None:
            raise ManifestError("manifest has no mediaType; pass media_type")
        if require_blobs:
            self._check_references(parsed)
        desc = self.put_blob(data, mt)
        if isinstance(parsed, (Manifest, ImageIndex)) and parsed.artifact_type:
            desc = Descriptor(desc.media_type, desc.digest, desc.size, {}, parsed.artifact_type)
        if tag is not None:
            return self.tag(tag, desc, annotations=annotations)
        return desc

    def _check_references(self, parsed: Manifest | ImageIndex) -> None:
        refs = list(parsed.manifests) if isinstance(parsed, ImageIndex) else [parsed.config, *parsed.layers]
        for d in refs:
            if d.data is not None and d.size == len(d.data) and not self.has_blob(d.digest):
                verify_bytes(d.data, d.digest, d.size, what="embedded data")
                self.put_blob(d.data, d.media_type)
            if not self.has_blob(d.digest):
                raise NotFoundError(
                    f"manifest references blob {d.digest} that is not in {self.name}",
                    hint="Store the config and layers before the manifest that references them.",
                    details={"digest": str(d.digest), "mediaType": d.media_type},
                )

    def tag(self, tag: str, descriptor: Descriptor, *, annotations: Mapping[str, str] | None = None) -> Descriptor:
        """Point `tag` at `descriptor` in index.json (replacing the old entry for that tag)."""
        validate_tag(tag)
        ann = dict(annotations or {})
        ann[ANNOTATION_REF_NAME] = tag
        entry = descriptor.with_annotations(ann)
        with self.lock():
            doc = self._read_index_doc()
            kept = [m for m in doc["manifests"] if (m.get("annotations") or {}).get(ANNOTATION_REF_NAME) != tag]
            kept.append(entry.to_dict())
            doc["manifests"] = kept
            self._write_index_doc(doc)
        return entry

    def untag(self, tag: str) -> None:
        """Remove `tag` from index.json (the blobs stay)."""
        with self.lock():
            doc = self._read_index_doc()
            before = len(doc["manifests"])
            doc["manifests"] = [
                m for m in doc["manifests"] if (m.get("annotations") or {}).get(ANNOTATION_REF_NAME) != tag
            ]
            if len(doc["manifests"]) == before:
                raise NotFoundError(f"tag {tag!r} is not in {self.name}")
            self._write_index_doc(doc)

    # -- referrers ----------------------------------------------------------

    def put_referrer(self, data: bytes, media_type: str | None = None) -> Descriptor:
        """Store a manifest that has a `subject` and list it (untagged) in index.json."""
        parsed = parse_any_manifest(data)
        if parsed.subject is None:
            raise ManifestError("a referrer must have a subject")
        desc = self.put_manifest(data, media_type)
        with self.lock():
            doc = self._read_index_doc()
            if not any(m.get("digest") == str(desc.digest) for m in doc["manifests"]):
                doc["manifests"].append(desc.to_dict())
                self._write_index_doc(doc)
        return desc

    def referrers(self, digest: Digest | str, artifact_type: str | None = None) -> list[Descriptor]:
        """Manifests listed in index.json whose `subject` is `digest` (sorted by digest)."""
        d = digest if isinstance(digest, Digest) else Digest.parse(digest)
        out: dict[Digest, Descriptor] = {}
        for desc in self.index().manifests:
            if desc.media_type not in ("application/vnd.oci.image.manifest.v1+json", MT_INDEX):
                continue
            try:
                data = self._read_manifest(desc.digest, desc.size)
            except NotFoundError:
                continue
            # A manifest whose bytes no longer match its digest is refused (DigestError), never skipped.
            parsed = parse_any_manifest(data, what=f"manifest {desc.digest.short()}")
            if parsed.subject is None or parsed.subject.digest != d:
                continue
            if artifact_type is not None and parsed.artifact_type != artifact_type:
                continue
            out[desc.digest] = Descriptor(
                desc.media_type, desc.digest, desc.size, dict(parsed.annotations), parsed.artifact_type
            )
        return [out[k] for k in sorted(out)]

    # -- checks ---------------------------------------------------------------

    def check(self) -> list[str]:
        """Problems found by re-reading everything: bad blobs, missing blobs, duplicate tags."""
        problems: list[str] = []
        for d in self.blobs():
            try:
                self.get_blob(d)
            except StoreError as exc:
                problems.append(exc.message)
        for tag in self.duplicate_tags():
            problems.append(f"tag {tag!r} appears more than once in index.json")
        for desc in self.index().manifests:
            try:
                parsed = parse_any_manifest(self.get_blob(desc.digest, desc.size))
                self._check_references(parsed)
            except StoreError as exc:
                problems.append(exc.message)
        return problems


def _chunks(source: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in source:
            if chunk:
                yield bytes(chunk)
