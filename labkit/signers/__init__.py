"""Signers: where a private key lives and how labkit asks it for a signature.

- `Signer` (base): the protocol every signing path takes; `SigningKey` fits it.
- `uri`: ``pkcs11:`` and KMS URIs parsed as cosign parses them.
- `filekey`: a cosign key file's key (in memory).
- `pkcs11`: a key on a PKCS#11 token (SoftHSM in the lab), never extractable.
- `awskms` / `kmsserver`: a key in AWS KMS, reached on loopback (moto is the lab's stand-in).
- `resolve`: ``--key`` → signer / verifying key; ``--kms`` → a new key in its home
  (``from labkit.signers.resolve import signer_for``).

`resolve`, `pkcs11`, `awskms` and `kmsserver` need the ``keys`` extra (boto3, PyKCS11) and are not imported
here, so that everything that only takes a `Signer` (payloads, signing, attestations) starts without them.
"""

from labkit.signers.base import KeyURIError, LocatedSigner, Signer
from labkit.signers.filekey import FileKeySigner, local_signing_key
from labkit.signers.uri import is_key_uri, parse_key_uri

__all__ = [
    "FileKeySigner",
    "KeyURIError",
    "LocatedSigner",
    "Signer",
    "is_key_uri",
    "local_signing_key",
    "parse_key_uri",
]
