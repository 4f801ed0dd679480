"""Glob semantics as policy-controller and Kyverno document them."""

from __future__ import annotations

import pytest

from labkit.errors import PolicyError, ReferenceError_
from labkit.policy.glob import kyverno_match, normalize_image, sigstore_glob_match

DIGEST = "sha256:" + "a" * 64

SIGSTORE_CASES = [
    # glob, image, expected
    ("ghcr.io/org/*", "ghcr.io/org/app:v1", True),
    ("ghcr.io/org/*", "ghcr.io/org/app", True),  # :latest is implied, ':' is not a separator
    ("ghcr.io/org/*", "ghcr.io/org/team/app:v1", False),  # '*' stops at '/'
    ("ghcr.io/org/**", "ghcr.io/org/team/app:v1", True),
    ("ghcr.io/org/**", "ghcr.io/other/app:v1", False),
    ("ghcr.io/org/**", "ghcr.io/organisation/app:v1", False),
    ("ghcr.io/org/app", "ghcr.io/org/app:v1", False),  # no tag wildcard: exact name only
    ("ghcr.io/org/app:**", "ghcr.io/org/app:v1", True),
    ("ghcr.io/org/app:**", f"ghcr.io/org/app@{DIGEST}", False),
    ("ghcr.io/org/app@**", f"ghcr.io/org/app@{DIGEST}", True),
    ("*", "busybox", True),  # '*' means index.docker.io/library/*
    ("*", "ghcr.io/busybox", False),
    ("*/*", "myuser/myapp", True),
    ("index.docker.io/library/*", "docker.io/library/busybox:1.36", True),
    ("index.docker.io/myuser/*", "myuser/app", True),
    ("registry.lab:5000/**", "registry.lab:5000/demo/app:v1", True),
    ("registry.lab:5000/**", "registry.lab:5001/demo/app:v1", False),
    ("ghcr.io/org/app*", "ghcr.io/org/app-evil:v1", True),
    ("ghcr.io/org/app.*", "ghcr.io/org/appx:v1", False),  # '.' is literal
]


@pytest.mark.parametrize(("glob", "image", "expected"), SIGSTORE_CASES)
def test_sigstore_glob(glob: str, image: str, expected: bool) -> None:
    assert sigstore_glob_match(glob, image) is expected


@pytest.mark.parametrize(
    ("pattern", "image", "expected"),
    [
        ("ghcr.io/org/*", "ghcr.io/org/team/app:v1", True),  # Kyverno '*' crosses '/'
        ("ghcr.io/org/app:v?", "ghcr.io/org/app:v1", True),
        ("ghcr.io/org/app:v?", "ghcr.io/org/app:v10", False),
        ("docker.io/library/nginx*", "nginx", True),
        ("ghcr.io/org/*", "ghcr.io/other/app", False),
    ],
)
def test_kyverno_match(pattern: str, image: str, expected: bool) -> None:
    assert kyverno_match(pattern, image) is expected


def test_normalize() -> None:
    assert normalize_image("busybox").name() == "index.docker.io/library/busybox:latest"
    assert normalize_image("localhost/app").name() == "localhost/app:latest"
    assert normalize_image(f"ghcr.io/a/b:v1@{DIGEST}").name() == f"ghcr.io/a/b@{DIGEST}"


@pytest.mark.parametrize("bad", ["", "UPPER/case", "app@sha256:zz", "app:bad tag", " app"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(ReferenceError_):
        normalize_image(bad)


@pytest.mark.parametrize("glob", ["ghcr.io/(a|b)/*", "ghcr.io/[ab]/*", "ghcr.io/a b"])
def test_invalid_globs_refused(glob: str) -> None:
    with pytest.raises(PolicyError):
        sigstore_glob_match(glob, "ghcr.io/a/x")
