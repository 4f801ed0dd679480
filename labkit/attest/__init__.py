"""Attestations: predicate types (with a registry researchers extend) and in-toto/DSSE attestations.

- `labkit.attest.predicates`: predicate-type URIs, schemas, `register_predicate_type`,
  entry points (group ``labkit.predicate_types``).
- `labkit.attest.attest`: `attest_blob` / `attest_image` and the explain/verify pairs.
- `labkit.attest.samples`: the demo image, and the SBOM and provenance labkit generates for it.
"""

from __future__ import annotations

from labkit.attest.attest import (
    AttestationResult,
    ImageAttestation,
    Signer,
    attest_blob,
    attest_image,
    envelope_view,
    explain_blob_attestation,
    explain_image_attestation,
    image_attestations,
    key_signer,
    keyless_signer,
    make_statement,
    sign_image_bundle,
    verify_blob_attestation,
    verify_image_attestation,
)
from labkit.attest.predicates import (
    CUSTOM_URI,
    CYCLONEDX_URI,
    ENTRY_POINT_GROUP,
    SLSA_PROVENANCE_V1_URI,
    SPDX_URI,
    VULN_URI,
    PredicateType,
    get_predicate_type,
    load_entry_points,
    make_predicate,
    predicate_types,
    register_predicate_type,
    resolve_predicate_type,
    unregister_predicate_type,
)

__all__ = [
    "CUSTOM_URI",
    "CYCLONEDX_URI",
    "ENTRY_POINT_GROUP",
    "SLSA_PROVENANCE_V1_URI",
    "SPDX_URI",
    "VULN_URI",
    "AttestationResult",
    "ImageAttestation",
    "PredicateType",
    "Signer",
    "attest_blob",
    "attest_image",
    "envelope_view",
    "explain_blob_attestation",
    "explain_image_attestation",
    "get_predicate_type",
    "image_attestations",
    "key_signer",
    "keyless_signer",
    "load_entry_points",
    "make_predicate",
    "make_statement",
    "predicate_types",
    "register_predicate_type",
    "resolve_predicate_type",
    "sign_image_bundle",
    "unregister_predicate_type",
    "verify_blob_attestation",
    "verify_image_attestation",
]
