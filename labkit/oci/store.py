"""Open the store an image reference points at: a layout directory or a registry repository.

    >>> import tempfile
    >>> store, ref = open_store("oci:" + tempfile.mkdtemp() + ":v1", create=True)
    >>> type(store).__name__, ref.tag
    ('OCILayout', 'v1')
"""

from __future__ import annotations

from labkit.oci.layout import OCILayout
from labkit.oci.reference import ImageReference, LayoutReference, Reference, parse_reference
from labkit.oci.registry import RegistryClient, RegistryRepository

__all__ = ["open_store"]


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
