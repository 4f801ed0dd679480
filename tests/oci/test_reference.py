"""Image references: registry and oci: layout spellings."""

from __future__ import annotations

import pytest

from labkit.errors import ReferenceError_
from labkit.oci.reference import ImageReference, LayoutReference, is_loopback_registry, parse_reference

HEX = "b" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repo", "tag", "digest"),
    [
        ("127.0.0.1:5000/labkit/demo:v1", "127.0.0.1:5000", "labkit/demo", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("docker://localhost:5000/a/b@sha256:" + HEX, "localhost:5000", "a/b", None, "sha256:" + HEX),
        ("ubuntu", "docker.io", "library/ubuntu", None, None),
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
        ("ghcr.io/o/r:t@sha256:" + HEX, "ghcr.io", "o/r", "t", "sha256:" + HEX),
        ("example.com/a__b/c-d.e:T_1", "example.com", "a__b/c-d.e", "T_1", None),
    ],
)
def test_registry_references(text: str, registry: str, repo: str, tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert isinstance(ref, ImageReference)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repo, tag)
    assert (str(ref.digest) if ref.digest else None) == digest


def test_str_round_trip_and_helpers() -> None:
    ref = parse_reference("127.0.0.1:5000/labkit/demo:v1")
    assert isinstance(ref, ImageReference)
    assert str(ref) == "127.0.0.1:5000/labkit/demo:v1"
    assert ref.name == "127.0.0.1:5000/labkit/demo"
    pinned = ref.with_digest(parse_reference("x@sha256:" + HEX).digest)  # type: ignore[arg-type]
    assert str(pinned) == "127.0.0.1:5000/labkit/demo@sha256:" + HEX
    assert pinned.ref == "sha256:" + HEX


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " localhost/a",
        "localhost/UPPER",
        "localhost/a:bad tag",
        "localhost/a:-x",
        "localhost/a@sha256:abc",
        "localhost/a@sha256:" + "B" * 64,
        "localhost/a//b",
        "localhost/a:" + "t" * 129,
        "localhost/../etc",
        "oci:",
        "oci:dir:bad/tag",
        "oci:dir@sha256:nope",
    ],
)
def test_bad_references(bad: str) -> None:
    with pytest.raises(ReferenceError_):
        parse_reference(bad)


def test_layout_references() -> None:
    r = parse_reference("oci:build/layout:v1")
    assert isinstance(r, LayoutReference)
    assert (r.path, r.tag, r.digest) == ("build/layout", "v1", None)
    r2 = parse_reference("oci:/tmp/x@sha256:" + HEX)
    assert isinstance(r2, LayoutReference) and r2.path == "/tmp/x" and r2.ref == "sha256:" + HEX
    r3 = parse_reference("oci:dir")
    assert isinstance(r3, LayoutReference) and r3.ref is None
    assert str(r) == "oci:build/layout:v1"


def test_loopback() -> None:
    assert is_loopback_registry("127.0.0.1:5000")
    assert is_loopback_registry("localhost")
    assert not is_loopback_registry("ghcr.io")
    assert not is_loopback_registry("127.0.0.1.evil.com:80")
