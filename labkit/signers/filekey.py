"""The key-file signer: a `SigningKey` decrypted from a cosign key file, adapted to `LocatedSigner`."""

from __future__ import annotations

from labkit.errors import KeyFileError
from labkit.keys import KeyAlgorithm, SigningKey, VerifyingKey
from labkit.signers.base import Signer

__all__ = ["FileKeySigner", "local_signing_key"]


class FileKeySigner:
    """A private key held in memory, read from a key file (`path`); the only signer whose key is here."""

    def __init__(self, key: SigningKey, path: str) -> None:
        self.key = key
        self.path = path

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The key's algorithm."""
        return self.key.algorithm

    @property
    def lab(self) -> bool:
        """True for a key derived from a public seed."""
        return self.key.lab

    @property
    def location(self) -> str:
        """Where the key is: this process's memory, decrypted from `path`."""
        return f"key file {self.path} (decrypted into this process)"

    def public_key(self) -> VerifyingKey:
        """The matching public key."""
        return self.key.public_key()

    def sign_digest(self, digest: bytes, hash_name: str = "sha256") -> bytes:
        """Sign a pre-computed digest (not Ed25519)."""
        return self.key.sign_digest(digest, hash_name)

    def sign(self, data: bytes) -> bytes:
        """Sign `data` (Ed25519 signs the message itself)."""
        return self.key.sign(data)

    def __repr__(self) -> str:
        return f"<FileKeySigner {self.path} {self.key!r}>"


def local_signing_key(signer: Signer) -> SigningKey:
    """The in-memory key behind `signer`, for what only a local key can do (Ed25519 over a whole file)."""
    if isinstance(signer, SigningKey):
        return signer
    if isinstance(signer, FileKeySigner):
        return signer.key
    raise KeyFileError(
        f"a {signer.algorithm.value} key outside this process cannot sign a whole message",
        hint="Ed25519 signs messages, not digests: a token or KMS Ed25519 key is refused; use ECDSA or RSA there.",
    )
