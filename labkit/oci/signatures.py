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
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from labkit._internal.jsonio import MAX_DOCUMENT_BYTES, JSONWritable, loads
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, TransparencyLogEntry, VerificationMaterial, public_key_hint
from labkit.errors import InputError, LabkitError, StoreError
from labkit.lab import Clock, SystemClock
from labkit.oci.annotations import signed_statement
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
    Statement,
    Subject,
    sign_envelope,
    simple_signing_payload,
)
from labkit.signers.base import Signer
from labkit.timestamping import Timestamper, add_timestamps

__all__ = [
    "ANN_BUNDLE", "ANN_CERTIFICATE", "ANN_CHAIN", "ANN_SIGNATURE", "BUNDLE_ARTIFACT_TYPE", "SignatureLayer", "Store",
    "append_signature_racy", "attach_bundle", "attach_signature", "list_bundles", "list_signatures",
    "make_signature_layer", "resolve_for_signing", "sign_image", "signature_manifest", "signature_tag",
]

SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
ANN_SIGNATURE = "dev.cosignproject.cosign/signature"
ANN_CERTIFICATE = "dev.sigstore.cosign/certificate"
ANN_CHAIN = "dev.sigstore.cosign/chain"
ANN_BUNDLE = "dev.sigstore.cosign/bundle"
_ANN_RFC3161 = "dev.sigstore.cosign/rfc3161timestamp"
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

Store = OCILayout | RegistryRepository


class _LogEntry(Protocol):
    def rekor_bundle(self) -> dict[str, Any]: ...

    def to_bundle_entry(self) -> TransparencyLogEntry: ...


class TransparencyLogLike(Protocol):
    """What signing needs from a log (`labkit.tlog.store.TransparencyLog` has it)."""

    def upload_hashedrekord(
        self, signature: bytes, public_key_or_cert_pem: bytes, artifact_sha256: bytes | str, *, algorithm: str = ...
    ) -> _LogEntry:
        """Log a hashedrekord entry for a signature over a digest."""

    def upload_dsse(self, envelope_json: bytes | str, verifiers: Sequence[bytes]) -> _LogEntry:
        """Log a DSSE entry for an envelope."""


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


def _signature_config(layers: Sequence[Descriptor]) -> bytes:
    """The image config cosign's ``.sig`` image has (go-containerregistry ``empty.Image`` plus layers)."""
    zero = "0001-01-01T00:00:00Z"
    doc: JSONWritable = {
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
    config = _signature_config(layers)
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
    return (isinstance(status, int) and status >= 500) or any(
        c in exc.message for c in ("BLOB_UNKNOWN", "DIGEST_INVALID")
    )


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


def _bundle_referrer_manifest(
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
    store: Store,
    subject: Descriptor,
    bundle: Bundle,
    *,
    predicate_type: str = COSIGN_SIGN_PREDICATE,
    clock: Clock | None = None,
) -> Descriptor:
    """Store `bundle` as a referrer of `subject` (OCI 1.1; tag-schema fallback on old registries)."""
    now = (clock or SystemClock()).now().astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    bundle_json = bundle.to_json().encode()
    manifest = _bundle_referrer_manifest(bundle_json, subject, predicate_type=predicate_type, created=now)
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
