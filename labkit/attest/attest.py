"""Attest and verify attestations: in-toto Statement v1 in DSSE, logged, stored, checked by type.

What ``cosign attest`` / ``attest-blob`` produce, key-based or keyless:

1. an in-toto Statement v1 (in-toto attestation framework) whose subject is
   the image manifest digest (or the blob's SHA-256) and whose predicate is
   checked against its registered type before anything is signed;
2. a DSSE envelope over it (payload type ``application/vnd.in-toto+json``,
   signature over PAE);
3. a Rekor ``dsse`` v0.0.1 entry in the lab instance's log;
4. a Sigstore bundle v0.3 holding the envelope and the log entry. For images it
   is stored as an OCI 1.1 referrer (annotation
   ``dev.sigstore.bundle.predicateType``) and, for legacy readers, as a layer of
   ``sha256-<hex>.att`` (media type ``application/vnd.dsse.envelope.v1+json``).

Verification asks for a type. It is never satisfied by an attestation of
another type, nor by the absence of one (GHSA-vjxv-45g9-9296), and the
predicate must parse as that type (GHSA-w6c6-c85g-mmv6). Images are verified
from their bundle referrers only: the ``.att`` copy is not trusted (no
downgrade to the legacy format when the referrers list is empty).

`explain_*` returns an `AttestationResult` with ordered steps and never
raises on bad input; `verify_*` raises `VerificationError` naming the step.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Union

from labkit._internal.jsonio import JSONValue
from labkit.attest.predicates import PredicateType, make_predicate, resolve_predicate_type
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, VerificationMaterial, public_key_hint
from labkit.checks import CheckResult, Recorder, Step, StepStatus, StepTable, Stop
from labkit.errors import AttestationError, KeylessError, LabkitError, VerificationError
from labkit.hashing import digest_file
from labkit.keyless.ca import CertificateRequest
from labkit.keys import VerifyingKey, generate, load_public_key
from labkit.oci.annotations import check_annotations, signed_statement, statement_annotations
from labkit.oci.signatures import attach_bundle, attach_signature, list_bundles, make_signature_layer
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Envelope, Statement, Subject, sign_envelope
from labkit.signers.base import Signer as KeySigner
from labkit.timestamping import Timestamper, add_timestamps
from labkit.tlog.entries import dsse_body
from labkit.tlog.rekor2 import dsse_request
from labkit.verify.verifier import explain_bundle

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance
    from labkit.lab import Clock
    from labkit.oci.descriptor import Descriptor
    from labkit.oci.signatures import Store
    from labkit.verify.policy import IdentityPolicy
    from labkit.verify.trustroot import TrustedRoot

__all__ = [
    "Signer", "attest_image", "sign_image_bundle", "store_image_attestation", "image_attestations", "keyless_signer",
    "verify_image_attestation",
]

#: Media type of an attestation layer in ``sha256-<hex>.att`` (cosign ``pkg/types``).
DSSE_LAYER_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
#: Layer annotation cosign puts on ``.att`` layers naming the predicate type.
ANN_PREDICATE_TYPE = "predicateType"

#: Predicate type of a cosign v3 image signature.
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

PredicateInput = dict[str, Any] | bytes


@dataclass(frozen=True)
class Signer:
    """A signing key and, for keyless, the certificate the lab CA issued for it."""

    key: KeySigner
    certificate_pem: bytes | None = None
    chain_pem: bytes | None = None
    certificate_der: bytes | None = None

    def verifier_pem(self) -> bytes:
        """What the log records as the verifier: the certificate, or the public key."""
        return self.certificate_pem or self.key.public_key().pem()


def key_signer(key: KeySigner) -> Signer:
    """A key-based signer (``--key``)."""
    return Signer(key)


def keyless_signer(instance: Instance, *, identity: str | None = None, identity_token: str | None = None) -> Signer:
    """A keyless signer: an ephemeral key certified by the instance's CA for `identity`."""
    if identity_token is None:
        if not identity:
            raise KeylessError("keyless attestation needs an identity (or an identity token)")
        identity_token = instance.issuer.mint(identity)
    if instance.lab is not None:
        label = "attest/ephemeral/" + instance.lab.random_bytes("attest/ephemeral", 8).hex()
        key = generate("ecdsa-p256", lab=instance.lab, label=label)
    else:
        key = generate("ecdsa-p256")
    issued = instance.ca.issue(identity_token, CertificateRequest.create(key, identity_token))
    return Signer(key, issued.pem(), issued.chain_pem(), issued.der())


def make_statement(subject_name: str, sha256_hex: str, predicate_type: str | PredicateType,
                   predicate: JSONValue) -> Statement:
    """An in-toto Statement v1 about one subject; the predicate is checked against its type first."""
    ptype = predicate_type if isinstance(predicate_type, PredicateType) else resolve_predicate_type(predicate_type)
    if not isinstance(predicate, dict):
        raise AttestationError(f"a {ptype.name} predicate must be a JSON object")
    ptype.check(predicate)
    return Statement([Subject(subject_name, {"sha256": sha256_hex})], ptype.uri, dict(predicate))


def _predicate(predicate_type: str, predicate: PredicateInput, instance: Instance | None) -> dict[str, Any]:
    if isinstance(predicate, (bytes, bytearray)):
        clock = instance.clock if instance is not None else None
        return make_predicate(predicate_type, bytes(predicate), clock=clock)
    if not isinstance(predicate, dict):
        raise AttestationError("the predicate must be a JSON object (dict) or the bytes of a predicate file")
    return predicate


def _sign_and_log(statement: Statement, signer: Signer, instance: Instance | None,
                  annotations: Mapping[str, str] | None = None,
                  timestampers: Sequence[Timestamper] = ()) -> tuple[Envelope, Bundle, Any]:
    envelope = sign_envelope(signed_statement(statement, annotations), INTOTO_PAYLOAD_TYPE, signer.key)
    if instance is not None and (instance.timestamp_only or instance.rekor_api == 2):
        timestampers = timestampers or instance.timestampers()  # no SET: a timestamp is the only source of time
    stamps = add_timestamps(Bundle(BUNDLE_V03_MEDIA_TYPE, VerificationMaterial(), envelope), timestampers)
    entries = []
    entry = None
    if instance is not None and instance.timestamp_only:
        pass  # nothing is logged: the timestamp is the only source of time
    elif instance is not None and instance.rekor_api == 2:
        # Rekor v2 logs a DSSE envelope as a hashedrekord 0.0.2 over SHA-256(PAE) (no dsse kind, no SET).
        entries.append(instance.log_rekor2(dsse_request(envelope, signer.key.public_key(),
                                                        certificate_der=signer.certificate_der)))
    elif instance is not None:
        # Rekor dsse v0.0.1: the envelope and the PEM verifier(s) that signed it.
        entry = instance.log_append(dsse_body(envelope.to_json(), [signer.verifier_pem()]))
        entries.append(entry.to_bundle_entry())
    if signer.certificate_der is not None:
        material = VerificationMaterial(certificate=signer.certificate_der, tlog_entries=entries)
    else:
        material = VerificationMaterial(public_key_hint=public_key_hint(signer.key.public_key()), tlog_entries=entries)
    material.rfc3161_timestamps = stamps.verification_material.rfc3161_timestamps
    return envelope, Bundle(BUNDLE_V03_MEDIA_TYPE, material, envelope), entry


def attest_blob(
    data_or_path: bytes | str | os.PathLike[str],
    predicate_type: str,
    predicate: PredicateInput,
    signer: Signer | KeySigner,
    *,
    instance: Instance | None,
    subject_name: str | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> Bundle:
    """``attest-blob``: a bundle v0.3 with a DSSE in-toto statement about the blob, logged in `instance`.

    `predicate` is the predicate object, or the bytes of a ``--predicate``
    file (read as cosign does for the type). ``instance=None`` means no log
    entry (``--tlog-upload=false``); such a bundle does not verify.
    """
    if isinstance(data_or_path, (bytes, bytearray)):
        digest = hashlib.sha256(data_or_path).hexdigest()
        name = subject_name or "blob"
    else:
        digest = digest_file(data_or_path, "sha256").hex
        name = subject_name or Path(data_or_path).name
    s = signer if isinstance(signer, Signer) else key_signer(signer)
    statement = make_statement(name, digest, predicate_type, _predicate(predicate_type, predicate, instance))
    return _sign_and_log(statement, s, instance, timestampers=timestampers)[1]


@dataclass(frozen=True)
class ImageAttestation:
    """What `attest_image` wrote."""

    image: Descriptor
    statement: Statement
    envelope: Envelope
    bundle: Bundle
    referrer: Descriptor
    att_manifest: Descriptor | None


def attest_image(
    store: Store,
    image: Descriptor,
    predicate_type: str,
    predicate: PredicateInput,
    signer: Signer | KeySigner,
    *,
    docker_reference: str,
    instance: Instance | None,
    legacy_att: bool = True,
    annotations: Mapping[str, str] | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> ImageAttestation:
    """``attest``: sign a statement about `image` (already resolved to its digest) and store it.

    The bundle goes to an OCI 1.1 referrer of the image and (unless
    ``legacy_att=False``) the envelope to a layer of ``sha256-<hex>.att``
    (with the legacy rekorBundle and, keyless, the certificate annotations).
    `annotations` (``-a``) are signed as the statement subject's annotations.
    """
    s = signer if isinstance(signer, Signer) else key_signer(signer)
    statement = make_statement(docker_reference, image.digest.hex, predicate_type,
                               _predicate(predicate_type, predicate, instance))
    envelope, bundle, entry = _sign_and_log(statement, s, instance, annotations, timestampers)
    return store_image_attestation(store, image, statement, bundle, certificate_pem=s.certificate_pem,
                                   chain_pem=s.chain_pem,
                                   rekor_bundle=entry.rekor_bundle() if entry is not None else None,
                                   legacy_att=legacy_att, clock=instance.clock if instance is not None else None)


def store_image_attestation(
    store: Store,
    image: Descriptor,
    statement: Statement,
    bundle: Bundle,
    *,
    certificate_pem: bytes | None,
    chain_pem: bytes | None,
    rekor_bundle: dict[str, Any] | None,
    legacy_att: bool = True,
    clock: Clock | None = None,
) -> ImageAttestation:
    """Store a signed attestation bundle (its content a DSSE envelope) for `image`, as `attest_image` does:
    an OCI 1.1 referrer and (``legacy_att``) a layer of ``sha256-<hex>.att``."""
    envelope = bundle.dsse_envelope
    if envelope is None:
        raise AttestationError("an attestation bundle holds a DSSE envelope")
    env_bytes = envelope.to_json().encode()
    # cosign's .att layers carry an empty signature annotation: the signature is inside the envelope.
    layer = make_signature_layer(
        env_bytes, b"", certificate=certificate_pem, chain=chain_pem,
        rekor_bundle=rekor_bundle, media_type=DSSE_LAYER_MEDIA_TYPE,
    )
    ann = dict(layer.annotations)
    ann[ANN_PREDICATE_TYPE] = statement.predicate_type
    layer = layer.with_annotations({k: ann[k] for k in sorted(ann)})
    att = attach_signature(store, image.digest, layer, env_bytes, suffix="att") if legacy_att else None
    referrer = attach_bundle(store, image, bundle, predicate_type=statement.predicate_type, clock=clock)
    return ImageAttestation(image, statement, envelope, bundle, referrer, att)


def sign_image_bundle(
    store: Store,
    image: Descriptor,
    signer: Signer | KeySigner,
    *,
    docker_reference: str,
    instance: Instance | None,
    timestampers: Sequence[Timestamper] = (),
) -> ImageAttestation:
    """A cosign v3 image signature: a DSSE statement of type ``https://sigstore.dev/cosign/sign/v1``
    with an empty predicate, logged, stored as a bundle referrer (cosign ``specs/BUNDLE_SPEC.md``)."""
    return attest_image(store, image, COSIGN_SIGN_PREDICATE, {}, signer, docker_reference=docker_reference,
                        instance=instance, legacy_att=False, timestampers=timestampers)


# --- verification --------------------------------------------------------------------------------

#: The spec each attestation step enforces.
#: Every step of an attestation verification: id -> (title, spec). ``{type}`` is the requested predicate type's
#: name, ``{request}`` what the request was (the steps of the predicate's own check follow as ``predicate.*``).
STEPS: StepTable = {
    "input": ("{request}", "cosign verify-attestation"),
    "attestation.found": (
        "An attestation of type {type} exists",
        "cosign verify-attestation --type (GHSA-vjxv-45g9-9296)",
    ),
    "bundle.parse": ("The attestation bundle parses", "protobuf-specs Bundle"),
    "attestation.envelope": ("The bundle holds a DSSE in-toto envelope", "DSSE v1; in-toto attestation framework"),
    "statement.parse": ("The payload is an in-toto Statement", "in-toto Statement v1"),
    "predicate.type": ("The predicate type is {type}", "in-toto Statement v1 predicateType (GHSA-vjxv-45g9-9296)"),
    "bundle.verify": (
        "Signature, log entry and signer verify (labkit.verify)",
        "Sigstore client spec: verification (labkit.verify)",
    ),
}


def _recorder(result: AttestationResult, wanted_name: str = "", request: str = "") -> Recorder[AttestationResult]:
    return Recorder(result, STEPS, title_args={"type": wanted_name, "request": request})


@dataclass
class AttestationResult(CheckResult):
    """The ordered steps of one attestation verification (`subject`: the predicate type), and what was verified."""

    statement: Statement | None = None
    predicate: Any = None
    envelope: Envelope | None = None
    bundle_steps: list[Step] = field(default_factory=list)
    candidates: int = 0

    incomplete_reason: ClassVar[str] = "attestation.found"

    @property
    def predicate_type(self) -> str:
        """The requested predicate type URI."""
        return self.subject

    def error(self, step: Step | None) -> LabkitError:
        """`VerificationError` naming the failed step; its reason is prefixed ``attestation.``."""
        step_id = step.id if step is not None else "attestation.found"
        detail = step.detail if step is not None else "nothing to verify"
        reason = step_id if step_id.startswith("attestation") else f"attestation.{step_id}"
        return VerificationError(f"attestation ({self.subject}) rejected at {step_id}: {detail}",
                                 step=step_id, reason=reason)


RootInput = Union["TrustedRoot", bytes, str, None]


def _signed_statement(
    run: Recorder[AttestationResult], bundle: Bundle | bytes | str, sha256_hex: str, wanted: PredicateType,
    trusted_root: RootInput, key: VerifyingKey | None, policy: IdentityPolicy | None,
) -> tuple[Statement, Envelope]:
    """The bundle's statement of the `wanted` type, once the bundle verifies (`Stop` at the first failure)."""
    try:
        b = bundle if isinstance(bundle, Bundle) else Bundle.from_json(bundle)
    except LabkitError as exc:
        raise run.fail("bundle.parse", exc.message) from None
    run.passed("bundle.parse")
    envelope = b.content
    if not isinstance(envelope, Envelope) or envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        raise run.fail("attestation.envelope", "the bundle holds a message signature, not an attestation")
    run.passed("attestation.envelope")
    # Read the statement's type before trusting anything, only to report it; it is re-checked after verification.
    try:
        statement = Statement.from_json(envelope.payload)
    except LabkitError as exc:
        raise run.fail("statement.parse", exc.message) from None
    run.passed("statement.parse", f"predicateType {statement.predicate_type}")
    if statement.predicate_type != wanted.uri:
        # GHSA-vjxv-45g9-9296: a statement of another type never stands in for the requested one.
        raise run.fail("predicate.type", f"expected {wanted.uri}, got {statement.predicate_type}")
    run.passed("predicate.type", wanted.uri)
    vr = explain_bundle(b, f"sha256:{sha256_hex}", trusted_root, policy, key)
    run.result.bundle_steps = list(vr.steps)
    if not vr.verified:
        failed = vr.failed_step
        raise run.fail("bundle.verify", f"{failed.id}: {failed.detail}" if failed is not None else "incomplete")
    run.passed("bundle.verify", vr.signer or "")
    return statement, envelope


def _check_bundle(bundle: Bundle | bytes | str, sha256_hex: str, wanted: PredicateType, trusted_root: RootInput,
                  key: VerifyingKey | None, policy: IdentityPolicy | None,
                  required: Mapping[str, str] | None = None) -> AttestationResult:
    result = AttestationResult(wanted.uri)
    run = _recorder(result, wanted.name)
    try:
        statement, envelope = _signed_statement(run, bundle, sha256_hex, wanted, trusted_root, key, policy)
    except Stop:
        return result
    steps = result.steps
    if required and not _check_required_annotations(result, envelope.payload, sha256_hex, required):
        return result
    check = wanted.check_steps(statement.predicate)
    for cs in check.steps:
        steps.append(replace(cs, id=f"predicate.{cs.id}"))
    result.statement = statement
    result.envelope = envelope
    result.predicate = check.value if check.verified else None
    return result


def _check_required_annotations(result: AttestationResult, payload: bytes, sha256_hex: str,
                                required: Mapping[str, str]) -> bool:
    """``verify-attestation -a``: the verified statement's subject annotations (cosign ignores them here)."""
    try:
        signed = statement_annotations(payload, f"sha256:{sha256_hex}")
    except LabkitError:
        signed = None
    return check_annotations(result, required, signed, source="statement subject annotations")


def _policy_and_key(
    key: VerifyingKey | bytes | None, identity: IdentityPolicy | None
) -> tuple[VerifyingKey | None, IdentityPolicy | None]:
    if key is not None and identity is not None:
        raise AttestationError("verify with a key or with an identity, not both")
    if key is None and identity is None:
        raise AttestationError("verifying an attestation needs a key or an identity (keyless)")
    if isinstance(key, (bytes, bytearray)):
        key = load_public_key(bytes(key))
    return key, identity


def explain_blob_attestation(
    bundle: Bundle | bytes | str,
    data_or_path: bytes | str | os.PathLike[str],
    predicate_type: str,
    *,
    trusted_root: RootInput,
    key: VerifyingKey | bytes | None = None,
    identity: IdentityPolicy | None = None,
) -> AttestationResult:
    """``verify-blob-attestation`` step by step; never raises on bad input."""
    try:
        wanted = resolve_predicate_type(predicate_type)
        vkey, policy = _policy_and_key(key, identity)
        if isinstance(data_or_path, (bytes, bytearray)):
            digest = hashlib.sha256(data_or_path).hexdigest()
        else:
            digest = digest_file(data_or_path, "sha256").hex
    except LabkitError as exc:
        r = AttestationResult(predicate_type)
        _recorder(r, request="The request is complete").fail("input", exc.message)
        return r
    return _check_bundle(bundle, digest, wanted, trusted_root, vkey, policy)


def verify_blob_attestation(
    bundle: Bundle | bytes | str,
    data_or_path: bytes | str | os.PathLike[str],
    predicate_type: str,
    *,
    trusted_root: RootInput,
    key: VerifyingKey | bytes | None = None,
    identity: IdentityPolicy | None = None,
) -> AttestationResult:
    """Like `explain_blob_attestation`, but raise `VerificationError` unless verified."""
    r = explain_blob_attestation(bundle, data_or_path, predicate_type, trusted_root=trusted_root,
                                 key=key, identity=identity)
    r.raise_for_failure()
    return r


def image_attestations(store: Store, image: Descriptor | str) -> list[tuple[str, Bundle | bytes]]:
    """The attestation bundles stored as referrers of `image`: (predicate type annotation, bundle)."""
    digest = image if isinstance(image, str) else str(image.digest)
    out: list[tuple[str, Bundle | bytes]] = []
    for ref, data in list_bundles(store, digest):
        out.append((ref.annotations.get("dev.sigstore.bundle.predicateType", ""), data))
    return out


def explain_image_attestation(
    store: Store,
    image: Descriptor | str,
    predicate_type: str,
    *,
    trusted_root: RootInput,
    key: VerifyingKey | bytes | None = None,
    identity: IdentityPolicy | None = None,
    annotations: Mapping[str, str] | None = None,
) -> AttestationResult:
    """``verify-attestation --type``: is there an attestation of that type that verifies? Never raises.

    Every bundle referrer is tried (the annotation is only a hint: the
    signed statement's type decides). The result is the first candidate of
    the requested type that verifies, else the most informative failure.
    `annotations` (``-a``) must be signed in the statement's subject annotations.
    """
    try:
        wanted = resolve_predicate_type(predicate_type)
        vkey, policy = _policy_and_key(key, identity)
        digest = image if isinstance(image, str) else str(image.digest)
        if not digest.startswith("sha256:"):
            raise AttestationError(f"image must be a sha256 manifest digest, got {digest!r}")
        found = image_attestations(store, digest)
    except LabkitError as exc:
        r = AttestationResult(predicate_type)
        _recorder(r, request="The image and request are valid").fail("input", exc.message)
        return r
    typed_failure: AttestationResult | None = None
    for _annotation, data in found:
        r = _check_bundle(data if isinstance(data, Bundle) else bytes(data), digest.split(":", 1)[1], wanted,
                          trusted_root, vkey, policy, annotations)
        r.candidates = len(found)
        type_ok = any(s.id == "predicate.type" and not s.failed for s in r.steps)
        if r.verified or (type_ok and typed_failure is None):
            r.steps.insert(0, _recorder(r, wanted.name).make("attestation.found", StepStatus.PASSED,
                                                              f"{len(found)} attestation(s) attached"))
        if r.verified:
            return r
        if type_ok and typed_failure is None:
            typed_failure = r
    if typed_failure is not None:
        return typed_failure
    # GHSA-vjxv-45g9-9296: no attestation of this type is a failure, never a pass.
    r = AttestationResult(wanted.uri, candidates=len(found))
    _recorder(r, wanted.name).fail("attestation.found",
                                   f"none of the {len(found)} attestation(s) attached is a {wanted.uri}")
    return r


def verify_image_attestation(
    store: Store,
    image: Descriptor | str,
    predicate_type: str,
    *,
    trusted_root: RootInput,
    key: VerifyingKey | bytes | None = None,
    identity: IdentityPolicy | None = None,
    annotations: Mapping[str, str] | None = None,
) -> AttestationResult:
    """Like `explain_image_attestation`, but raise `VerificationError` unless verified."""
    r = explain_image_attestation(store, image, predicate_type, trusted_root=trusted_root, key=key, identity=identity,
                                  annotations=annotations)
    r.raise_for_failure()
    return r


def envelope_view(bundle: Bundle) -> dict[str, Any]:
    """The DSSE envelope and decoded statement of an attestation bundle, for display."""
    if not isinstance(bundle.content, Envelope):
        raise AttestationError("the bundle holds no DSSE envelope")
    env = bundle.content
    return {
        "payloadType": env.payload_type,
        "payload (base64, first 60 chars)": base64.b64encode(env.payload).decode()[:60] + "...",
        "signatures": [{"keyid": s.keyid, "sig (base64, first 40 chars)": base64.b64encode(s.sig).decode()[:40] + "..."}
                       for s in env.signatures],
        "statement": json.loads(env.payload),
    }
