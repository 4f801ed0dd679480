"""Open the store an image reference points at (a layout or a registry repository); copy images between stores.

    >>> import tempfile
    >>> store, ref = open_store("oci:" + tempfile.mkdtemp() + ":v1", create=True)
    >>> type(store).__name__, ref.tag
    ('OCILayout', 'v1')
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from labkit.errors import DigestError
from labkit.oci.descriptor import Descriptor, ImageIndex, parse_any_manifest
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.reference import ImageReference, LayoutReference, Reference, parse_reference
from labkit.oci.registry import RegistryClient, RegistryRepository

__all__ = ["ImageStore", "copy_image", "open_destination", "open_store"]


class ImageStore(Protocol):
    """What every OCI store offers (`OCILayout`, `RegistryRepository`): code written against it works on both.

    A parameter only one store honours is not here (`OCILayout.put_manifest`'s ``annotations`` and
    ``require_blobs``), so passing it through this type is a type error, not a silent no-op.
    """

    @property
    def name(self) -> str:
        """Where the store is, for messages."""
        ...

    def has_blob(self, digest: Digest | str) -> bool:
        """True when the blob is present."""
        ...

    def put_blob(self, data: bytes, media_type: str = ...) -> Descriptor:
        """Store a blob."""
        ...

    def put_blob_stream(self, source: IO[bytes] | Iterable[bytes], media_type: str = ...) -> Descriptor:
        """Store a blob from a stream, in bounded memory."""
        ...

    def get_blob(self, digest: Digest | str, size: int | None = None) -> bytes:
        """A blob's bytes, verified against its digest."""
        ...

    def resolve(self, ref: str | Digest | None) -> Descriptor:
        """The descriptor a tag or digest names."""
        ...

    def get_manifest(self, ref: str | Digest | None) -> tuple[bytes, Descriptor]:
        """A manifest's bytes and descriptor."""
        ...

    def put_manifest(self, data: bytes, media_type: str | None = None, *, tag: str | None = None) -> Descriptor:
        """Store a manifest, by digest or under `tag`."""
        ...

    def tag(self, tag: str, descriptor: Descriptor) -> Descriptor:
        """Point `tag` at a stored manifest."""
        ...

    def tags(self) -> list[str]:
        """The tags, sorted."""
        ...

    def referrers(self, digest: Digest | str, artifact_type: str | None = None) -> list[Descriptor]:
        """The manifests whose subject is `digest`."""
        ...

    def put_referrer(self, data: bytes, media_type: str | None = None) -> Descriptor:
        """Store a manifest with a subject and make it discoverable as a referrer."""
        ...


def open_store(
    reference: str | Reference, *, create: bool = False
) -> tuple[OCILayout | RegistryRepository, Reference]:
    """The store for `reference` and the parsed reference.

    ``oci:DIR...`` opens (or with `create`, initialises) the layout; a
    registry reference connects to that loopback registry over HTTP.
    """
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    if isinstance(ref, LayoutReference):
        return (OCILayout.init(ref.path) if create else OCILayout.open(ref.path)), ref
    assert isinstance(ref, ImageReference)
    client = RegistryClient(f"http://{ref.registry}")
    return client.repository(ref.repository), ref


@contextlib.contextmanager
def open_destination(reference: str | Reference) -> Iterator[tuple[OCILayout | RegistryRepository, Reference]]:
    """`open_store` with `create`, undone on failure: a layout directory this run created is removed.

    A pull that fails (registry down, lying, over a limit) leaves no empty
    or half-filled layout behind. A layout that existed before is kept.
    """
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    created: Path | None = None
    emptied: Path | None = None
    if isinstance(ref, LayoutReference):
        path = Path(ref.path)
        created = _first_missing(path)
        if created is None and path.is_dir() and not any(path.iterdir()):
            emptied = path  # an empty directory: keep it, but empty again
    try:
        yield open_store(ref, create=True)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        elif emptied is not None:
            for child in list(emptied.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _first_missing(path: Path) -> Path | None:
    """The outermost directory of `path` that does not exist yet (what creating it would add), if any."""
    missing = None
    for candidate in (path.absolute(), *path.absolute().parents):
        if candidate.exists():
            break
        missing = candidate
    return missing


def copy_image(
    src: OCILayout | RegistryRepository,
    ref: str | Digest | None,
    dst: OCILayout | RegistryRepository,
    *,
    tag: str | None = None,
) -> Descriptor:
    """Copy the image (manifest or index, config, layers) `ref` from `src` to `dst`, digests unchanged.

    Blobs stream through with bounded memory and are verified on both ends;
    children of an index are copied before the index, blobs before manifests.
    """
    data, desc = src.get_manifest(ref)
    _copy_manifest(src, dst, data)
    return (
        dst.put_manifest(data, desc.media_type, tag=tag) if tag is not None else dst.put_manifest(data, desc.media_type)
    )


def _copy_manifest(src: OCILayout | RegistryRepository, dst: OCILayout | RegistryRepository, data: bytes) -> None:
    parsed = parse_any_manifest(data)
    if isinstance(parsed, ImageIndex):
        for child in parsed.manifests:
            child_data, child_desc = src.get_manifest(child.digest)
            _copy_manifest(src, dst, child_data)
            dst.put_manifest(child_data, child_desc.media_type)
        return
    for blob in (parsed.config, *parsed.layers):
        if dst.has_blob(blob.digest):
            continue
        if blob.size <= 1 << 20:
            dst.put_blob(src.get_blob(blob.digest, blob.size), blob.media_type)
        else:
            got = dst.put_blob_stream(src.open_blob(blob.digest, blob.size), blob.media_type)
            if got.digest != blob.digest:
                raise DigestError(f"copied blob {blob.digest.short()} arrived as {got.digest.short()}")
