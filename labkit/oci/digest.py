"""OCI content digests: parse, compute and verify.

A digest is ``<algorithm>:<encoded>``. Before a digest is used for anything
(least of all a file path) it is matched *in full* against the descriptor
grammar (OCI image-spec v1.1 descriptor.md §Digests)::

    digest    ::= algorithm ":" encoded
    algorithm ::= [a-z0-9]+ ([+._-] [a-z0-9]+)*
    encoded   ::= [a-zA-Z0-9=_-]+

and then against the registered algorithm's own rule: sha256 is
``[a-f0-9]{64}`` and sha512 ``[a-f0-9]{128}`` ("[A-F] MUST NOT be used").
labkit accepts only algorithms it can verify. The grammar has no ``/`` and
no ``..``, which is what keeps ``blobs/<alg>/<encoded>`` inside the layout.

    >>> d = Digest.parse("sha256:" + "ab" * 32)
    >>> d.algorithm, len(d.hex)
    ('sha256', 64)
    >>> Digest.of(b"{}")
    Digest('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from labkit._internal.jsonio import JSONValue
from labkit.errors import DigestError

__all__ = ["Digest"]

_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
#: Algorithms labkit can verify, with their encoded-part rule (descriptor.md §Registered algorithms).
ALGORITHMS: dict[str, re.Pattern[str]] = {
    "sha256": re.compile(r"[a-f0-9]{64}"),
    "sha512": re.compile(r"[a-f0-9]{128}"),
}


@dataclass(frozen=True, order=True)
class Digest:
    """A validated digest; `str(d)` is the canonical ``alg:hex`` form."""

    algorithm: str
    hex: str

    #: The hint of a digest that does not parse: a malformed name, not corrupt content (DigestError's default).
    MALFORMED_HINT = ("A digest is written <algorithm>:<lower-case hex> (sha256: 64 hex digits, sha512: 128); "
                      "check where this one came from.")

    @classmethod
    def parse(cls, text: JSONValue) -> Digest:
        """Parse and validate `text`; raise `DigestError` for anything but a full match."""
        if not isinstance(text, str):
            raise DigestError(f"digest must be a string, got {type(text).__name__}", hint=cls.MALFORMED_HINT)
        # re.fullmatch, not re.match(...$): "$" would let a trailing newline through.
        if not _GRAMMAR.fullmatch(text):
            raise DigestError(
                f"not a digest: {text[:100]!r}",
                details={"expected": "<algorithm>:<encoded> (OCI descriptor grammar)"},
                hint=cls.MALFORMED_HINT,
            )
        algorithm, encoded = text.split(":", 1)
        rule = ALGORITHMS.get(algorithm)
        if rule is None:
            raise DigestError(
                f"unsupported digest algorithm {algorithm!r}",
                details={"supported": ", ".join(sorted(ALGORITHMS))},
                hint=cls.MALFORMED_HINT,
            )
        if not rule.fullmatch(encoded):
            raise DigestError(
                f"malformed {algorithm} digest {text[:100]!r}",
                details={"expected": f"{algorithm}:{rule.pattern} (lower-case hex only)"},
                hint=cls.MALFORMED_HINT,
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of `data`."""
        if algorithm not in ALGORITHMS:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}")
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @classmethod
    def of_chunks(cls, chunks: Iterable[bytes], algorithm: str = "sha256") -> Digest:
        """The digest of the concatenation of `chunks` (streamed)."""
        w = DigestWriter(algorithm)
        for chunk in chunks:
            w.update(chunk)
        return w.digest()

    def new_hash(self) -> hashlib._Hash:
        """A fresh hash object of this digest's algorithm."""
        return hashlib.new(self.algorithm)

    @property
    def tag_form(self) -> str:
        """``sha256-<hex>``: the form used in cosign and referrers-tag-schema tags."""
        return f"{self.algorithm}-{self.hex}"

    def short(self, n: int = 12) -> str:
        """``sha256:`` plus the first `n` hex characters, for display."""
        return f"{self.algorithm}:{self.hex[:n]}"

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def __repr__(self) -> str:
        return f"Digest('{self}')"


class DigestWriter:
    """Hash and count bytes as they stream past."""

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in ALGORITHMS:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._h = hashlib.new(algorithm)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        """Add `chunk`."""
        self._h.update(chunk)
        self.size += len(chunk)

    def digest(self) -> Digest:
        """The digest of everything so far."""
        return Digest(self.algorithm, self._h.hexdigest())


def verify_bytes(data: bytes, digest: Digest | str, size: int | None = None, *, what: str = "content") -> None:
    """Raise `DigestError` unless `data` has `size` (checked first) and hashes to `digest`.

    OCI image-spec descriptor.md §Verification: the size SHOULD be checked
    before the content is hashed and consumed.
    """
    d = digest if isinstance(digest, Digest) else Digest.parse(digest)
    if size is not None and len(data) != size:
        raise DigestError(
            f"{what} has {len(data)} bytes, its descriptor says {size}",
            details={"digest": str(d), "expected size": size, "actual size": len(data)},
        )
    actual = Digest.of(data, d.algorithm)
    if actual != d:
        raise DigestError(
            f"{what} does not match its digest",
            details={"expected": str(d), "actual": str(actual)},
        )
