"""Image-pattern matching as the admission controllers do it.

Sigstore policy-controller (``ClusterImagePolicy.spec.images[].glob``): the
image is first written in full (``busybox`` becomes
``index.docker.io/library/busybox:latest``), then matched against the glob
as a whole string, where ``*`` matches any run of characters except ``/``
and ``**`` matches any run including ``/``. A bare ``*`` means
``index.docker.io/library/*`` and ``*/*`` means ``index.docker.io/*/*``.
``:`` is not a separator, so ``ghcr.io/org/*`` matches
``ghcr.io/org/app:v1`` but not ``ghcr.io/org/team/app:v1``. If the full form
does not match, the image as written is tried too (policy-controller keeps
this for compatibility).

Kyverno (``verifyImages[].imageReferences``): ``*`` matches any run of
characters including ``/`` and ``?`` exactly one character.

    >>> sigstore_glob_match("ghcr.io/org/*", "ghcr.io/org/app:v1")
    True
    >>> sigstore_glob_match("ghcr.io/org/*", "ghcr.io/org/team/app:v1")
    False
    >>> sigstore_glob_match("index.docker.io/library/*", "busybox")
    True
"""

from __future__ import annotations

import functools
import re

from labkit.errors import PolicyError, ReferenceError_

__all__ = ["ImageName", "normalize_image"]

_DEFAULT_REGISTRY = "index.docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$|^sha384:[a-f0-9]{96}$|^sha512:[a-f0-9]{128}$")
_VALID_GLOB = re.compile(r"^[a-zA-Z0-9\-_:/*.@]+$")


class ImageName:
    """An image reference in the fully written form go-containerregistry gives it."""

    __slots__ = ("registry", "repository", "tag", "digest")

    def __init__(self, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def context(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def name(self) -> str:
        """``registry/repository@digest`` or ``registry/repository:tag`` (digest wins)."""
        if self.digest:
            return f"{self.context}@{self.digest}"
        return f"{self.context}:{self.tag or 'latest'}"

    def __repr__(self) -> str:
        return f"ImageName({self.name()!r})"


@functools.lru_cache(maxsize=65536)
def normalize_image(image: str) -> ImageName:
    """Parse `image` with Docker's defaults (``index.docker.io``, ``library/``, ``:latest``).

    Raises `ReferenceError_` for references that do not parse.
    """
    if not isinstance(image, str) or not image or image != image.strip():
        raise ReferenceError_(f"image reference {image!r} does not parse")
    rest, digest = image, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ReferenceError_(f"image reference {image!r} has a malformed digest")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _TAG_RE.match(tag):
            raise ReferenceError_(f"image reference {image!r} has a malformed tag")
    parts = rest.split("/", 1)
    if len(parts) == 2 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, repo = parts
    else:
        registry, repo = _DEFAULT_REGISTRY, rest
    if registry == "docker.io":
        registry = _DEFAULT_REGISTRY
    if registry == _DEFAULT_REGISTRY and "/" not in repo:
        repo = f"library/{repo}"
    if not _REPO_RE.match(repo):
        raise ReferenceError_(f"image reference {image!r} has a malformed repository {repo!r}")
    return ImageName(registry, repo, None if digest else (tag or "latest"), digest)


@functools.lru_cache(maxsize=4096)
def sigstore_glob_regex(glob: str) -> re.Pattern[str]:
    """The anchored regular expression policy-controller builds from `glob`.

    Raises `PolicyError` for characters a glob may not contain.
    """
    if glob == "*/*":
        glob = "index.docker.io/*/*"
    if glob == "*":
        glob = "index.docker.io/library/*"
    if not isinstance(glob, str) or not _VALID_GLOB.match(glob):
        raise PolicyError(
            f"invalid image glob {glob!r}",
            hint="A glob may contain letters, digits, '-', '_', ':', '/', '.', '@' and the wildcards * and **.",
        )
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def sigstore_glob_match(glob: str, image: str) -> bool:
    """Does `image` match a ClusterImagePolicy glob (policy-controller semantics)?"""
    rx = sigstore_glob_regex(glob)
    full = normalize_image(image).name()
    if rx.match(full):
        return True
    return full != image and rx.match(image) is not None


@functools.lru_cache(maxsize=4096)
def _kyverno_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def kyverno_match(pattern: str, image: str) -> bool:
    """Does `image` match a Kyverno ``imageReferences`` pattern (``*`` any run, ``?`` one char)?

    The image is tried as written, then fully written with ``docker.io`` (the
    form Kyverno reports) and with ``index.docker.io``.
    """
    rx = _kyverno_regex(pattern)
    if rx.match(image):
        return True
    n = normalize_image(image)
    full = n.name()
    return bool(rx.match(full) or rx.match(full.replace("index.docker.io/", "docker.io/", 1)))
