"""``--key`` for every command: a key file, a ``pkcs11:`` URI or a KMS URI, resolved by `labkit.signers`.

Sign commands call `open_signer` (it says where the key lives when it is
not in this process, and warns for a LAB key); verify commands call
`verifying_key`.
"""

from __future__ import annotations

import sys

from labkit.keys import VerifyingKey
from labkit.signers import LocatedSigner, is_key_uri
from labkit.signers.resolve import signer_for, verifying_key_for

__all__ = ["KEY_HELP", "PUBLIC_KEY_HELP", "open_signer", "verifying_key"]

KEY_HELP = ("private key: cosign.key (COSIGN_PASSWORD), pkcs11:token=T;object=O?module-path=…&pin-value=… "
            "or awskms://127.0.0.1:PORT/alias/NAME")
PUBLIC_KEY_HELP = "public key: cosign.pub, a private key file, or a pkcs11: / awskms:// key URI"


def open_signer(ref: str) -> LocatedSigner:
    """The signer for ``--key REF``; notes on standard error where its key lives (a token, a KMS) or that it is LAB."""
    signer = signer_for(ref)
    if signer.lab:
        print("WARNING: signing with a LAB key (derived from a public seed)", file=sys.stderr)
    if is_key_uri(ref):
        print(f"Signing with {signer.location}: only the digest leaves this process", file=sys.stderr)
    return signer


def verifying_key(ref: str) -> VerifyingKey:
    """The public key for ``--key REF`` on a verify command."""
    return verifying_key_for(ref)
