"""One resolver from ``--key`` to a signer or a verifying key: a key file, a ``pkcs11:`` URI or a KMS URI.

Every signing command resolves its ``--key`` with `signer_for`, every
verify command with `verifying_key_for`, and ``generate-key-pair --kms``
with `create_in_home`. A URI never falls back to a file: a scheme labkit
has no stand-in for is refused, naming the service it needs.
"""

from __future__ import annotations

from labkit._internal.fsutil import read_bytes
from labkit.errors import KeyFileError
from labkit.keyfile import COSIGN_PEM_TYPE, SIGSTORE_PEM_TYPE, load_private_key
from labkit.keys import KeyAlgorithm, VerifyingKey, load_public_key
from labkit.signers import awskms, pkcs11
from labkit.signers.awskms import AwsKmsSigner
from labkit.signers.base import KeyURIError, LocatedSigner
from labkit.signers.filekey import FileKeySigner
from labkit.signers.pkcs11 import Pkcs11Signer
from labkit.signers.uri import AwsKmsURI, Pkcs11URI, UnsupportedKmsURI, is_key_uri, parse_key_uri

__all__ = ["create_in_home", "signer_for", "verifying_key_for"]


def _refuse(uri: UnsupportedKmsURI) -> KeyURIError:
    return KeyURIError(f"{uri.scheme}:// keys live in {uri.service}; labkit has no local stand-in for it",
                       uri=uri.text, part="scheme",
                       hint="Use a key file, a pkcs11: URI (SoftHSM) or awskms://127.0.0.1:PORT/alias/NAME "
                       "(the lab's local AWS KMS stand-in).")


def _parse(ref: str) -> Pkcs11URI | AwsKmsURI:
    uri = parse_key_uri(ref)
    if isinstance(uri, UnsupportedKmsURI):
        raise _refuse(uri)
    return uri


def _missing(extra_module: str, exc: ImportError) -> KeyFileError:
    return KeyFileError(f"{extra_module} is not installed ({exc.name})",
                        hint="Install labkit's 'keys' extra: pip install 'labkit[keys]'.")


def signer_for(ref: str, *, password: str | bytes | None = None) -> LocatedSigner:
    """The signer for ``--key REF``: a cosign key file (password as `load_private_key`), or a token/KMS key."""
    if not is_key_uri(ref):
        return FileKeySigner(load_private_key(ref, password), ref)
    uri = _parse(ref)
    # The token and KMS clients are optional dependencies, imported only when such a URI is used.
    try:
        if isinstance(uri, Pkcs11URI):
            return Pkcs11Signer.open(uri)

        return AwsKmsSigner.open(uri)
    except ImportError as exc:
        raise _missing("the PKCS#11 / KMS client", exc) from None


def verifying_key_for(ref: str) -> VerifyingKey:
    """The public key for ``--key REF`` on a verify command: a PEM public key, a key file's, or a token/KMS key's."""
    if not is_key_uri(ref):
        data = read_bytes(ref, "key")
        if SIGSTORE_PEM_TYPE.encode() in data or COSIGN_PEM_TYPE.encode() in data:
            return load_private_key(ref).public_key()
        return load_public_key(data)
    uri = _parse(ref)
    try:
        if isinstance(uri, Pkcs11URI):
            return pkcs11.read_public_key(uri)

        return awskms.read_public_key(uri)
    except ImportError as exc:
        raise _missing("the PKCS#11 / KMS client", exc) from None


def create_in_home(ref: str, algorithm: str | KeyAlgorithm) -> VerifyingKey:
    """Create a key where it lives (a token, a KMS) and return only its public key (``generate-key-pair --kms``)."""
    if not is_key_uri(ref):
        raise KeyFileError(f"--kms needs a key URI (pkcs11:… or awskms://…), not {ref!r}")
    uri = _parse(ref)
    try:
        if isinstance(uri, Pkcs11URI):
            return pkcs11.generate_on_token(uri, algorithm)

        return awskms.create_key(uri, algorithm)
    except ImportError as exc:
        raise _missing("the PKCS#11 / KMS client", exc) from None
