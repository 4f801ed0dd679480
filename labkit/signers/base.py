"""The signer abstraction: whatever holds a private key and signs a digest on request.

A key file's key is in memory (`labkit.keys.SigningKey` satisfies `Signer`
as it is); a PKCS#11 token's or a KMS's key never leaves its home: the
signer sends a digest and gets a signature back. Every signing path in
labkit (`sign_blob`, `sign_image`, DSSE envelopes) takes a `Signer`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from labkit.errors import KeyFileError
from labkit.hashing import new_hash
from labkit.keys import KeyAlgorithm, VerifyingKey

__all__ = ["KeyURIError", "Signer"]


@runtime_checkable
class Signer(Protocol):
    """Signs on request: the algorithm, the public key, and a signature over a digest or a message."""

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The key's algorithm (ECDSA P-256/P-384 sign SHA-256/SHA-384 digests; RSA SHA-256)."""
        ...

    @property
    def lab(self) -> bool:
        """True when the key is lab material (derived from a public seed)."""
        ...

    def public_key(self) -> VerifyingKey:
        """The key that verifies this signer's signatures."""
        ...

    def sign_digest(self, digest: bytes, hash_name: str = "sha256") -> bytes:
        """A signature over a digest computed with `hash_name`."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A signature over `data` (hashed here; only the digest leaves for a remote key)."""
        ...


@runtime_checkable
class LocatedSigner(Signer, Protocol):
    """A `Signer` that says where its key lives (a file, a token, a KMS endpoint), for outputs."""

    @property
    def location(self) -> str:
        """One line: where the private key is, e.g. ``PKCS#11 token 'lab' (…/libsofthsm2.so), object 'release'``."""
        ...


class KeyURIError(KeyFileError):
    """A key URI (``pkcs11:``, ``awskms://`` …) is malformed, or the part it names failed."""

    hint = "Check the part of the key URI named in the message."

    def __init__(self, message: str, *, uri: str, part: str, hint: str | None = None) -> None:
        super().__init__(f"{message} (key URI part: {part})", hint=hint,
                         details={"key URI": redact_uri(uri), "part at fault": part})
        self.part = part


def redact_uri(uri: str) -> str:
    """The URI with any ``pin-value`` replaced by ``***`` (errors and outputs never show a PIN)."""
    out = []
    for piece in uri.split("&"):
        head, sep, _ = piece.partition("pin-value=")
        out.append(head + sep + "***" if sep else piece)
    return "&".join(out)


def check_digest(algorithm: KeyAlgorithm, digest: bytes, hash_name: str, uri: str) -> None:
    """Refuse what a token or KMS key cannot sign: Ed25519 (no digest signing), a digest of the wrong hash or size."""
    if algorithm is KeyAlgorithm.ED25519:
        raise KeyURIError("Ed25519 signs whole messages; a token or KMS key cannot sign a digest with it",
                          uri=uri, part="key algorithm")
    if hash_name != algorithm.hash_name:
        raise KeyURIError(f"a {algorithm.value} key in its home signs {algorithm.hash_name} digests, not {hash_name}",
                          uri=uri, part="key algorithm")
    size = new_hash(hash_name).digest_size
    if len(digest) != size:
        raise KeyURIError(f"a {hash_name} digest is {size} bytes, not {len(digest)}", uri=uri, part="digest")


def sign_by_digest(signer: Signer, data: bytes) -> bytes:
    """`Signer.sign` for a remote key: hash `data` here, send only the digest."""
    h = new_hash(signer.algorithm.hash_name)
    h.update(data)
    return signer.sign_digest(h.digest(), signer.algorithm.hash_name)
