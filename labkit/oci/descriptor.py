"""OCI descriptors, media types, and strict parsing of manifests and indexes.

A descriptor points at content: media type, digest, size, and optional
annotations, artifact type, embedded data (OCI image-spec descriptor.md).
Manifests and indexes are parsed strictly enough to be safe (every digest
validated, sizes non-negative integers) and loosely enough to be
interoperable: unknown media types, artifact types and fields are kept,
never rejected (manifest.md: implementations "MUST NOT error" on them).

JSON labkit writes is compact, in a fixed key order, so the same content
always has the same digest.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labkit._internal.jsonio import JSONValue, JSONWritable, loads
from labkit.errors import StoreError
from labkit.oci.digest import Digest

__all__ = [
    "MT_CONFIG", "MT_LAYER_GZIP", "MT_LAYER_TAR", "MT_MANIFEST", "Descriptor", "ImageIndex", "Manifest",
    "NotFoundError", "parse_manifest", "parse_any_manifest",
]

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
_MT_EMPTY = "application/vnd.oci.empty.v1+json"
_MT_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"
_MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_MT_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
#: Media types that are manifests (things a tag can point at).
MANIFEST_MEDIA_TYPES = (MT_MANIFEST, MT_INDEX, _MT_DOCKER_MANIFEST, _MT_DOCKER_MANIFEST_LIST)
#: The tag annotation on index.json descriptors (image-spec annotations.md).
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
EMPTY_JSON = b"{}"


class ManifestError(StoreError):
    """A manifest or index is not JSON or violates the image spec."""

    hint = "The manifest is malformed; fetch it again or check who wrote it."


class NotFoundError(StoreError):
    """A tag, manifest or blob is not in the store."""

    hint = "Check the tag or digest, and that the image was pushed to this store."


def canonical_json(value: JSONWritable) -> bytes:
    """Compact JSON in the given key order (no spaces, UTF-8, no trailing newline)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    data: bytes | None = None
    platform: Mapping[str, Any] | None = None

    @classmethod
    def for_bytes(
        cls,
        data: bytes,
        media_type: str,
        *,
        annotations: Mapping[str, str] | None = None,
        artifact_type: str | None = None,
        embed: bool = False,
    ) -> Descriptor:
        """The descriptor of `data` (sha256)."""
        return cls(
            media_type, Digest.of(data), len(data), dict(annotations or {}), artifact_type, data if embed else None
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in image-spec order."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.data is not None:
            out["data"] = base64.b64encode(self.data).decode()
        if self.platform is not None:
            out["platform"] = dict(self.platform)
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_dict(cls, doc: JSONValue, *, what: str = "descriptor",
                  default_media_type: str | None = None) -> Descriptor:
        """Parse a descriptor object; raise `ManifestError` (or `DigestError`) if it is malformed."""
        if not isinstance(doc, dict):
            raise ManifestError(f"{what} is not a JSON object")
        media_type = doc.get("mediaType", default_media_type)
        if not isinstance(media_type, str) or not media_type:
            raise ManifestError(f"{what} has no mediaType")
        digest = Digest.parse(doc.get("digest"))
        size = doc.get("size")
        # descriptor.md: size is int64 and MUST NOT be negative.
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size >= 2**63:
            raise ManifestError(f"{what} has an invalid size {size!r}")
        given = doc.get("annotations") or {}
        if not isinstance(given, dict):
            raise ManifestError(f"{what} has annotations that are not a string map")
        annotations = {k: v for k, v in given.items() if isinstance(k, str) and isinstance(v, str)}
        if len(annotations) != len(given):
            raise ManifestError(f"{what} has annotations that are not a string map")
        artifact_type = doc.get("artifactType")
        if artifact_type is not None and not isinstance(artifact_type, str):
            raise ManifestError(f"{what} has a non-string artifactType")
        data = None
        embedded = doc.get("data")
        if embedded is not None:
            try:
                if not isinstance(embedded, str):
                    raise TypeError("not a string")
                data = base64.b64decode(embedded, validate=True)
            except (ValueError, TypeError):
                raise ManifestError(f"{what} has embedded data that is not base64") from None
        platform = doc.get("platform")
        if platform is not None and not isinstance(platform, dict):
            raise ManifestError(f"{what} has a platform that is not an object")
        return cls(media_type, digest, size, annotations, artifact_type, data, platform)

    def with_annotations(self, annotations: Mapping[str, str]) -> Descriptor:
        """A copy with `annotations` replacing the current ones."""
        return Descriptor(
            self.media_type, self.digest, self.size, dict(annotations), self.artifact_type, self.data, self.platform
        )


#: The OCI empty descriptor (manifest.md §Guidance for an empty descriptor).
EMPTY_DESCRIPTOR = Descriptor(_MT_EMPTY, Digest.of(EMPTY_JSON), 2, {}, None, EMPTY_JSON)


@dataclass(frozen=True)
class Manifest:
    """An OCI (or Docker v2) image manifest."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    media_type: str | None = MT_MANIFEST
    artifact_type: str | None = None
    subject: Descriptor | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (schemaVersion, mediaType, artifactType, config, layers, subject, annotations)."""
        out: dict[str, Any] = {"schemaVersion": 2}
        if self.media_type is not None:
            out["mediaType"] = self.media_type
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        out["config"] = self.config.to_dict()
        out["layers"] = [d.to_dict() for d in self.layers]
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    def to_bytes(self) -> bytes:
        """Compact JSON; its sha256 is the manifest digest."""
        return canonical_json(self.to_dict())


@dataclass(frozen=True)
class ImageIndex:
    """An OCI image index (also the shape of a layout's index.json)."""

    manifests: tuple[Descriptor, ...]
    media_type: str | None = MT_INDEX
    artifact_type: str | None = None
    subject: Descriptor | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        out: dict[str, Any] = {"schemaVersion": 2}
        if self.media_type is not None:
            out["mediaType"] = self.media_type
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        out["manifests"] = [d.to_dict() for d in self.manifests]
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    def to_bytes(self) -> bytes:
        """Compact JSON."""
        return canonical_json(self.to_dict())


def _load(data: bytes, what: str) -> dict[str, Any]:
    # The bounded reader: 4 MiB (distribution-spec manifest guidance), nesting limit, strict JSON.
    doc = loads(data, what=what, error=ManifestError)
    if not isinstance(doc, dict):
        raise ManifestError(f"{what} is not a JSON object")
    if doc.get("schemaVersion") != 2:
        raise ManifestError(f"{what} has schemaVersion {doc.get('schemaVersion')!r}, expected 2")
    return doc


def _common(doc: dict[str, Any], what: str) -> tuple[str | None, Descriptor | None, dict[str, str]]:
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise ManifestError(f"{what} has a non-string artifactType")
    subject = Descriptor.from_dict(doc["subject"], what=f"{what} subject") if doc.get("subject") is not None else None
    annotations = doc.get("annotations") or {}
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
    ):
        raise ManifestError(f"{what} has annotations that are not a string map")
    return artifact_type, subject, annotations


def parse_manifest(data: bytes, *, what: str = "manifest") -> Manifest:
    """Parse an image manifest; raise `ManifestError` / `DigestError` if malformed."""
    doc = _load(data, what)
    media_type = doc.get("mediaType")
    if media_type is not None and media_type not in (MT_MANIFEST, _MT_DOCKER_MANIFEST):
        raise ManifestError(f"{what} has mediaType {media_type!r}, not an image manifest")
    if "manifests" in doc:
        raise ManifestError(f"{what} is an index, not an image manifest")
    config = Descriptor.from_dict(doc.get("config"), what=f"{what} config")
    layers_doc = doc.get("layers")
    if not isinstance(layers_doc, list):
        raise ManifestError(f"{what} has no layers array")
    layers = tuple(Descriptor.from_dict(d, what=f"{what} layer {i}") for i, d in enumerate(layers_doc))
    artifact_type, subject, annotations = _common(doc, what)
    # manifest.md: artifactType MUST be set when config.mediaType is the empty media type.
    if config.media_type == _MT_EMPTY and artifact_type is None:
        raise ManifestError(f"{what} has an empty config but no artifactType")
    return Manifest(config, layers, media_type, artifact_type, subject, annotations)


def parse_index(data: bytes, *, what: str = "index") -> ImageIndex:
    """Parse an image index (or index.json, whose mediaType may be absent)."""
    doc = _load(data, what)
    media_type = doc.get("mediaType")
    # image-index.md: mediaType SHOULD be present and MUST be the index type when it is.
    if media_type is not None and media_type not in (MT_INDEX, _MT_DOCKER_MANIFEST_LIST):
        raise ManifestError(f"{what} has mediaType {media_type!r}, not an image index")
    manifests_doc = doc.get("manifests")
    if not isinstance(manifests_doc, list):
        raise ManifestError(f"{what} has no manifests array")
    manifests = tuple(Descriptor.from_dict(d, what=f"{what} entry {i}") for i, d in enumerate(manifests_doc))
    artifact_type, subject, annotations = _common(doc, what)
    return ImageIndex(manifests, media_type, artifact_type, subject, annotations)


def parse_any_manifest(data: bytes, *, what: str = "manifest") -> Manifest | ImageIndex:
    """Parse a manifest or an index, deciding by mediaType (or by shape when absent)."""
    doc = _load(data, what)
    media_type = doc.get("mediaType")
    if media_type in (MT_INDEX, _MT_DOCKER_MANIFEST_LIST) or (media_type is None and "manifests" in doc):
        return parse_index(data, what=what)
    return parse_manifest(data, what=what)
