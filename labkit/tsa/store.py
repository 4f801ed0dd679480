"""A TSA's key and chain on disk, the way a labkit instance keeps its CA's.

The chain (leaf first) is written as PEM. A real signing key is written as
unencrypted PKCS#8 PEM with mode 0600; a lab key is never written (it comes
back from the seed, with the label `create_tsa` used), as for the instance's
other lab keys.
"""

from __future__ import annotations

import os

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from labkit._internal.fsutil import atomic_write, read_bytes
from labkit.keys import KeyAlgorithm, SigningKey, generate
from labkit.lab import Lab
from labkit.tsa.chain import LEAF_KEY_LABEL, TSAError, TSAMaterial, check_tsa_chain

__all__ = ["load_tsa", "save_tsa"]

PathLike = str | os.PathLike[str]


def save_tsa(material: TSAMaterial, *, chain_path: PathLike, key_path: PathLike) -> None:
    """Write the chain PEM, and the signing key (0600) unless it is a lab key."""
    if not material.lab:
        pem = material.signing_key.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        atomic_write(key_path, pem, mode=0o600)
    atomic_write(chain_path, material.chain_pem())


def _leaf_algorithm(leaf: x509.Certificate) -> KeyAlgorithm:
    key = leaf.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1):
        return KeyAlgorithm.ECDSA_P384
    return KeyAlgorithm.ECDSA_P256


def load_tsa(*, chain_path: PathLike, key_path: PathLike, lab: Lab | None = None) -> TSAMaterial:
    """Read what `save_tsa` wrote (with `lab`, the key comes from its seed); `TSAError` if it does not fit."""
    try:
        chain = tuple(x509.load_pem_x509_certificates(read_bytes(chain_path, "TSA certificate chain")))
    except ValueError:
        raise TSAError(f"{chain_path} is not a PEM certificate chain") from None
    if not chain:
        raise TSAError(f"{chain_path} holds no certificate")
    key: SigningKey
    if lab is not None:
        key = generate(_leaf_algorithm(chain[0]), lab=lab, label=LEAF_KEY_LABEL)
    else:
        try:
            private = serialization.load_pem_private_key(read_bytes(key_path, "TSA signing key"), password=None)
        except (ValueError, TypeError):
            raise TSAError(f"{key_path} is not an unencrypted PEM private key") from None
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise TSAError(f"{key_path} is not an ECDSA key; a labkit TSA signs with ECDSA P-256 or P-384")
        key = SigningKey(private)
    check_tsa_chain(key, chain)
    return TSAMaterial(key, chain, None)
