"""Image verification: is an image signed, by whom, and is the signature logged? (cosign verify)

Reads what `labkit.oci.signatures` stores (legacy ``.sig`` layers, OCI 1.1
bundle referrers) and judges it with the bundle verifier: a bundle referrer
and a legacy keyless layer (as a v0.1 bundle, `labkit.verify.legacy`) go
through `labkit.verify.verifier.explain_bundle` once each; a key-signed legacy
layer is checked as cosign checks it offline (signature, then the
rekorBundle's binding and SET, with the verifier's own binding and SET
functions).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from labkit.bundle import Bundle, MessageSignature, TransparencyLogEntry
from labkit.checks import CheckResult, Recorder, Step, StepTable
from labkit.errors import LabkitError, VerificationError
from labkit.keys import VerifyingKey
from labkit.oci.annotations import check_annotations, statement_annotations
from labkit.oci.descriptor import Descriptor
from labkit.oci.digest import Digest
from labkit.oci.signatures import (
    ANN_BUNDLE,
    ANN_CHAIN,
    SignatureLayer,
    Store,
    list_bundles,
    list_signatures,
    signature_tag,
)
from labkit.payloads import Envelope, SimpleSigning, Statement, parse_simple_signing, verify_envelope
from labkit.verify.binding import bind_entry
from labkit.verify.legacy import LegacyFormatError, ProofSource, legacy_bundle, rekor_bundle_entry
from labkit.verify.policy import IdentityPolicy
from labkit.verify.tlog import verify_inclusion_promise
from labkit.verify.trustroot import TrustedRoot
from labkit.verify.verifier import explain_bundle

__all__ = ["ImageSignatureReport", "explain_image_signatures", "verify_image"]


def _rekor_entry(rekor: Mapping[str, Any]) -> TransparencyLogEntry | None:
    try:
        return rekor_bundle_entry(rekor)
    except LegacyFormatError:
        return None


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


def legacy_layer_bundle(sig: SignatureLayer, tlog: ProofSource | None = None) -> Bundle:
    """A legacy keyless signature layer (certificate, chain, rekorBundle) as a Sigstore bundle v0.1.

    This is how cosign's legacy keyless signatures are verified with bundle
    tooling (`labkit.verify.legacy.legacy_bundle`): the certificate chain comes
    from the annotations, the log entry and its SET from
    ``dev.sigstore.cosign/bundle``; with `tlog` the missing inclusion proof is
    fetched from the log. Raises `VerificationError` when a piece is missing or malformed.
    """

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
    try:
        entry = rekor_bundle_entry(rekor)
    except LegacyFormatError:
        raise fail("dev.sigstore.cosign/bundle is not a rekorBundle") from None
    return legacy_bundle(sig.payload, sig.signature, entry, certificates=chain, proofs=tlog)


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


_GHSA_BINDING = _SPEC_ENTRY + " (GHSA-whqx-f9j3-ch6m)"
_SET = "Rekor v1 SET over the RFC 8785 payload"

#: The steps of one legacy ``.sig`` layer: id -> (title, spec), in order.
LAYER_STEPS: StepTable = {
    "signature.present": ("layer carries dev.cosignproject.cosign/signature", _SPEC_SIG),
    "signature.verify": ("signature over the payload verifies with the key", _SPEC_SIG),
    "tlog.entries": ("layer carries a log entry (dev.sigstore.cosign/bundle)", _SPEC_SIG),
    "tlog.entry.parse": ("the annotation is a rekorBundle {{SignedEntryTimestamp, Payload}}", _SPEC_SIG),
    "binding.body": ("the log entry body is a supported kind", _SPEC_ENTRY),
    "binding.digest": ("the log entry records this payload's digest", _GHSA_BINDING),
    "binding.key": ("the log entry records this key", _GHSA_BINDING),
    "binding.signature": ("the log entry records this signature", _GHSA_BINDING),
    "tlog.log_id": ("the entry comes from a log in the trusted root", _SPEC_ROOT + " tlogs"),
    "tlog.inclusion_promise": ("the inclusion promise (SET) verifies with the log key", _SET),
    "tlog.key_validity": ("the log key was valid at the integrated time", _SPEC_ROOT + " validFor"),
    "certificate.present": ("layer carries a certificate and a log entry", _SPEC_SIG),
    "keyless.verify": (
        "certificate chain, identity, SET and signature verify (as a v0.1 bundle)",
        "Sigstore client spec",
    ),
    "payload.parse": ("payload is a cosign simple-signing document", "sigstore payload.go"),
    "payload.digest": ("payload names the image digest (docker-manifest-digest)", "cosign SimpleClaimVerifier"),
    "payload.docker_reference": (
        "payload's docker-reference is the repository verified (no cross-repo replay)",
        _SPEC_DOCKER_REF,
    ),
}

#: The steps of one bundle referrer: id -> (title, spec), in order.
BUNDLE_STEPS: StepTable = {
    "bundle.verify": ("bundle verifies for the image digest (signer, log, signature)", "Sigstore client spec"),
    "bundle.parse": ("referrer holds a Sigstore bundle", "protobuf-specs sigstore_bundle.proto"),
    "bundle.dsse": ("bundle content is a DSSE envelope", "cosign BUNDLE_SPEC.md"),
    "signature.verify": ("DSSE signature verifies with the key", "DSSE v1 protocol"),
    "statement.parse": ("payload is an in-toto statement", "in-toto Statement v1"),
    "statement.subject": ("statement subject is the image digest", "in-toto Statement v1"),
    "payload.docker_reference": ("the statement subject for this digest names the repository verified",
                                 _SPEC_DOCKER_REF + "; in-toto Statement v1 subject.name"),
}

#: The image-level steps: id -> (title, spec), in order (``{tag}``: the ``.sig`` tag read).
IMAGE_STEPS: StepTable = {
    "policy.present": ("a key, or a trusted root and an identity, is given", "cosign verify"),
    "trust_root.parse": ("the trusted root parses", _SPEC_ROOT),
    "referrers.read": ("read bundle referrers", "OCI distribution-spec v1.1 §Referrers"),
    "format.bundle": ("a Sigstore bundle refers to the image (new format required: no fallback to .sig)",
                      "cosign BUNDLE_SPEC.md; OCI distribution-spec v1.1 §Referrers"),
    "sig.read": ("read {tag}", _SPEC_SIG),
    "signatures.found": ("at least one signature exists", "cosign verify"),
    "signatures.verified": ("at least one signature verifies", "cosign verify"),
}

_Run = Recorder[CheckResult]


def _check_legacy_tlog(run: _Run, sig: SignatureLayer, key: VerifyingKey, root: TrustedRoot) -> None:
    """A key-signed layer's rekorBundle: bound to this signature, key and payload; trusted log; valid SET.

    This is what cosign checks offline for a legacy signature (the SET, no
    inclusion proof). The comparisons and the SET check are
    `labkit.verify.binding.bind_entry` and
    `labkit.verify.tlog.verify_inclusion_promise`, as for bundles.
    """
    raw = sig.descriptor.annotations.get(ANN_BUNDLE)
    run.check("tlog.entries", raw is not None, expected="a rekorBundle", actual="absent" if raw is None else "present")
    rekor = sig.rekor_bundle
    entry = _rekor_entry(rekor) if rekor is not None else None
    if entry is None:
        raise run.fail("tlog.entry.parse", "", expected="rekorBundle JSON", actual="malformed")
    run.passed("tlog.entry.parse", expected="rekorBundle JSON",
               actual=f"{entry.kind} {entry.version}, index {entry.log_index}")
    # protobuf-specs canonicalized_body: clients MUST check the entry records this signature
    # (and key and artifact): otherwise any logged entry vouches for any signature (GHSA-whqx-f9j3-ch6m).
    digest = hashlib.sha256(sig.payload).digest()
    binding = bind_entry(entry.kind, entry.version, entry.canonicalized_body, artifact_digest=("sha256", digest),
                         signer_der=key.der(), content=MessageSignature(digest=digest, signature=sig.signature))
    run.check("binding.body", not binding.error, expected="hashedrekord 0.0.1",
              actual=binding.error or f"{entry.kind} {entry.version}")
    for step_id, fld in (("binding.digest", binding.digest), ("binding.key", binding.key),
                         ("binding.signature", binding.signature)):
        assert fld is not None
        run.check(step_id, fld.matches, expected=fld.expected, actual=fld.actual)
    log = root.tlog(entry.log_id)
    if log is None:
        raise run.fail("tlog.log_id", "", expected=" or ".join(t.log_id.hex()[:16] for t in root.tlogs) or "(no logs)",
                       actual=entry.log_id.hex())
    run.passed("tlog.log_id", expected=" or ".join(t.log_id.hex()[:16] for t in root.tlogs) or "(no logs)",
               actual=entry.log_id.hex())
    try:
        itime = verify_inclusion_promise(entry, log)
    except LabkitError as exc:
        raise run.fail("tlog.inclusion_promise", "", expected=exc.details.get("expected", "a valid SET"),
                       actual=exc.details.get("actual", exc.message)) from None
    try:
        when = _dt.datetime.fromtimestamp(itime, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise run.fail("tlog.inclusion_promise", "", expected="a representable integratedTime", actual=itime) from None
    run.passed("tlog.inclusion_promise", expected="", actual=f"integrated {when.isoformat()}")
    # The SET makes integratedTime a verified time; the log key must have been valid then (validFor is closed).
    run.check("tlog.key_validity", log.valid_for.contains(when), expected=log.valid_for.describe(),
              actual=when.isoformat())


def _check_legacy(sig: SignatureLayer, index: int, image: Digest, key: VerifyingKey | None,
                  required: Mapping[str, str], trusted_root: TrustedRoot | None = None,
                  identity: IdentityPolicy | None = None, tlog: ProofSource | None = None,
                  docker_reference: str | None = None) -> CheckResult:
    def body(run: _Run) -> None:
        _legacy_signature(run, sig, key, trusted_root, identity, tlog)
        parsed = _legacy_payload(run, sig, image, docker_reference)
        check_annotations(run.result, required, parsed.annotations, source="simple-signing optional")

    return Recorder(CheckResult(f"sig[{index}] {sig.descriptor.digest.short()}"), LAYER_STEPS).run(
        body, skip_unreached=False
    )


def _legacy_signature(run: _Run, sig: SignatureLayer, key: VerifyingKey | None, trusted_root: TrustedRoot | None,
                      identity: IdentityPolicy | None, tlog: ProofSource | None) -> None:
    run.check("signature.present", bool(sig.signature), expected="base64 signature",
              actual="missing or not base64" if not sig.signature else "present")
    if key is not None:
        try:
            key.verify(sig.signature, sig.payload)
            ok, actual = True, "valid"
        except LabkitError as exc:
            ok, actual = False, exc.message
        run.check("signature.verify", ok, expected="valid", actual=actual)
        if trusted_root is not None:
            _check_legacy_tlog(run, sig, key, trusted_root)
        return
    try:
        bundle = legacy_layer_bundle(sig, tlog)
    except VerificationError as exc:
        raise run.fail(
            "certificate.present", "", expected="certificate, chain, rekorBundle", actual=exc.message
        ) from None
    run.passed("certificate.present")
    result = explain_bundle(bundle, sig.payload, trusted_root, policy=identity)
    run.check("keyless.verify", result.verified, expected="verified", actual=result.reason or "verified")


def _legacy_payload(run: _Run, sig: SignatureLayer, image: Digest, docker_reference: str | None) -> SimpleSigning:
    try:
        parsed = parse_simple_signing(sig.payload)
    except LabkitError as exc:
        raise run.fail("payload.parse", "", expected="simple-signing JSON", actual=exc.message) from None
    run.passed("payload.parse")
    run.check("payload.digest", parsed.manifest_digest == str(image), expected=str(image),
              actual=parsed.manifest_digest)
    if docker_reference is not None:
        run.check("payload.docker_reference", parsed.docker_reference == docker_reference,
                  expected=docker_reference, actual=parsed.docker_reference)
    return parsed


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
                  required: Mapping[str, str], trusted_root: TrustedRoot | None = None,
                  identity: IdentityPolicy | None = None, docker_reference: str | None = None) -> CheckResult:
    run: _Run = Recorder(CheckResult(f"bundle {ref.digest.short()}"), BUNDLE_STEPS)
    run.run(lambda r: _bundle_signature(r, data, image, key, trusted_root, identity), skip_unreached=False)
    res = run.result
    if res.verified and required:
        check_annotations(res, required, _bundle_annotations(data, image), source="statement subject annotations")
    if res.verified and docker_reference is not None:
        names = _subject_names(data, image)
        run.run(lambda r: r.check("payload.docker_reference", docker_reference in names, expected=docker_reference,
                                  actual=", ".join(names) or "(no subject name)"), skip_unreached=False)
    return res


def _bundle_signature(run: _Run, data: bytes, image: Digest, key: VerifyingKey | None,
                      trusted_root: TrustedRoot | None, identity: IdentityPolicy | None) -> None:
    if key is None or trusted_root is not None:
        result = explain_bundle(data, str(image), trusted_root, policy=identity, key=key)
        run.check("bundle.verify", result.verified, expected="verified", actual=result.reason or "verified")
        return
    try:
        bundle = Bundle.from_json(data)
    except LabkitError as exc:
        raise run.fail("bundle.parse", "", expected="bundle v0.3", actual=exc.message) from None
    run.passed("bundle.parse")
    env = bundle.dsse_envelope
    run.check("bundle.dsse", env is not None, expected="dsseEnvelope",
              actual="messageSignature" if env is None else "dsseEnvelope")
    assert isinstance(env, Envelope)
    try:
        verify_envelope(env, key)
        ok, actual = True, "valid"
    except LabkitError as exc:
        ok, actual = False, exc.message
    run.check("signature.verify", ok, expected="valid", actual=actual)
    try:
        statement = Statement.from_json(env.payload)
    except LabkitError as exc:
        raise run.fail("statement.parse", "", expected="", actual=exc.message) from None
    run.passed("statement.parse")
    digests = [s.digest.get(image.algorithm) for s in statement.subjects]
    run.check("statement.subject", image.hex in digests, expected=str(image),
              actual=", ".join(f"{image.algorithm}:{x}" for x in digests if x) or "(none)")


def _read_legacy(store: Store, image: Digest, top: Recorder[ImageSignatureReport]) -> list[SignatureLayer]:
    """The layers of the image's ``.sig`` manifest (none when it cannot be read: a failed ``sig.read``)."""
    top.title_args = {"tag": signature_tag(image)}
    try:
        sigs = list_signatures(store, image)
        top.passed("sig.read", expected="", actual=f"{len(sigs)} layer(s)")
    except LabkitError as exc:
        sigs = []
        top.fail("sig.read", exc.message, expected="a valid signature manifest", actual=exc.message)
    return sigs


def explain_image_signatures(
    store: Store,
    image: Digest | str,
    key: VerifyingKey | None,
    *,
    annotations: Mapping[str, str] | None = None,
    trusted_root: TrustedRoot | bytes | str | None = None,
    identity: IdentityPolicy | None = None,
    tlog: ProofSource | None = None,
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
    report = ImageSignatureReport(f"signatures of {d}", image=d)
    top = Recorder(report, IMAGE_STEPS)
    if key is None and (trusted_root is None or identity is None):
        top.fail("policy.present", "", expected="--key, or identity and issuer", actual="neither")
        return report
    root = trusted_root if isinstance(trusted_root, TrustedRoot) else None
    if trusted_root is not None and not isinstance(trusted_root, TrustedRoot):
        try:
            root = TrustedRoot.from_json(trusted_root)
        except LabkitError as exc:
            top.fail("trust_root.parse", "", expected="TrustedRoot JSON", actual=exc.message)
            return report
    required = dict(annotations or {})
    try:
        bundles = list_bundles(store, d)
    except LabkitError as exc:
        bundles = []
        top.fail("referrers.read", exc.message, expected="", actual=exc.message)
        if require_bundle_format:
            return report  # no fallback to .sig when the lookup fails either
    if require_bundle_format and not bundles:
        top.fail("format.bundle", "", expected=">= 1 bundle referrer",
                 actual=f"{len(bundles)} (the legacy .sig is not consulted)")
        return report
    if require_bundle_format:
        top.passed("format.bundle", expected=">= 1 bundle referrer",
                   actual=f"{len(bundles)} (the legacy .sig is not consulted)")
    for ref, data in bundles:
        report.signatures.append(_check_bundle(ref, data, d, key, required, root, identity, docker_reference))
    if not require_bundle_format:
        for i, sig in enumerate(_read_legacy(store, d, top)):
            report.signatures.append(_check_legacy(sig, i, d, key, required, root, identity, tlog, docker_reference))
    found = len(report.signatures)
    if found:
        top.passed("signatures.found", expected=">= 1", actual=found)
    else:
        top.fail("signatures.found", "", expected=">= 1", actual=found)
    if found:
        if report.verified_signatures:
            top.passed("signatures.verified", expected=">= 1", actual=len(report.verified_signatures))
        else:
            firsts = dict.fromkeys(f.id for f in (s.failed_step for s in report.signatures) if f is not None)
            detail = f"none verifies: each stops at {', '.join(firsts)}, the reason the verdict names" if firsts else ""
            top.fail("signatures.verified", detail, expected=">= 1", actual=len(report.verified_signatures))
    return report


def verify_image(
    store: Store,
    image: Digest | str,
    key: VerifyingKey | None,
    *,
    annotations: Mapping[str, str] | None = None,
    trusted_root: TrustedRoot | bytes | str | None = None,
    identity: IdentityPolicy | None = None,
    tlog: ProofSource | None = None,
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
