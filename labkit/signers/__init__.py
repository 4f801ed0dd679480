"""Signers: where a private key lives and how labkit asks it for a signature.

- `Signer` (base): the protocol every signing path takes; `SigningKey` fits it.
- `uri`: ``pkcs11:`` and KMS URIs parsed as cosign parses them.
- `filekey`: a cosign key file's key (in memory).
- `pkcs11`: a key on a PKCS#11 token (SoftHSM in the lab), never extractable.
- `awskms` / `kmsserver`: a key in AWS KMS, reached on loopback (moto is the lab's stand-in).
- `resolve`: ``--key`` → signer / verifying key; ``--kms`` → a new key in its home.

`pkcs11`, `awskms` and `kmsserver` need the ``keys`` extra and are not imported here.
"""

from labkit.signers.base import KeyURIError, LocatedSigner, Signer
from labkit.signers.filekey import FileKeySigner, local_signing_key
from labkit.signers.resolve import create_in_home, signer_for, verifying_key_for
from labkit.signers.uri import is_key_uri, parse_key_uri

__all__ = [
    "FileKeySigner",
    "KeyURIError",
    "LocatedSigner",
    "Signer",
    "create_in_home",
    "is_key_uri",
    "local_signing_key",
    "parse_key_uri",
    "signer_for",
    "verifying_key_for",
]
