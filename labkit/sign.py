"""Signing blobs into Sigstore bundles (what ``cosign sign-blob --bundle`` does with a key).

`sign_blob` hashes the artifact in constant memory and writes a bundle v0.3
(protobuf-specs ``sigstore_bundle.proto``) with public-key verification
material and a ``messageSignature`` carrying the digest:

- ECDSA and RSA sign the streamed digest (prehashed), so a multi-GB file
  never sits in memory.
- Ed25519 (RFC 8032, pure) must sign the message itself; the file is
  memory-mapped, so the OS pages it in and out instead of Python holding it.

With ``tlog=`` the signature is also uploaded to a transparency log and the
returned entry goes into ``verificationMaterial.tlogEntries``; without it the
bundle has no log entry, as ``cosign sign-blob --tlog-upload=false``.
Verification is `labkit.verify.verify_bundle(bundle, artifact, key=...)`.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from labkit._internal.fsutil import open_for_reading
from labkit.bundle import (
    BUNDLE_V03_MEDIA_TYPE,
    Bundle,
    MessageSignature,
    TransparencyLogEntry,
    VerificationMaterial,
    public_key_hint,
)
from labkit.errors import InputError, KeyFileError
from labkit.hashing import CHUNK_SIZE, digest_file, new_hash, proto_name
from labkit.keys import KeyAlgorithm, VerifyingKey
from labkit.lab import Clock
from labkit.signers.base import Signer
from labkit.signers.filekey import local_signing_key
from labkit.timestamping import Timestamper, add_timestamps

__all__ = ["LogUploader", "SignedArtifact", "open_artifact", "public_key_hint", "sign_blob"]


@dataclass(frozen=True)
class Artifact:
    """An artifact to sign: in memory (`data`) or on disk (`path`), with its digest."""

    digest: bytes
    hash_name: str
    size: int
    data: bytes | None = None
    path: Path | None = None


@dataclass(frozen=True)
class SignedArtifact:
    """What a transparency-log uploader needs: digest, signature and the verifying key."""

    digest: bytes
    hash_name: str
    signature: bytes
    verifying_key: VerifyingKey
    clock: Clock | None = None


#: A transparency-log upload hook: takes the signed artifact, returns the bundle's log entry.
LogUploader = Callable[[SignedArtifact], TransparencyLogEntry]


def _hash_name_for(key_algorithm: KeyAlgorithm) -> str:
    return key_algorithm.hash_name


def open_artifact(
    data_or_path: bytes | bytearray | memoryview | str | os.PathLike[str], hash_name: str = "sha256"
) -> Artifact:
    """Digest bytes, or a file path in constant memory (`InputError` if it cannot be read)."""
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        data = bytes(data_or_path)
        h = new_hash(hash_name)
        h.update(data)
        return Artifact(h.digest(), hash_name, len(data), data=data)
    if not isinstance(data_or_path, (str, os.PathLike)):
        raise InputError(f"cannot sign a {type(data_or_path).__name__}; pass bytes or a file path")
    fd = digest_file(data_or_path, hash_name)
    return Artifact(fd.digest, fd.algorithm, fd.size, path=Path(data_or_path))


@contextlib.contextmanager
def _message(artifact: Artifact) -> Iterator[bytes | mmap.mmap]:
    """The whole message for Ed25519: the bytes, or a read-only memory map of the file."""
    if artifact.data is not None:
        yield artifact.data
        return
    assert artifact.path is not None
    fh = open_for_reading(artifact.path)
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield b""  # an empty file cannot be mapped
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped


def _sign(artifact: Artifact, key: Signer) -> bytes:
    if key.algorithm is KeyAlgorithm.ED25519:
        with _message(artifact) as message:
            return local_signing_key(key).key.sign(message)  # type: ignore[call-arg,arg-type]
    return key.sign_digest(artifact.digest, artifact.hash_name)


def signed_artifact(
    data_or_path: bytes | str | os.PathLike[str], key: Signer, *, clock: Clock | None = None
) -> tuple[Artifact, SignedArtifact]:
    """Hash and sign without building a bundle (for callers that need the raw pieces)."""
    if not isinstance(key, Signer):
        raise KeyFileError(f"sign_blob needs a labkit Signer (a key, a token or KMS key), not {type(key).__name__}")
    hash_name = _hash_name_for(key.algorithm)
    if key.algorithm is KeyAlgorithm.ED25519 and isinstance(data_or_path, (str, os.PathLike)):
        # Digest and signature come from the same mapping, so a file changing meanwhile cannot split them.
        path = Path(data_or_path)
        with _message(Artifact(b"", hash_name, 0, path=path)) as message:
            h = new_hash(hash_name)
            view = memoryview(message)
            for off in range(0, len(view), CHUNK_SIZE):
                h.update(view[off : off + CHUNK_SIZE])
            size = len(view)
            view.release()
            signature = local_signing_key(key).key.sign(message)  # type: ignore[call-arg,arg-type]
        artifact = Artifact(h.digest(), hash_name, size, path=path)
    else:
        artifact = open_artifact(data_or_path, hash_name)
        signature = _sign(artifact, key)
    return artifact, SignedArtifact(artifact.digest, artifact.hash_name, signature, key.public_key(), clock)


def sign_blob(
    data_or_path: bytes | str | os.PathLike[str],
    key: Signer,
    *,
    tlog: LogUploader | None = None,
    clock: Clock | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> Bundle:
    """Sign an artifact (bytes or a file path) into a Sigstore bundle v0.3.

    The bundle carries ``publicKey.hint`` (not the key: the verifier brings
    its own) and ``messageSignature {messageDigest, signature}``. With `tlog`
    the signature is uploaded and the returned entry is included; each of
    `timestampers` adds an RFC 3161 timestamp over the signature.
    """
    artifact, signed = signed_artifact(data_or_path, key, clock=clock)
    entries: list[TransparencyLogEntry] = []
    if tlog is not None:
        entries.append(tlog(signed))
    material = VerificationMaterial(public_key_hint=public_key_hint(signed.verifying_key), tlog_entries=entries)
    content = MessageSignature(
        digest=artifact.digest, signature=signed.signature, algorithm=proto_name(artifact.hash_name)
    )
    return add_timestamps(Bundle(BUNDLE_V03_MEDIA_TYPE, material, content), timestampers)
