"""cosign-compatible image signatures, stored in an OCI layout or a registry.

**Legacy format** (cosign ``specs/SIGNATURE_SPEC.md``, ``pkg/oci/static``):
the signatures of image ``sha256:<hex>`` live under tag
``sha256-<hex>.sig`` in the same repository (or layout): an OCI image
manifest whose config is an OCI image config and which has **one layer per
signature**, media type ``application/vnd.dev.cosign.simplesigning.v1+json``.
The layer blob is the simple-signing payload; its descriptor carries the
annotations ``dev.cosignproject.cosign/signature`` (base64 signature),
``dev.sigstore.cosign/certificate`` and ``dev.sigstore.cosign/chain``
(PEM, keyless), ``dev.sigstore.cosign/bundle`` (legacy rekorBundle with the
SET). Attestations use ``.att``.

**New format** (cosign v3, ``specs/BUNDLE_SPEC.md``): a Sigstore bundle v0.3
holding a DSSE envelope of an in-toto statement (predicate type
``https://sigstore.dev/cosign/sign/v1``, subject = the image digest), stored
as an OCI 1.1 referrer: ``artifactType``
``application/vnd.dev.sigstore.bundle.v0.3+json``, the empty config, one
layer with the bundle, ``subject`` = the image.

**Concurrency.** cosign reads ``.sig``, appends a layer and writes the tag
back: two signers at once and one signature is lost (cosign says so: "racy").
labkit appends under the layout's lock, and on a registry (no lock, no
compare-and-swap) through `RegistryRepository.converge`: every signer first
pushes a one-signature manifest under its own claim tag
``sha256-<hex>.sig.claim-<id>``, then writes the union until ``.sig`` holds
every claim. `append_signature_racy` keeps cosign's behaviour for the attack
lab; no command-line path reaches it.

Signatures bind the manifest **digest**, never a tag: resolve a tag once,
then sign and verify that digest (`resolve_for_signing` warns like cosign).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Union

from labkit._internal.jsonio import MAX_DOCUMENT_BYTES, loads
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, TransparencyLogEntry, VerificationMaterial
from labkit.checks import CheckResult, Step
from labkit.errors import InputError, LabkitError, StoreError, VerificationError
from labkit.keys import VerifyingKey
from labkit.signers.base import Signer
from labkit.lab import Clock, SystemClock
from labkit.legacy import legacy_bundle, rekor_bundle_entry
from labkit.oci.annotations import check_annotations, signed_statement, statement_annotations
from labkit.oci.descriptor import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    MT_CONFIG,
    MT_MANIFEST,
    Descriptor,
    Manifest,
    NotFoundError,
    canonical_json,
    parse_manifest,
)
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.reference import ImageReference, LayoutReference
from labkit.oci.registry import RegistryRepository
from labkit.payloads import (
    INTOTO_PAYLOAD_TYPE,
    Envelope,
    Statement,
    Subject,
    parse_simple_signing,
    sign_envelope,
    simple_signing_payload,
    verify_envelope,
)
from labkit.timestamping import Timestamper, add_timestamps

__all__ = [
    "ANN_BUNDLE",
    "ANN_CERTIFICATE",
    "ANN_CHAIN",
    "ANN_RFC3161",
    "ANN_SIGNATURE",
    "BUNDLE_ARTIFACT_TYPE",
    "COSIGN_SIGN_PREDICATE",
    "SIMPLESIGNING_MEDIA_TYPE",
    "STEP_REASONS",
    "TAG_WARNING",
    "ImageSignatureReport",
    "SignResult",
    "SignatureLayer",
    "Store",
    "TransparencyLogLike",
    "append_signature_racy",
    "attach_bundle",
    "attach_signature",
    "bundle_referrer_manifest",
    "explain_image_signatures",
    "list_bundles",
    "list_signatures",
    "make_signature_layer",
    "resolve_for_signing",
    "sign_image",
    "signature_config",
    "signature_manifest",
    "signature_tag",
    "legacy_layer_bundle",
    "verify_image",
]

SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
ANN_SIGNATURE = "dev.cosignproject.cosign/signature"
ANN_CERTIFICATE = "dev.sigstore.cosign/certificate"
ANN_CHAIN = "dev.sigstore.cosign/chain"
ANN_BUNDLE = "dev.sigstore.cosign/bundle"
ANN_RFC3161 = "dev.sigstore.cosign/rfc3161timestamp"
BUNDLE_ARTIFACT_TYPE = BUNDLE_V03_MEDIA_TYPE
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

#: What cosign prints when asked to sign a tag (internal/ui/warnings.go, reworded).
TAG_WARNING = (
    "WARNING: Image reference {ref} uses a tag, not a digest, to identify the image to sign.\n"
    "    This can lead you to sign a different image than the intended one. Please use a\n"
    "    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n"
    "    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n"
    "    images by tag will be removed in a future release."
)

Store = Union[OCILayout, RegistryRepository]


class _LogEntry(Protocol):
    def rekor_bundle(self) -> dict[str, Any]: ...

    def to_bundle_entry(self) -> TransparencyLogEntry: ...


class TransparencyLogLike(Protocol):
    """What signing needs from a log (`labkit.tlog.store.TransparencyLog` has it)."""

    def upload_hashedrekord(
        self, signature: bytes, public_key_or_cert_pem: bytes, artifact_sha256: bytes | str, *, algorithm: str = ...
    ) -> _LogEntry: ...

    def upload_dsse(self, envelope_json: bytes | str, verifiers: Sequence[bytes]) -> _LogEntry: ...


def signature_tag(digest: Digest | str, suffix: str = "sig") -> str:
    """``sha256-<hex>.<suffix>``: where cosign keeps signatures (``sig``), attestations (``att``), SBOMs."""
    d = digest if isinstance(digest, Digest) else Digest.parse(digest)
    if suffix not in ("sig", "att", "sbom"):
        raise StoreError(f"unknown cosign tag suffix {suffix!r}")
    return f"{d.tag_form}.{suffix}"


def _sorted(m: Mapping[str, str]) -> dict[str, str]:
    # Go marshals maps with sorted keys; so do we.
    return {k: m[k] for k in sorted(m)}


def make_signature_layer(
    payload: bytes,
    signature: bytes,
    *,
    certificate: bytes | None = None,
    chain: bytes | None = None,
    rekor_bundle: Mapping[str, Any] | None = None,
    media_type: str = SIMPLESIGNING_MEDIA_TYPE,
) -> Descriptor:
    """The descriptor of one signature layer, with cosign's annotations."""
    ann = {ANN_SIGNATURE: base64.b64encode(signature).decode()}
    if certificate is not None:
        ann[ANN_CERTIFICATE] = certificate.decode()
        # cosign sets the chain annotation whenever a certificate is set, even if empty.
        ann[ANN_CHAIN] = (chain or b"").decode()
    if rekor_bundle is not None:
        ann[ANN_BUNDLE] = json.dumps(rekor_bundle, separators=(",", ":"))
    return Descriptor.for_bytes(payload, media_type, annotations=_sorted(ann))


def signature_config(layers: Sequence[Descriptor]) -> bytes:
    """The image config cosign's ``.sig`` image has (go-containerregistry ``empty.Image`` plus layers)."""
    zero = "0001-01-01T00:00:00Z"
    doc = {
        "architecture": "",
        "created": zero,
        "history": [{"created": zero} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [str(d.digest) for d in layers]},
        "config": {},
    }
    return canonical_json(doc)


def signature_manifest(layers: Sequence[Descriptor]) -> tuple[Manifest, bytes]:
    """The ``.sig`` manifest for `layers`, and its config bytes."""
    config = signature_config(layers)
    manifest = Manifest(Descriptor.for_bytes(config, MT_CONFIG), tuple(layers), MT_MANIFEST)
    return manifest, config


@dataclass(frozen=True)
class SignatureLayer:
    """One legacy signature: its layer descriptor, payload and decoded annotations."""

    descriptor: Descriptor
    payload: bytes

    @property
    def signature(self) -> bytes:
        """The raw signature (base64-decoded annotation); empty if missing or not base64."""
        try:
            return base64.b64decode(self.descriptor.annotations.get(ANN_SIGNATURE, ""), validate=True)
        except (binascii.Error, ValueError):
            return b""

    @property
    def certificate(self) -> str | None:
        """PEM certificate annotation, if any."""
        return self.descriptor.annotations.get(ANN_CERTIFICATE)

    @property
    def rekor_bundle(self) -> dict[str, Any] | None:
        """The legacy rekorBundle annotation, parsed, if present."""
        raw = self.descriptor.annotations.get(ANN_BUNDLE)
        if raw is None:
            return None
        try:
            doc = loads(raw, what="dev.sigstore.cosign/bundle annotation")
        except LabkitError:
            return None
        return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class SignResult:
    """What `sign_image` did."""

    image: Descriptor
    payload: bytes
    signature: bytes
    layer: Descriptor
    signature_manifest: Descriptor
    bundle: Bundle | None = None
    bundle_referrer: Descriptor | None = None


def resolve_for_signing(store: Store, ref: LayoutReference | ImageReference) -> tuple[Descriptor, str | None]:
    """Resolve `ref` to a descriptor **once**; return it and cosign's warning if `ref` used a tag."""
    if ref.digest is not None:
        return store.resolve(ref.digest), None
    desc = store.resolve(ref.tag if isinstance(ref, LayoutReference) else ref.ref)
    return desc, TAG_WARNING.format(ref=str(ref))


def _read_sig(store: Store, tag: str) -> list[Descriptor]:
    try:
        data, _ = store.get_manifest(tag)
    except NotFoundError:
        return []
    return list(parse_manifest(data, what=f"signature manifest {tag}").layers)


def _same(a: Descriptor, b: Descriptor) -> bool:
    return a.digest == b.digest and dict(a.annotations) == dict(b.annotations)


def _write_sig(store: Store, tag: str, layers: Sequence[Descriptor], payloads: Mapping[Digest, bytes]) -> Descriptor:
    for layer in layers:
        if layer.digest in payloads and not store.has_blob(layer.digest):
            store.put_blob(payloads[layer.digest], layer.media_type)
    manifest, config = signature_manifest(layers)
    store.put_blob(config, MT_CONFIG)
    return store.put_manifest(manifest.to_bytes(), MT_MANIFEST, tag=tag)


#: Tries of one claim write. Another signer committing the same blobs makes distribution rewrite their link
#: files in place, and for that moment it answers 500, DIGEST_INVALID or MANIFEST_BLOB_UNKNOWN.
_CLAIM_ATTEMPTS = 6


def _transient(exc: StoreError) -> bool:
    status = exc.details.get("status")
    return (isinstance(status, int) and status >= 500) or any(c in exc.message for c in ("BLOB_UNKNOWN", "DIGEST_INVALID"))


def _write_claim(store: Store, tag: str, layer: Descriptor, payload: bytes) -> None:
    """Push the payload and this signer's one-signature claim manifest, riding out transient answers.

    Both writes are idempotent (content-addressed blobs, a tag of this
    signer's own), so trying again is safe; a lasting error is raised.
    """
    for attempt in range(_CLAIM_ATTEMPTS):
        try:
            store.put_blob(payload, layer.media_type)
            _write_sig(store, tag, [layer], {layer.digest: payload})
            return
        except StoreError as exc:  # RegistryError carries the HTTP status
            if not _transient(exc) or attempt == _CLAIM_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def attach_signature(
    store: Store, image: Digest | str, layer: Descriptor, payload: bytes, *, suffix: str = "sig"
) -> Descriptor:
    """Add one signature layer to ``sha256-<hex>.sig`` without losing concurrent signatures.

    Layout: read-append-write under the layout lock. Registry: claim tag,
    then `RegistryRepository.converge` (write, re-read, verify, retry).
    An identical layer (same payload and annotations) is not added twice.
    """
    d = image if isinstance(image, Digest) else Digest.parse(image)
    tag = signature_tag(d, suffix)
    if isinstance(store, OCILayout):
        store.put_blob(payload, layer.media_type)
        with store.lock():
            layers = _read_sig(store, tag)
            if any(_same(x, layer) for x in layers):
                return store.resolve(tag)
            return _write_sig(store, tag, [*layers, layer], {layer.digest: payload})
    claim_id = Digest.of(canonical_json(layer.to_dict())).hex[:16]
    _write_claim(store, f"{tag}.claim-{claim_id}", layer, payload)

    def merge(current: bytes | None, claims: list[tuple[str, bytes]]) -> bytes | None:
        layers = list(parse_manifest(current).layers) if current is not None else []
        changed = current is None
        for _t, body in claims:
            for cl in parse_manifest(body).layers:
                if not any(_same(x, cl) for x in layers):
                    layers.append(cl)
                    changed = True
        if not changed:
            return None
        manifest, config = signature_manifest(layers)
        store.put_blob(config, MT_CONFIG)
        return manifest.to_bytes()

    return store.converge(tag, f"{tag}.claim-", merge, MT_MANIFEST)


def append_signature_racy(
    store: Store,
    image: Digest | str,
    layer: Descriptor,
    payload: bytes,
    *,
    pause: float = 0.0,
    suffix: str = "sig",
) -> Descriptor:
    """cosign's read-append-write of ``.sig``, **without** a lock or a re-check (attack lab only).

    `pause` widens the window between the read and the write so the lost
    update shows reliably. Concurrent callers: the last writer wins.
    """
    d = image if isinstance(image, Digest) else Digest.parse(image)
    tag = signature_tag(d, suffix)
    store.put_blob(payload, layer.media_type)
    layers = _read_sig(store, tag)
    if pause:
        time.sleep(pause)
    return _write_sig(store, tag, [*layers, layer], {layer.digest: payload})


def list_signatures(store: Store, image: Digest | str, *, suffix: str = "sig") -> list[SignatureLayer]:
    """Every layer of ``sha256-<hex>.sig`` with its (verified) payload; [] when there is none."""
    d = image if isinstance(image, Digest) else Digest.parse(image)
    out = []
    for layer in _read_sig(store, signature_tag(d, suffix)):
        out.append(SignatureLayer(layer, _get_document(store, layer, "signature payload")))
    return out


def _get_document(store: Store, layer: Descriptor, what: str) -> bytes:
    """A JSON document stored as a blob (payload, envelope, bundle): its declared size capped before reading."""
    if layer.size > MAX_DOCUMENT_BYTES:
        raise StoreError(
            f"{what} {layer.digest.short()} is {layer.size} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit",
            details={"digest": str(layer.digest)},
        )
    return store.get_blob(layer.digest, layer.size)


def bundle_referrer_manifest(
    bundle_json: bytes, subject: Descriptor, *, predicate_type: str, created: str
) -> Manifest:
    """The OCI 1.1 referrer manifest cosign v3 writes for a bundle."""
    layer = Descriptor.for_bytes(bundle_json, BUNDLE_ARTIFACT_TYPE)
    subj = Descriptor(subject.media_type, subject.digest, subject.size)
    annotations = _sorted({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": predicate_type,
        "org.opencontainers.image.created": created,
    })
    config = Descriptor(EMPTY_DESCRIPTOR.media_type, EMPTY_DESCRIPTOR.digest, EMPTY_DESCRIPTOR.size)
    return Manifest(config, (layer,), MT_MANIFEST, BUNDLE_ARTIFACT_TYPE, subj, annotations)


def attach_bundle(
    store: Store, subject: Descriptor, bundle: Bundle, *, predicate_type: str = COSIGN_SIGN_PREDICATE, clock: Clock | None = None
) -> Descriptor:
    """Store `bundle` as a referrer of `subject` (OCI 1.1; tag-schema fallback on old registries)."""
    now = (clock or SystemClock()).now().astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    bundle_json = bundle.to_json().encode()
    manifest = bundle_referrer_manifest(bundle_json, subject, predicate_type=predicate_type, created=now)
    store.put_blob(EMPTY_JSON, EMPTY_DESCRIPTOR.media_type)
    store.put_blob(bundle_json, BUNDLE_ARTIFACT_TYPE)
    return store.put_referrer(manifest.to_bytes(), MT_MANIFEST)


def list_bundles(store: Store, image: Digest | str) -> list[tuple[Descriptor, bytes]]:
    """Referrers of `image` with the bundle artifact type, and each bundle's bytes."""
    d = image if isinstance(image, Digest) else Digest.parse(image)
    out = []
    for ref in store.referrers(d, BUNDLE_ARTIFACT_TYPE):
        data, _ = store.get_manifest(ref.digest)
        manifest = parse_manifest(data, what=f"bundle referrer {ref.digest.short()}")
        for layer in manifest.layers:
            if layer.media_type == BUNDLE_ARTIFACT_TYPE:
                out.append((ref, _get_document(store, layer, "bundle")))
    return out


def sign_image(
    store: Store,
    image: Descriptor,
    key: Signer,
    *,
    docker_reference: str,
    annotations: Mapping[str, str] | None = None,
    tlog: TransparencyLogLike | None = None,
    new_bundle_format: bool = False,
    clock: Clock | None = None,
    timestampers: Sequence[Timestamper] = (),
) -> SignResult:
    """Sign the image `image` (already resolved to a digest) and store the signature cosign's way.

    The legacy ``.sig`` signature is always written; with
    `new_bundle_format` a bundle referrer is written too. With `tlog`, the
    signature is logged (hashedrekord over SHA-256 of the payload, as cosign
    does) and the layer carries ``dev.sigstore.cosign/bundle``; the bundle
    gets the log entry of its DSSE envelope, and a timestamp from each of
    `timestampers` (`labkit.timestamping`) over the envelope's signature.
    """
    if timestampers and not new_bundle_format:
        raise InputError("timestamps go into the Sigstore bundle: sign with --new-bundle-format to keep them")
    payload = simple_signing_payload(docker_reference, str(image.digest), dict(annotations) if annotations else None)
    signature = key.sign(payload)
    rekor = None
    if tlog is not None:
        entry = tlog.upload_hashedrekord(signature, key.public_key().pem(), Digest.of(payload).hex)
        rekor = entry.rekor_bundle()
    layer = make_signature_layer(payload, signature, rekor_bundle=rekor)
    sig_desc = attach_signature(store, image.digest, layer, payload)
    bundle = referrer = None
    if new_bundle_format:
        from labkit.sign import public_key_hint

        statement = Statement(
            [Subject(docker_reference, {image.digest.algorithm: image.digest.hex})], COSIGN_SIGN_PREDICATE, {}
        )
        # cosign v3 signs the -a pairs as the subject's annotations (the statement has no `optional` map).
        envelope = sign_envelope(signed_statement(statement, annotations), INTOTO_PAYLOAD_TYPE, key)
        stamped = add_timestamps(Bundle(BUNDLE_V03_MEDIA_TYPE, VerificationMaterial(), envelope), timestampers)
        entries = []
        if tlog is not None:
            entries.append(tlog.upload_dsse(envelope.to_json(), [key.public_key().pem()]).to_bundle_entry())
        material = VerificationMaterial(public_key_hint=public_key_hint(key.public_key()), tlog_entries=entries,
                                        rfc3161_timestamps=stamped.verification_material.rfc3161_timestamps)
        bundle = Bundle(BUNDLE_V03_MEDIA_TYPE, material, envelope)
        referrer = attach_bundle(store, image, bundle, clock=clock)
    return SignResult(image, payload, signature, layer, sig_desc, bundle, referrer)


@dataclass
class ImageSignatureReport(CheckResult):
    """The explained verification of an image's signatures (legacy ``.sig`` and bundle referrers).

    `steps` are the image-level steps; `signatures` one `CheckResult` per
    signature found (`subject` names it). The image verifies when at least
    one signature passed every step (as cosign: any valid signature is enough).
    """

    image: Digest = field(kw_only=True)
    signatures: list[CheckResult] = field(default_factory=list)

    @property
    def verified_signatures(self) -> list[CheckResult]:
        """The signatures that passed."""
        return [s for s in self.signatures if s.verified]

    @property
    def reason(self) -> str:
        """The reason code `verify_image` raises ("" when the image verifies).

        When no signature verified: the first failed step of the first
        signature; otherwise the failed image-level step. Codes are step ids,
        except those in `STEP_REASONS`.
        """
        failed = self.failed_step
        if failed is None:
            return "" if self.verified else self.incomplete_reason
        if failed.id == "signatures.verified":
            firsts = [f for f in (s.failed_step for s in self.signatures) if f is not None]
            if firsts:
                return _reason(firsts[0].id)
        return _reason(failed.id)

    def rows(self) -> list[dict[str, str]]:
        """Every step, image-level first, as plain dicts (the `CheckResult.rows` keys and ``signature``)."""
        out = [dict(r, signature="") for r in super().rows()]
        for s in self.signatures:
            out.extend(dict(r, signature=s.subject) for r in s.rows())
        return out

    def error(self, step: Step | None) -> LabkitError:
        """`VerificationError` naming the failed image-level step; `reason` is `ImageSignatureReport.reason`."""
        if step is None:
            return VerificationError(f"image {self.image.short()}: the checks did not complete",
                                     step=self.incomplete_reason)
        detail = f": {step.detail}" if step.detail else ""  # a store that could not be read says why
        firsts = [f for f in (s.failed_step for s in self.signatures) if f is not None]
        if firsts:
            detail = f" (first signature failed at {firsts[0].id}: {firsts[0].actual})"
        return VerificationError(
            f"image {self.image.short()}: {step.title} failed{detail}",
            step=step.id,
            reason=self.reason,
            details={"expected": step.expected or "", "actual": step.actual or ""},
        )


def _rekor_entry(rekor: Mapping[str, Any]) -> TransparencyLogEntry | None:
    """The log entry in a legacy rekorBundle (``{SignedEntryTimestamp, Payload}``); None if malformed."""
    try:
        return rekor_bundle_entry(rekor)
    except LabkitError:
        return None


def legacy_layer_bundle(sig: SignatureLayer, tlog: Any = None) -> Bundle:
    """A legacy keyless signature layer (certificate, chain, rekorBundle) as a Sigstore bundle v0.1.

    This is how cosign's legacy keyless signatures are verified with bundle
    tooling: the message is the payload (hashedrekord over its SHA-256), the
    certificate chain comes from the annotations, the log entry and its SET
    (inclusion promise) from ``dev.sigstore.cosign/bundle``. The legacy
    annotation has no inclusion proof; with `tlog` (anything with
    ``get(index)`` returning a `labkit.tlog.entries.LogEntry`, such as a
    `TransparencyLog`) the proof is fetched, after checking that the log holds
    the same body at that index.
    Raises `VerificationError` when a piece is missing or malformed.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    def fail(msg: str) -> VerificationError:
        return VerificationError(msg, step="certificate.present", reason="legacy.keyless_material")

    if not sig.certificate:
        raise fail("signature layer has no dev.sigstore.cosign/certificate")
    pem = (sig.certificate + "\n" + sig.descriptor.annotations.get(ANN_CHAIN, "")).encode()
    try:
        certs = x509.load_pem_x509_certificates(pem)
        # Leaf and intermediates only: a bundle must not carry the root (the trusted root does).
        chain = [c.public_bytes(Encoding.DER) for i, c in enumerate(certs) if i == 0 or c.issuer != c.subject]
    except ValueError as exc:
        raise fail(f"certificate annotations are not PEM certificates: {exc}") from None
    rekor = sig.rekor_bundle
    if rekor is None:
        raise fail("signature layer has no dev.sigstore.cosign/bundle (no log entry)")
    entry = _rekor_entry(rekor)
    if entry is None:
        raise fail("dev.sigstore.cosign/bundle is not a rekorBundle")
    body = entry.canonicalized_body
    if tlog is not None:
        try:
            logged = tlog.get(entry.log_index)
        except LabkitError as exc:
            raise fail(f"the log has no entry {entry.log_index}: {exc.message}") from None
        if logged.body != body:
            raise VerificationError(
                f"the log's entry {entry.log_index} is not the one in the signature's rekorBundle",
                step="tlog.body", reason="legacy.tlog_body_mismatch",
            )
        full: TransparencyLogEntry = logged.to_bundle_entry()
        # Keep the SET from the signature (what cosign verifies); take the proof from the log.
        entry = TransparencyLogEntry(
            log_index=entry.log_index, log_id=entry.log_id, kind=entry.kind, version=entry.version,
            canonicalized_body=body, integrated_time=entry.integrated_time,
            inclusion_promise=entry.inclusion_promise, inclusion_proof=full.inclusion_proof,
        )
    bundle = legacy_bundle(sig.payload, sig.signature, certificates=chain)
    bundle.verification_material.tlog_entries = [entry]
    return bundle


#: Reason codes that differ from the id of the step reporting them (the others are the step id).
STEP_REASONS: dict[str, str] = {
    "format.bundle": "format.no_bundle",
    "tlog.entries": "tlog.missing",
    "tlog.log_id": "tlog.unknown_log",
    "trust_root.parse": "trust_root.invalid",
}

_SPEC_SIG = "cosign SIGNATURE_SPEC.md"
_SPEC_ENTRY = "protobuf-specs sigstore_rekor.proto TransparencyLogEntry"
_SPEC_ROOT = "protobuf-specs sigstore_trustroot.proto"
_SPEC_DOCKER_REF = "cosign SIGNATURE_SPEC.md critical.identity (cosign ignores it; labkit checks it on request)"


def _reason(step_id: str) -> str:
    return STEP_REASONS.get(step_id, step_id)


def _check_legacy_tlog(res: CheckResult, sig: SignatureLayer, key: VerifyingKey, root: Any) -> bool:
    """A key-signed layer's rekorBundle: bound to this signature, key and payload; trusted log; valid SET.

    This is what cosign checks offline for a legacy signature (the SET, no
    inclusion proof). The comparisons and the SET check are
    `labkit.verify.binding.bind_entry` and
    `labkit.verify.tlog.verify_inclusion_promise`, as for bundles.
    """
    from labkit.bundle import MessageSignature
    from labkit.verify.binding import bind_entry
    from labkit.verify.tlog import verify_inclusion_promise

    raw = sig.descriptor.annotations.get(ANN_BUNDLE)
    if not res.add("tlog.entries", "layer carries a log entry (dev.sigstore.cosign/bundle)", _SPEC_SIG,
                   raw is not None, "a rekorBundle", "absent" if raw is None else "present"):
        return False
    rekor = sig.rekor_bundle
    entry = _rekor_entry(rekor) if rekor is not None else None
    if not res.add("tlog.entry.parse", "the annotation is a rekorBundle {SignedEntryTimestamp, Payload}",
                   _SPEC_SIG, entry is not None, "rekorBundle JSON",
                   "malformed" if entry is None else f"{entry.kind} {entry.version}, index {entry.log_index}"):
        return False
    assert entry is not None
    # protobuf-specs canonicalized_body: clients MUST check the entry records this signature
    # (and key and artifact): otherwise any logged entry vouches for any signature (GHSA-whqx-f9j3-ch6m).
    digest = hashlib.sha256(sig.payload).digest()
    binding = bind_entry(entry.kind, entry.version, entry.canonicalized_body, artifact_digest=("sha256", digest),
                         signer_der=key.der(), content=MessageSignature(digest=digest, signature=sig.signature))
    if not res.add("binding.body", "the log entry body is a supported kind", _SPEC_ENTRY, not binding.error,
                   "hashedrekord 0.0.1", binding.error or f"{entry.kind} {entry.version}"):
        return False
    for step_id, title, fld in (
        ("binding.digest", "the log entry records this payload's digest", binding.digest),
        ("binding.key", "the log entry records this key", binding.key),
        ("binding.signature", "the log entry records this signature", binding.signature),
    ):
        assert fld is not None
        if not res.add(step_id, title, _SPEC_ENTRY + " (GHSA-whqx-f9j3-ch6m)", fld.ok, fld.expected, fld.actual):
            return False
    log = root.tlog(entry.log_id)
    if not res.add("tlog.log_id", "the entry comes from a log in the trusted root", _SPEC_ROOT + " tlogs",
                   log is not None, " or ".join(t.log_id.hex()[:16] for t in root.tlogs) or "(no logs)",
                   entry.log_id.hex()):
        return False
    try:
        itime = verify_inclusion_promise(entry, log)
    except LabkitError as exc:
        res.add("tlog.inclusion_promise", "the inclusion promise (SET) verifies with the log key",
                "Rekor v1 SET over the RFC 8785 payload", False, exc.details.get("expected", "a valid SET"),
                exc.details.get("actual", exc.message))
        return False
    try:
        when = _dt.datetime.fromtimestamp(itime, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        res.add("tlog.inclusion_promise", "the inclusion promise (SET) verifies with the log key",
                "Rekor v1 SET over the RFC 8785 payload", False, "a representable integratedTime", itime)
        return False
    res.add("tlog.inclusion_promise", "the inclusion promise (SET) verifies with the log key",
            "Rekor v1 SET over the RFC 8785 payload", True, "", f"integrated {when.isoformat()}")
    # The SET makes integratedTime a verified time; the log key must have been valid then (validFor is closed).
    return res.add("tlog.key_validity", "the log key was valid at the integrated time", _SPEC_ROOT + " validFor",
                   log.valid_for.contains(when), log.valid_for.describe(), when.isoformat())


def _check_legacy(sig: SignatureLayer, index: int, image: Digest, key: VerifyingKey | None,
                  required: Mapping[str, str], trusted_root: Any = None, identity: Any = None,
                  tlog: Any = None, docker_reference: str | None = None) -> CheckResult:
    res = CheckResult(f"sig[{index}] {sig.descriptor.digest.short()}")
    spec = _SPEC_SIG
    if not res.add("signature.present", "layer carries dev.cosignproject.cosign/signature", spec,
                   bool(sig.signature), "base64 signature", "missing or not base64" if not sig.signature else "present"):
        return res
    if key is not None:
        try:
            key.verify(sig.signature, sig.payload)
            ok, actual = True, "valid"
        except LabkitError as exc:
            ok, actual = False, exc.message
        if not res.add("signature.verify", "signature over the payload verifies with the key", spec, ok, "valid",
                       actual):
            return res
        if trusted_root is not None and not _check_legacy_tlog(res, sig, key, trusted_root):
            return res
    else:
        from labkit.verify.verifier import explain_bundle

        try:
            bundle = legacy_layer_bundle(sig, tlog)
        except VerificationError as exc:
            res.add("certificate.present", "layer carries a certificate and a log entry", spec, False,
                    "certificate, chain, rekorBundle", exc.message)
            return res
        res.add("certificate.present", "layer carries a certificate and a log entry", spec, True)
        result = explain_bundle(bundle, sig.payload, trusted_root, policy=identity)
        if not res.add("keyless.verify", "certificate chain, identity, SET and signature verify (as a v0.1 bundle)",
                       "Sigstore client spec", result.verified, "verified", result.reason or "verified"):
            return res
    try:
        parsed = parse_simple_signing(sig.payload)
    except LabkitError as exc:
        res.add("payload.parse", "payload is a cosign simple-signing document", "sigstore payload.go", False,
                "simple-signing JSON", exc.message)
        return res
    res.add("payload.parse", "payload is a cosign simple-signing document", "sigstore payload.go", True)
    if not res.add("payload.digest", "payload names the image digest (docker-manifest-digest)",
                   "cosign SimpleClaimVerifier", parsed.manifest_digest == str(image), str(image), parsed.manifest_digest):
        return res
    if docker_reference is not None and not res.add(
        "payload.docker_reference", "payload's docker-reference is the repository verified (no cross-repo replay)",
        _SPEC_DOCKER_REF, parsed.docker_reference == docker_reference, docker_reference, parsed.docker_reference,
    ):
        return res
    check_annotations(res, required, parsed.annotations, source="simple-signing optional")
    return res


def _subject_names(data: bytes, image: Digest) -> list[str]:
    """Names of the bundle's in-toto subjects whose digest is `image` ([] if it holds no statement)."""
    try:
        env = Bundle.from_json(data).dsse_envelope
        if not isinstance(env, Envelope):
            return []
        statement = Statement.from_json(env.payload)
    except LabkitError:
        return []
    return [s.name for s in statement.subjects if s.digest.get(image.algorithm) == image.hex]


def _bundle_annotations(data: bytes, image: Digest) -> dict[str, object] | None:
    """The annotations the bundle's DSSE statement signs for `image` (None: no statement, no annotations)."""
    try:
        env = Bundle.from_json(data).dsse_envelope
        if not isinstance(env, Envelope):
            return None
        return statement_annotations(env.payload, image)
    except LabkitError:
        return None


def _check_bundle(ref: Descriptor, data: bytes, image: Digest, key: VerifyingKey | None,
                  required: Mapping[str, str], trusted_root: Any = None, identity: Any = None,
                  docker_reference: str | None = None) -> CheckResult:
    res = _check_bundle_signature(ref, data, image, key, trusted_root, identity)
    if res.ok and required:
        check_annotations(res, required, _bundle_annotations(data, image), source="statement subject annotations")
    if res.ok and docker_reference is not None:
        names = _subject_names(data, image)
        res.add("payload.docker_reference", "the statement subject for this digest names the repository verified",
                _SPEC_DOCKER_REF + "; in-toto Statement v1 subject.name", docker_reference in names,
                docker_reference, ", ".join(names) or "(no subject name)")
    return res


def _check_bundle_signature(ref: Descriptor, data: bytes, image: Digest, key: VerifyingKey | None,
                            trusted_root: Any = None, identity: Any = None) -> CheckResult:
    res = CheckResult(f"bundle {ref.digest.short()}")
    if key is None or trusted_root is not None:
        from labkit.verify.verifier import explain_bundle

        result = explain_bundle(data, str(image), trusted_root, policy=identity, key=key)
        res.add("bundle.verify", "bundle verifies for the image digest (signer, log, signature)",
                "Sigstore client spec", result.verified, "verified", result.reason or "verified")
        return res
    try:
        bundle = Bundle.from_json(data)
    except LabkitError as exc:
        res.add("bundle.parse", "referrer holds a Sigstore bundle", "protobuf-specs sigstore_bundle.proto", False,
                "bundle v0.3", exc.message)
        return res
    res.add("bundle.parse", "referrer holds a Sigstore bundle", "protobuf-specs sigstore_bundle.proto", True)
    env = bundle.dsse_envelope
    if not res.add("bundle.dsse", "bundle content is a DSSE envelope", "cosign BUNDLE_SPEC.md", env is not None,
                   "dsseEnvelope", "messageSignature" if env is None else "dsseEnvelope"):
        return res
    assert isinstance(env, Envelope)
    try:
        verify_envelope(env, key)
        ok, actual = True, "valid"
    except LabkitError as exc:
        ok, actual = False, exc.message
    if not res.add("signature.verify", "DSSE signature verifies with the key", "DSSE v1 protocol", ok, "valid", actual):
        return res
    try:
        statement = Statement.from_json(env.payload)
    except LabkitError as exc:
        res.add("statement.parse", "payload is an in-toto statement", "in-toto Statement v1", False, "", exc.message)
        return res
    res.add("statement.parse", "payload is an in-toto statement", "in-toto Statement v1", True)
    digests = [s.digest.get(image.algorithm) for s in statement.subjects]
    res.add("statement.subject", "statement subject is the image digest", "in-toto Statement v1",
            image.hex in digests, str(image), ", ".join(f"{image.algorithm}:{x}" for x in digests if x) or "(none)")
    return res


def explain_image_signatures(
    store: Store,
    image: Digest | str,
    key: VerifyingKey | None,
    *,
    annotations: Mapping[str, str] | None = None,
    trusted_root: Any = None,
    identity: Any = None,
    tlog: Any = None,
    docker_reference: str | None = None,
    require_bundle_format: bool = False,
) -> ImageSignatureReport:
    """Check every signature of `image` (bundle referrers, then ``.sig``); never raises on bad input.

    With `key`, signatures are checked against that public key; with a
    `trusted_root` too (a `labkit.verify.trustroot.TrustedRoot` or its JSON),
    each must also carry a log entry: a legacy layer's rekorBundle must be
    bound to this signature, key and payload digest, come from a log in the
    trusted root (by log ID) and carry a valid SET; a bundle goes through
    `labkit.verify.verifier.explain_bundle`. Without `trusted_root` the log
    is not checked (cosign's ``--insecure-ignore-tlog``).

    With ``key=None``, signatures are checked keyless: `trusted_root` and
    `identity` (a `labkit.verify.policy.Identity`) are required, and each
    signature goes through `explain_bundle`; `tlog` supplies the inclusion
    proofs legacy signatures lack (see `legacy_layer_bundle`).

    `docker_reference`: when given, a signature counts only if it names this
    repository (the legacy payload's ``critical.identity.docker-reference``,
    a bundle statement's subject name): the fix for cross-repository replay,
    which cosign does not check. `require_bundle_format`: only OCI 1.1
    bundle referrers count; none is a failure (``format.no_bundle``), never a
    fallback to the legacy ``.sig`` (the downgrade attack).
    """
    d = image if isinstance(image, Digest) else Digest.parse(image)
    report = top = ImageSignatureReport(f"signatures of {d}", image=d)
    if key is None and (trusted_root is None or identity is None):
        top.add("policy.present", "a key, or a trusted root and an identity, is given", "cosign verify", False,
                "--key, or identity and issuer", "neither")
        return report
    root = trusted_root
    if trusted_root is not None:
        from labkit.verify.trustroot import TrustedRoot

        if not isinstance(trusted_root, TrustedRoot):
            try:
                root = TrustedRoot.from_json(trusted_root)
            except LabkitError as exc:
                top.add("trust_root.parse", "the trusted root parses", _SPEC_ROOT, False, "TrustedRoot JSON",
                        exc.message)
                return report
    required = dict(annotations or {})
    try:
        bundles = list_bundles(store, d)
    except LabkitError as exc:
        bundles = []
        top.add("referrers.read", "read bundle referrers", "OCI distribution-spec v1.1 §Referrers", False, "", exc.message,
                detail=exc.message)
        if require_bundle_format:
            return report  # no fallback to .sig when the lookup fails either
    if require_bundle_format and not top.add(
        "format.bundle", "a Sigstore bundle refers to the image (new format required: no fallback to .sig)",
        "cosign BUNDLE_SPEC.md; OCI distribution-spec v1.1 §Referrers", bool(bundles), ">= 1 bundle referrer",
        f"{len(bundles)} (the legacy .sig is not consulted)",
    ):
        return report
    for ref, data in bundles:
        report.signatures.append(_check_bundle(ref, data, d, key, required, root, identity, docker_reference))
    if not require_bundle_format:
        tag = signature_tag(d)
        try:
            sigs = list_signatures(store, d)
            top.add("sig.read", f"read {tag}", _SPEC_SIG, True, "", f"{len(sigs)} layer(s)")
        except LabkitError as exc:
            sigs = []
            top.add("sig.read", f"read {tag}", _SPEC_SIG, False, "a valid signature manifest", exc.message,
                    detail=exc.message)
        for i, sig in enumerate(sigs):
            report.signatures.append(_check_legacy(sig, i, d, key, required, root, identity, tlog, docker_reference))
    found = len(report.signatures)
    top.add("signatures.found", "at least one signature exists", "cosign verify", found > 0, ">= 1", found)
    if found:
        top.add("signatures.verified", "at least one signature verifies", "cosign verify",
                bool(report.verified_signatures), ">= 1", len(report.verified_signatures))
    return report


def verify_image(
    store: Store,
    image: Digest | str,
    key: VerifyingKey | None,
    *,
    annotations: Mapping[str, str] | None = None,
    trusted_root: Any = None,
    identity: Any = None,
    tlog: Any = None,
    docker_reference: str | None = None,
    require_bundle_format: bool = False,
) -> ImageSignatureReport:
    """Like `explain_image_signatures`, but raise `VerificationError` naming the failed step.

    ``reason`` is `ImageSignatureReport.reason`: the first failed signature's
    step when none verified (e.g. ``payload.docker_reference``), else the
    image-level step (e.g. ``format.no_bundle``, ``signatures.found``).
    """
    report = explain_image_signatures(store, image, key, annotations=annotations, trusted_root=trusted_root,
                                      identity=identity, tlog=tlog, docker_reference=docker_reference,
                                      require_bundle_format=require_bundle_format)
    report.raise_for_failure()
    return report
