"""Attestations: predicate types (with a registry researchers extend) and in-toto/DSSE attestations.

- `labkit.attest.predicates`: predicate-type URIs, schemas, `register_predicate_type`,
  entry points (group ``labkit.predicate_types``).
- `labkit.attest.attest`: `attest_blob` / `attest_image` and the explain/verify pairs.
- `labkit.attest.samples`: the demo image, and the SBOM and provenance labkit generates for it.
"""

from __future__ import annotations

from labkit.attest.attest import (
    Signer,
    attest_blob,
    attest_image,
    envelope_view,
    explain_blob_attestation,
    explain_image_attestation,
    image_attestations,
    key_signer,
    keyless_signer,
    sign_image_bundle,
    verify_blob_attestation,
    verify_image_attestation,
)
from labkit.attest.predicates import (
    get_predicate_type,
    make_predicate,
    predicate_types,
    register_predicate_type,
    unregister_predicate_type,
)

__all__ = [
    "Signer", "attest_blob", "attest_image", "envelope_view", "explain_blob_attestation", "explain_image_attestation",
    "get_predicate_type", "image_attestations", "key_signer", "keyless_signer", "make_predicate", "predicate_types",
    "register_predicate_type", "sign_image_bundle", "unregister_predicate_type", "verify_blob_attestation",
    "verify_image_attestation",
]
