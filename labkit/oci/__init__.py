"""Local OCI storage: digests, references, an image-layout store, a registry client,
a reproducible image builder, and cosign-compatible signature storage.

Image references: ``oci:DIR:tag`` / ``oci:DIR@sha256:...`` for a layout
directory, ``127.0.0.1:PORT/repo:tag`` for a loopback registry (see
`labkit.oci.reference`).
"""

from __future__ import annotations

from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.signatures import sign_image, signature_tag
from labkit.oci.store import copy_image

__all__ = ["OCILayout", "RegistryClient", "build_image", "copy_image", "sign_image", "signature_tag"]
