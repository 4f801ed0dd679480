"""Local OCI storage: digests, references, an image-layout store, a registry client,
a reproducible image builder, and cosign-compatible signature storage.

Image references: ``oci:DIR:tag`` / ``oci:DIR@sha256:...`` for a layout
directory, ``127.0.0.1:PORT/repo:tag`` for a loopback registry (see
`labkit.oci.reference`).
"""

from __future__ import annotations

from labkit.oci.builder import BuiltImage, build_from_dict, build_image, files_from_directory, make_layer
from labkit.oci.descriptor import (
    EMPTY_DESCRIPTOR,
    MT_CONFIG,
    MT_INDEX,
    MT_LAYER_GZIP,
    MT_MANIFEST,
    Descriptor,
    ImageIndex,
    Manifest,
    ManifestError,
    NotFoundError,
    parse_any_manifest,
    parse_index,
    parse_manifest,
)
from labkit.oci.digest import Digest, verify_bytes
from labkit.oci.layout import OCILayout
from labkit.oci.reference import ImageReference, LayoutReference, parse_reference
from labkit.oci.registry import RegistryClient, RegistryRepository
from labkit.oci.server import LocalRegistry
from labkit.oci.signatures import (
    SignResult,
    append_signature_racy,
    attach_signature,
    list_bundles,
    list_signatures,
    resolve_for_signing,
    sign_image,
    signature_tag,
)
from labkit.oci.store import copy_image, open_store

__all__ = [
    "EMPTY_DESCRIPTOR",
    "MT_CONFIG",
    "MT_INDEX",
    "MT_LAYER_GZIP",
    "MT_MANIFEST",
    "BuiltImage",
    "Descriptor",
    "Digest",
    "ImageIndex",
    "ImageReference",
    "LayoutReference",
    "LocalRegistry",
    "Manifest",
    "ManifestError",
    "NotFoundError",
    "OCILayout",
    "RegistryClient",
    "RegistryRepository",
    "SignResult",
    "append_signature_racy",
    "attach_signature",
    "build_from_dict",
    "build_image",
    "copy_image",
    "files_from_directory",
    "list_bundles",
    "list_signatures",
    "make_layer",
    "open_store",
    "parse_any_manifest",
    "parse_index",
    "parse_manifest",
    "parse_reference",
    "resolve_for_signing",
    "sign_image",
    "signature_tag",
    "verify_bytes",
]
