"""Keyless signing: ephemeral key, identity token, certificate, log entry, bundle.

`sign_keyless` runs the whole flow against a lab `Instance` and returns every
piece (token, certificate, log entry, bundle, time per stage);
`sign_blob_keyless` returns just the Sigstore bundle v0.3 (leaf certificate,
hashedrekord entry with inclusion proof, checkpoint and SET), which
sigstore-python verifies offline against the instance's trusted root.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, MessageSignature, TransparencyLogEntry, VerificationMaterial
from labkit.errors import KeylessError
from labkit.hashing import proto_name
from labkit.keyless.ca import CertificateRequest, IssuedCertificate
from labkit.keyless.oidc import IdentityToken, decode_unverified
from labkit.keys import SigningKey, generate
from labkit.oci.signatures import attach_signature, make_signature_layer
from labkit.payloads import simple_signing_payload
from labkit.sign import open_artifact
from labkit.timestamping import Timestamper, add_timestamps
from labkit.tlog.entries import hashedrekord_body
from labkit.tlog.rekor2 import hashedrekord_request

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance
    from labkit.oci.descriptor import Descriptor
    from labkit.oci.signatures import Store
    from labkit.tlog.entries import LogEntry

__all__ = ["bundle_from_parts", "sign_blob_keyless", "sign_image_keyless", "sign_keyless"]


@dataclass(frozen=True)
class KeylessSignature:
    """Everything one keyless signing produced.

    For images, the OCI side stores `signature` with `certificate.pem()`,
    `certificate.chain_pem()` and `log_entry.rekor_bundle()` (cosign's
    ``dev.sigstore.cosign/certificate``, ``.../chain`` and ``.../bundle`` annotations).
    """

    bundle: Bundle
    token: IdentityToken
    certificate: IssuedCertificate
    log_entry: LogEntry | None  # None from a timestamp-only instance
    digest: bytes
    signature: bytes
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def _ephemeral_key(instance: Instance) -> SigningKey:
    if instance.lab is None:
        return generate("ecdsa-p256")
    # A fresh, reproducible key per signing: the label advances with each call.
    # The log size is part of the label so a reopened instance never reuses a key.
    label = f"keyless/ephemeral/{instance.tlog.size}/" + instance.lab.random_bytes("keyless/ephemeral", 8).hex()
    return generate("ecdsa-p256", lab=instance.lab, label=label)


def sign_keyless(
    instance: Instance,
    data_or_path: bytes | str | os.PathLike[str],
    *,
    identity: str | None = None,
    identity_token: str | None = None,
    claims: Mapping[str, Any] | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> KeylessSignature:
    """Sign bytes or a file keyless and log it; raises a `KeylessError` if any stage refuses.

    Give an `identity` (email or URI, optionally extra token `claims`) to have
    the instance's issuer mint a token, or an `identity_token` minted elsewhere.
    Each of `timestampers` (`labkit.timestamping.timestampers_for`) adds an RFC 3161
    timestamp over the signature (stage ``timestamp``).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # Hash first: an unreadable artifact fails before any token, certificate or log entry exists.
    artifact = open_artifact(data_or_path, "sha256")
    t1 = time.perf_counter()
    timings["hash"] = t1 - t0
    if identity_token is None:
        if identity is None and not claims:
            raise KeylessError("keyless signing needs an identity (or an identity token)")
        identity_token = instance.issuer.mint(identity, claims=claims)
    token = decode_unverified(identity_token)
    t2 = time.perf_counter()
    timings["token"] = t2 - t1
    key = _ephemeral_key(instance)
    t2k = time.perf_counter()
    timings["key"] = t2k - t2
    issued = instance.ca.issue(identity_token, CertificateRequest.create(key, identity_token))
    t3 = time.perf_counter()
    timings["certificate"] = t3 - t2k
    # ECDSA P-256 over the SHA-256 digest (prehashed), as cosign signs blobs.
    signature = key.sign_digest(artifact.digest, artifact.hash_name)
    t4 = time.perf_counter()
    timings["sign"] = t4 - t3
    if (instance.timestamp_only or instance.rekor_api == 2) and not timestampers:
        timestampers = instance.timestampers()  # no SET: a timestamp is the only source of time
    # Timestamp before logging, as sigstore-python does: the TSA vouches for the signature's time.
    stamped = add_timestamps(bundle_from_parts(issued.der(), artifact.digest, signature, None), timestampers)
    t4t = time.perf_counter()
    if timestampers:
        timings["timestamp"] = t4t - t4
    t4 = t4t
    entry: LogEntry | None = None
    logged: LogEntry | TransparencyLogEntry | None = None
    if instance.rekor_api == 2 and not instance.timestamp_only:
        # Rekor v2: hashedrekord 0.0.2 over the digest, verified by the leaf certificate; no SET.
        logged = instance.log_rekor2(hashedrekord_request(artifact.digest, signature, key.public_key(),
                                                          certificate_der=issued.der()))
    elif not instance.timestamp_only:
        logged = entry = _log(instance, issued, artifact.digest, artifact.hash_name, signature)
    t5 = time.perf_counter()
    if logged is not None:
        timings["log"] = t5 - t4
    bundle = bundle_from_parts(issued.der(), artifact.digest, signature, logged,
                               stamped.verification_material.rfc3161_timestamps)
    timings["bundle"] = time.perf_counter() - t5
    return KeylessSignature(bundle, token, issued, entry, artifact.digest, signature, timings)


def _log(instance: Instance, issued: IssuedCertificate, digest: bytes, hash_name: str, signature: bytes) -> LogEntry:
    """Log a hashedrekord entry; refuse one integrated outside the certificate's validity."""
    # Rekor hashedrekord v0.0.1: publicKey.content is the PEM leaf certificate.
    entry = instance.log_append(hashedrekord_body(signature, issued.pem(), digest, algorithm=hash_name))
    cert = issued.certificate
    logged = entry.integrated_time
    if not cert.not_valid_before_utc.timestamp() <= logged <= cert.not_valid_after_utc.timestamp():
        raise KeylessError(
            "the log integrated the entry outside the certificate's validity window",
            details={"integrated time": logged, "not before": cert.not_valid_before_utc.isoformat(),
                     "not after": cert.not_valid_after_utc.isoformat()},
        )
    return entry


def bundle_from_parts(certificate_der: bytes, digest: bytes, signature: bytes,
                      entry: LogEntry | TransparencyLogEntry | None, timestamps: Sequence[bytes] = ()) -> Bundle:
    """Assemble a bundle v0.3 (leaf certificate, a log entry or none, SHA-256 message signature, timestamps);
    checks nothing."""
    tle = entry if isinstance(entry, TransparencyLogEntry) or entry is None else entry.to_bundle_entry()
    material = VerificationMaterial(certificate=certificate_der, tlog_entries=[tle] if tle is not None else [],
                                    rfc3161_timestamps=list(timestamps))
    content = MessageSignature(digest=digest, signature=signature, algorithm=proto_name("sha256"))
    return Bundle(BUNDLE_V03_MEDIA_TYPE, material, content)


def sign_blob_keyless(
    instance: Instance,
    path: bytes | str | os.PathLike[str],
    *,
    identity: str | None = None,
    identity_token: str | None = None,
    claims: Mapping[str, Any] | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> Bundle:
    """Keyless ``sign-blob``: the Sigstore bundle v0.3 for the file (or bytes) at `path`."""
    return sign_keyless(instance, path, identity=identity, identity_token=identity_token, claims=claims,
                        timestampers=timestampers).bundle


@dataclass(frozen=True)
class KeylessImageSignature:
    """A keyless image signature: the signing result, the stored layer and the ``.sig`` manifest."""

    keyless: KeylessSignature
    payload: bytes
    layer: Descriptor
    signature_manifest: Descriptor


def sign_image_keyless(
    instance: Instance,
    store: Store,
    image: Descriptor,
    *,
    docker_reference: str,
    identity: str | None = None,
    identity_token: str | None = None,
    claims: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> KeylessImageSignature:
    """Keyless ``cosign sign``: sign the simple-signing payload for `image` and store it cosign's way.

    The ``.sig`` layer carries the signature, the leaf certificate and chain
    (PEM) and the log entry as cosign's ``dev.sigstore.cosign/bundle``.
    """
    payload = simple_signing_payload(docker_reference, str(image.digest), dict(annotations) if annotations else None)
    result = sign_keyless(instance, payload, identity=identity, identity_token=identity_token, claims=claims)
    layer = make_signature_layer(
        payload, result.signature, certificate=result.certificate.pem(), chain=result.certificate.chain_pem(),
        rekor_bundle=result.log_entry.rekor_bundle() if result.log_entry is not None else None,
    )
    manifest = attach_signature(store, image.digest, layer, payload)
    return KeylessImageSignature(result, payload, layer, manifest)
