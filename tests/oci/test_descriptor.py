"""Strict-but-interoperable parsing of manifests and indexes."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import StoreError
from labkit.oci.descriptor import (
    EMPTY_DESCRIPTOR,
    MT_INDEX,
    MT_MANIFEST,
    Descriptor,
    ImageIndex,
    Manifest,
    ManifestError,
    parse_any_manifest,
    parse_index,
    parse_manifest,
)
from labkit.oci.digest import Digest

D = str(Digest.of(b"x"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.just(D) | st.just(MT_MANIFEST),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "manifests", "digest", "size",
                         "annotations", "subject", "artifactType", "data", "platform", "x"]),
        children, max_size=6,
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parsers_raise_only_labkit_errors(doc: object) -> None:
    data = json.dumps(doc).encode()
    for parse in (parse_manifest, parse_index, parse_any_manifest):
        with contextlib.suppress(StoreError):
            parse(data)


def test_deep_nesting_is_an_error() -> None:
    with pytest.raises(ManifestError):
        parse_any_manifest(b"[" * 100000 + b"]" * 100000)


def test_round_trip_and_unknown_types_kept() -> None:
    layer = Descriptor.for_bytes(b"x", "application/vnd.example.unknown", annotations={"a": "b"})
    subject = Descriptor(MT_MANIFEST, Digest.of(b"s"), 1)
    m = Manifest(EMPTY_DESCRIPTOR, (layer,), MT_MANIFEST, "application/vnd.example.artifact", subject, {"k": "v"})
    parsed = parse_manifest(m.to_bytes())
    assert parsed == Manifest(EMPTY_DESCRIPTOR, (layer,), MT_MANIFEST, "application/vnd.example.artifact",
                              subject, {"k": "v"})
    assert parsed.config.data == b"{}"
    idx = ImageIndex((Descriptor(MT_MANIFEST, Digest.of(b"m"), 1, artifact_type="x/y"),))
    assert parse_index(idx.to_bytes()) == idx
    assert isinstance(parse_any_manifest(idx.to_bytes()), ImageIndex)


def test_empty_config_needs_artifact_type() -> None:
    m = Manifest(EMPTY_DESCRIPTOR, (), MT_MANIFEST)
    with pytest.raises(ManifestError, match="artifactType"):
        parse_manifest(m.to_bytes())


def test_wrong_media_types() -> None:
    with pytest.raises(ManifestError, match="not an image manifest"):
        parse_manifest(ImageIndex(()).to_bytes())
    doc = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "manifests": []}
    with pytest.raises(ManifestError, match="not an image index"):
        parse_index(json.dumps(doc).encode())
    assert parse_index(json.dumps({"schemaVersion": 2, "manifests": []}).encode()).media_type is None
    assert MT_INDEX
