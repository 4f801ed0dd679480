"""How the attack lab asks labkit's own verifier: adapters from sandbox artifacts to `labkit.verify`.

A legacy cosign signature (`.sig` layer or legacy verify-blob bundle file) is
what protobuf-specs calls a v0.1 bundle: a message signature over the payload
plus a log entry with its inclusion promise (SET). `legacy_to_bundle` builds
it with the product's adapter (`labkit.verify.legacy`), so the forgery goes
through the same verifier (and the same binding step) as every other bundle.

The image-level fixes (docker-reference check, no fallback from bundles to
``.sig``) are product options of `labkit.verify.image.verify_image`;
`check_docker_reference` and `require_bundle_format` only name them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from labkit.attacks.sandbox import LabkitLog, SandboxLog
from labkit.attacks.vulnerable import LegacySignature
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, MessageSignature, VerificationMaterial
from labkit.errors import AttackError, VerificationError
from labkit.keys import VerifyingKey
from labkit.lab import Clock
from labkit.oci.signatures import Store
from labkit.tlog.entries import LogEntry
from labkit.verify.image import ImageSignatureReport, verify_image
from labkit.verify.legacy import LegacyFormatError, legacy_bundle, rekor_bundle_entry
from labkit.verify.policy import IdentityPolicy
from labkit.verify.trustroot import TrustedRoot
from labkit.verify.verifier import explain_bundle

if TYPE_CHECKING:
    from labkit.verify.steps import VerificationResult

__all__ = ["pull_verified", "explain_legacy"]


def legacy_to_bundle(sig: LegacySignature, key: VerifyingKey | None = None) -> Bundle:
    """The v0.1 Sigstore bundle equivalent of a legacy cosign signature (`labkit.verify.legacy`, as the product)."""
    try:
        entry = None if sig.rekor_bundle is None else rekor_bundle_entry(sig.rekor_bundle)
    except LegacyFormatError as exc:
        raise AttackError(f"rekor bundle in the scenario is malformed: {exc.message}") from None
    certificates = []
    if sig.certificate_pem is not None:
        certificates.append(x509.load_pem_x509_certificate(sig.certificate_pem).public_bytes(Encoding.DER))
    return legacy_bundle(sig.payload, sig.signature, entry, certificates=certificates, key=key)


def sandbox_trusted_root(log: SandboxLog | LabkitLog) -> TrustedRoot:
    """A `TrustedRoot` trusting the sandbox log (`TrustedRoot.for_log`)."""
    return TrustedRoot.for_log(f"https://{log.origin}", log.public_key, log_id=log.log_id)


def explain_legacy(
    sig: LegacySignature, *, key: VerifyingKey | None, log: SandboxLog | LabkitLog,
    policy: IdentityPolicy | None = None, clock: Clock | None = None, signed_timestamps: int = 0,
) -> VerificationResult:
    """labkit's step-by-step verdict (`VerificationResult`) on a legacy signature; never raises on bad input.

    `policy`, `clock` and `signed_timestamps` are passed on to `explain_bundle`.
    """
    return explain_bundle(legacy_to_bundle(sig, key), sig.payload, trusted_root=sandbox_trusted_root(log),
                          key=key, policy=policy, clock=clock, signed_timestamps=signed_timestamps)


def verify_legacy(
    sig: LegacySignature, *, key: VerifyingKey | None, log: SandboxLog | LabkitLog,
    policy: IdentityPolicy | None = None, clock: Clock | None = None, signed_timestamps: int = 0,
) -> None:
    """labkit's verifier on a legacy signature: raises `VerificationError` naming the failed step."""
    explain_legacy(sig, key=key, log=log, policy=policy, clock=clock,
                   signed_timestamps=signed_timestamps).raise_for_failure()


def blob_bundle(blob: bytes, signature: bytes, key: VerifyingKey, entry: LogEntry) -> Bundle:
    """A v0.3 bundle for a key-signed blob whose signature was logged as `entry`."""
    material = VerificationMaterial(
        public_key_hint=base64.b64encode(key.key_id()).decode(), certificate=None, certificate_chain=None,
        tlog_entries=[entry.to_bundle_entry()], rfc3161_timestamps=[],
    )
    return Bundle(BUNDLE_V03_MEDIA_TYPE, material, MessageSignature(hashlib.sha256(blob).digest(), signature))


def pull_verified(
    resolve: Callable[[], str],
    verify: Callable[[str], object],
    pull: Callable[[str], tuple[str, bytes]],
    window: Callable[[], object],
) -> tuple[str, bytes]:
    """Resolve the tag once, verify that digest, pull *that digest* (the fix for verify-then-pull TOCTOU).

    The pulled manifest must hash to the verified digest (the store re-hashes
    every manifest and blob it reads).
    """
    digest = resolve()
    verify(digest)
    window()
    got, content = pull(digest)
    if got != digest:
        raise VerificationError("pulled manifest is not the verified digest", step="image.pull",
                                reason="image.digest_pinned", details={"expected": digest, "actual": got})
    return got, content


def check_docker_reference(store: Store, digest: str, key: VerifyingKey, expected: str) -> ImageSignatureReport:
    """The product's fix for cross-repository replay: `labkit.verify.image.verify_image` with `docker_reference`.

    cosign ignores ``critical.identity.docker-reference`` (SIGNATURE_SPEC: "is
    ignored"); labkit checks it when asked (``labkit verify
    --check-docker-reference``) and refuses with ``payload.docker_reference``.
    The cost: a mirror verifies only when `expected` names the signed repository.
    """
    return verify_image(store, digest, key, docker_reference=expected)


def require_bundle_format(store: Store, digest: str, key: VerifyingKey) -> ImageSignatureReport:
    """The product's fix for the downgrade: `verify_image` with ``require_bundle_format=True``.

    Only Sigstore bundle referrers count; an empty referrers list fails with
    ``format.no_bundle`` and the legacy ``.sig`` is never read
    (``labkit verify --require-bundle-format``).
    """
    return verify_image(store, digest, key, require_bundle_format=True)
