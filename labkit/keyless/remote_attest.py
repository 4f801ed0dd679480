"""Keyless attestations and cosign v3 image signatures through the services a signing config names.

The DSSE payload kind of `labkit.keyless.remote.sign_with_config`: an in-toto Statement v1
(`labkit.attest.make_statement`, its predicate checked against its type first) signed in a DSSE
envelope with a key the config's CA certified, timestamped by its TSAs, logged in its logs (Rekor v1
dsse 0.0.1, Rekor v2 hashedrekord 0.0.2 over SHA-256(PAE)). Images store the bundle as
`labkit.attest.attest.attest_image` does (`store_image_attestation`: an OCI 1.1 referrer and, for
legacy readers, a ``.att`` layer); a cosign v3 image signature is the ``https://sigstore.dev/cosign/sign/v1``
statement with an empty predicate, stored as a referrer only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from labkit.attest.attest import COSIGN_SIGN_PREDICATE, ImageAttestation, make_statement, store_image_attestation
from labkit.bundle import Bundle
from labkit.hashing import digest_file
from labkit.keyless.remote import DssePayload, sign_with_config
from labkit.oci.annotations import signed_statement
from labkit.oci.descriptor import Descriptor
from labkit.oci.signatures import Store
from labkit.signingconfig import SigningConfig
from labkit.timestamping import Timestamper

__all__ = ["attest_blob_with_config", "attest_image_with_config", "sign_image_with_config"]


def attest_blob_with_config(
    config: SigningConfig,
    data_or_path: bytes | str | os.PathLike[str],
    predicate_type: str,
    predicate: dict[str, Any],
    *,
    identity_token: str,
    subject_name: str | None = None,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> Bundle:
    """Keyless ``attest-blob`` through `config`: a bundle v0.3 with a DSSE in-toto statement about the blob."""
    if isinstance(data_or_path, (bytes, bytearray)):
        digest, name = hashlib.sha256(data_or_path).hexdigest(), subject_name or "blob"
    else:
        digest, name = digest_file(data_or_path, "sha256").hex, subject_name or Path(data_or_path).name
    statement = make_statement(name, digest, predicate_type, predicate)
    return sign_with_config(config, DssePayload(statement.to_json()), identity_token=identity_token, now=now,
                            timestampers=timestampers).bundle


def attest_image_with_config(
    config: SigningConfig,
    store: Store,
    image: Descriptor,
    predicate_type: str,
    predicate: dict[str, Any],
    *,
    docker_reference: str,
    identity_token: str,
    annotations: Mapping[str, str] | None = None,
    legacy_att: bool = True,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> ImageAttestation:
    """Keyless ``attest`` through `config`: sign a statement about `image` (resolved to its digest) and store it.

    `annotations` (``-a``) are signed as the statement subject's annotations.
    """
    statement = make_statement(docker_reference, image.digest.hex, predicate_type, predicate)
    signed = sign_with_config(config, DssePayload(signed_statement(statement, annotations)),
                              identity_token=identity_token, now=now, timestampers=timestampers)
    return store_image_attestation(store, image, statement, signed.bundle, certificate_pem=signed.signer.leaf_pem(),
                                   chain_pem=signed.signer.chain_pem(), rekor_bundle=signed.rekor_bundle(),
                                   legacy_att=legacy_att)


def sign_image_with_config(
    config: SigningConfig,
    store: Store,
    image: Descriptor,
    *,
    docker_reference: str,
    identity_token: str,
    annotations: Mapping[str, str] | None = None,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> ImageAttestation:
    """Keyless cosign v3 ``sign --new-bundle-format`` through `config`: the sign/v1 statement, a referrer only."""
    return attest_image_with_config(config, store, image, COSIGN_SIGN_PREDICATE, {}, docker_reference=docker_reference,
                                    identity_token=identity_token, annotations=annotations, legacy_att=False,
                                    now=now, timestampers=timestampers)
