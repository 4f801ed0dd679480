"""Image references: where an image lives and which one it is.

labkit understands two kinds of reference, the same spellings skopeo uses:

* **Registry**: ``[docker://]registry/repository[:tag][@sha256:<hex>]``, parsed
  with the grammar of distribution's ``reference`` package: the first path
  component is the registry when it contains ``.`` or ``:`` or is
  ``localhost``; otherwise the registry is ``docker.io`` (and a single
  component gets ``library/``). Repository components are
  ``[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*``, tags ``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``
  (distribution-spec §Pulling manifests). labkit talks only to loopback
  registries (``127.0.0.1:PORT``, ``localhost:PORT``), over plain HTTP.
* **OCI layout**: ``oci:DIR[:tag]`` or ``oci:DIR@sha256:<hex>``, as skopeo's
  ``oci:`` transport: the directory ends at the first ``:`` after ``oci:``.
  Without a tag or digest the layout must hold exactly one tagged image.

    >>> r = parse_reference("127.0.0.1:5000/labkit/demo:v1")
    >>> r.registry, r.repository, r.tag
    ('127.0.0.1:5000', 'labkit/demo', 'v1')
    >>> parse_reference("oci:build/layout:v1").tag
    'v1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from labkit.errors import DigestError, ReferenceError_
from labkit.oci.digest import Digest

__all__ = ["LayoutReference", "is_loopback_registry", "parse_reference"]

_DEFAULT_REGISTRY = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*(?::[0-9]+)?|\[[0-9a-fA-F:.]+\](?::[0-9]+)?")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def validate_tag(tag: str) -> str:
    """Return `tag` if it matches the distribution-spec tag grammar, else raise `ReferenceError_`."""
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise ReferenceError_(
            f"invalid tag {tag!r}", details={"expected": "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"}
        )
    return tag


def validate_repository(name: str) -> str:
    """Return `name` if it is a valid repository path, else raise `ReferenceError_`."""
    if not isinstance(name, str) or not _REPOSITORY.fullmatch(name) or len(name) > 255:
        raise ReferenceError_(
            f"invalid repository name {name!r}",
            details={"expected": "lower-case components [a-z0-9]+ joined by . _ __ - and /"},
        )
    return name


def is_loopback_registry(registry: str) -> bool:
    """True when `registry` (host[:port]) is on this machine."""
    host = registry.rsplit(":", 1)[0] if not registry.startswith("[") else registry.split("]")[0] + "]"
    return host in _LOOPBACK_HOSTS


@dataclass(frozen=True)
class ImageReference:
    """A reference to an image in a registry."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @property
    def name(self) -> str:
        """``registry/repository``, the identity cosign puts in its payload."""
        return f"{self.registry}/{self.repository}"

    @property
    def ref(self) -> str:
        """What to resolve: the digest when there is one, else the tag (default ``latest``)."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or "latest"

    def with_digest(self, digest: Digest) -> ImageReference:
        """The same image pinned to `digest` (tag dropped)."""
        return replace(self, tag=None, digest=digest)

    def with_tag(self, tag: str) -> ImageReference:
        """The same repository with `tag` (digest dropped)."""
        return replace(self, tag=validate_tag(tag), digest=None)

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


@dataclass(frozen=True)
class LayoutReference:
    """A reference to an image in an OCI image-layout directory (``oci:DIR:tag``)."""

    path: str
    tag: str | None = None
    digest: Digest | None = None

    @property
    def name(self) -> str:
        """``oci:DIR``."""
        return f"oci:{self.path}"

    @property
    def ref(self) -> str | None:
        """The digest, else the tag, else None (the layout's only image)."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag

    def with_digest(self, digest: Digest) -> LayoutReference:
        """The same layout pinned to `digest`."""
        return replace(self, tag=None, digest=digest)

    def with_tag(self, tag: str) -> LayoutReference:
        """The same layout with `tag`."""
        return replace(self, tag=validate_tag(tag), digest=None)

    def __str__(self) -> str:
        if self.digest is not None:
            return f"oci:{self.path}@{self.digest}"
        if self.tag is not None:
            return f"oci:{self.path}:{self.tag}"
        return f"oci:{self.path}"


Reference = ImageReference | LayoutReference


def _parse_digest(text: str, whole: str) -> Digest:
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise ReferenceError_(f"invalid digest in reference {whole!r}: {exc.message}") from None


def _parse_layout(text: str, whole: str) -> LayoutReference:
    digest = None
    tag = None
    if "@" in text:
        path, _, digest_text = text.rpartition("@")
        digest = _parse_digest(digest_text, whole)
    elif ":" in text:
        path, _, tag = text.partition(":")
        validate_tag(tag)
    else:
        path = text
    if not path:
        raise ReferenceError_(f"layout reference {whole!r} names no directory")
    return LayoutReference(path, tag, digest)


def parse_reference(text: str) -> Reference:
    """Parse an image reference (registry or ``oci:`` layout); raise `ReferenceError_` if malformed."""
    if not isinstance(text, str) or not text or text != text.strip():
        raise ReferenceError_(f"invalid image reference {text!r}")
    whole = text
    if text.startswith("oci:"):
        return _parse_layout(text[4:], whole)
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    digest = None
    if "@" in text:
        text, _, digest_text = text.partition("@")
        digest = _parse_digest(digest_text, whole)
    tag = None
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        text, _, tag = text.rpartition(":")
        try:
            validate_tag(tag)
        except ReferenceError_:
            raise ReferenceError_(f"invalid tag {tag!r} in reference {whole!r}") from None
    if not text:
        raise ReferenceError_(f"image reference {whole!r} names no repository")
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, repository = first, rest
        if not _DOMAIN.fullmatch(registry):
            raise ReferenceError_(f"invalid registry {registry!r} in reference {whole!r}")
    else:
        registry, repository = _DEFAULT_REGISTRY, text
        if "/" not in repository:
            repository = f"library/{repository}"
    if not _REPOSITORY.fullmatch(repository) or len(registry) + 1 + len(repository) > 255:
        raise ReferenceError_(
            f"invalid repository {repository!r} in reference {whole!r}",
            details={"expected": "lower-case components [a-z0-9]+ joined by . _ __ - and /"},
        )
    return ImageReference(registry, repository, tag, digest)
