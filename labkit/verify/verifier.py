"""Full Sigstore bundle verification, one explained step at a time.

`explain_bundle` runs every check in a fixed order and returns a
`VerificationResult`; it never raises on bad input (a malformed bundle, trust
root or key is a failed step). It stops at the first failed step and lists
the checks it did not reach as skipped. `verify_bundle` is built on it and
raises `BundleVerificationError` whose ``reason`` names the failed check.

Order (each step's id is stable; see `STEPS`):

1. the trusted root parses and each of its CA/TSA chains verifies up to its
   last certificate, the anchor; the bundle parses; the material fits the request
   (certificate + identity policy, or a managed key);
2. the artifact matches what the bundle signs, and the signature verifies;
3. every log entry is bound to this bundle (digest, key, signature), comes
   from a trusted log, is proven included (RFC 9162) under a checkpoint the
   log signed, and its inclusion promise verifies when present;
4. RFC 3161 timestamps verify; at least one verified time exists (a verified
   promise's integrated time, or a verified timestamp; never an unverified
   field), none lies more than `MAX_CLOCK_SKEW` after the verifier's clock
   (reason ``time.in_future``), and the log key was valid then;
5. the certificate was valid at every verified time, chains to a trusted CA
   then, is a code-signing leaf, carries a valid SCT, and matches the policy.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit._internal.fsutil import read_bytes
from labkit.bundle import BUNDLE_MEDIA_TYPES, Bundle, InclusionProof, MessageSignature, TransparencyLogEntry
from labkit.checks import Recorder, Stop
from labkit.errors import InputError, LabkitError
from labkit.keys import VerifyingKey, load_public_key
from labkit.lab import Clock, SystemClock
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Envelope, Statement
from labkit.verify._certs import (
    build_chain,
    check_authority_chains,
    check_leaf_profile,
    is_self_signed,
    load_certificate,
    verify_scts,
)
from labkit.verify.binding import bind_entry
from labkit.verify.lab_material import lab_note
from labkit.verify.policy import IdentityPolicy, certificate_sans
from labkit.verify.steps import VerificationResult
from labkit.verify.timestamp import MAX_TIMESTAMPS, verify_timestamp
from labkit.verify.tlog import verify_checkpoint, verify_inclusion_promise, verify_inclusion_proof
from labkit.verify.trustroot import TransparencyLogInstance, TrustedRoot

__all__ = ["Artifact", "REASONS", "STEPS", "explain_bundle", "verify_bundle"]

_SPEC_BUNDLE = "protobuf-specs sigstore_bundle.proto"
_SPEC_ROOT = "protobuf-specs sigstore_trustroot.proto"
_SPEC_FULCIO = "Fulcio certificate specification; RFC 5280 §6"
_SPEC_REKOR = "protobuf-specs sigstore_rekor.proto TransparencyLogEntry"

#: Every step id in the order it runs, with its title and the spec it enforces.
STEPS: dict[str, tuple[str, str]] = {
    "trust_root.parse": ("The trusted root parses", _SPEC_ROOT),
    "bundle.parse": ("The bundle parses (JSON, media type, fields)", _SPEC_BUNDLE),
    "material.signer": ("The signer material fits the request (certificate + identity, or key)", _SPEC_BUNDLE),
    "artifact.digest": ("The artifact is what the bundle signs", _SPEC_BUNDLE + " MessageSignature / in-toto subject"),
    "signature": ("The signature verifies with the signer's key", "DSSE v1 PAE; Sigstore client spec"),
    "tlog.entries": ("The bundle carries a transparency log entry", _SPEC_REKOR),
    "binding.body": ("The log entry body is a supported kind", _SPEC_REKOR + " canonicalized_body"),
    "binding.digest": ("The log entry records this artifact", _SPEC_REKOR + " (GHSA-whqx-f9j3-ch6m)"),
    "binding.key": ("The log entry records this key or certificate", _SPEC_REKOR + " (GHSA-whqx-f9j3-ch6m)"),
    "binding.signature": ("The log entry records this signature", _SPEC_REKOR + " canonicalized_body MUST"),
    "tlog.log_id": ("The entry comes from a trusted log", _SPEC_ROOT + " tlogs"),
    "tlog.inclusion_proof": ("The inclusion proof leads to the root hash", "RFC 9162 §2.1.3.2"),
    "tlog.checkpoint.format": ("The checkpoint is a signed note of origin, size, root", "C2SP tlog-checkpoint"),
    "tlog.checkpoint.signature": ("The log signed the checkpoint", "C2SP signed-note"),
    "tlog.checkpoint.root": ("The checkpoint's size and root are the proof's", "C2SP tlog-checkpoint; RFC 9162"),
    "tlog.inclusion_promise": ("The inclusion promise (SET) verifies", "Rekor v1 SET over RFC 8785 payload"),
    "timestamp.rfc3161": ("RFC 3161 timestamps verify with a trusted TSA", "RFC 3161; " + _SPEC_ROOT),
    "time.verified_source": ("A verified signing time exists", "Sigstore client spec: established time"),
    "tlog.key_validity": ("The log key was valid at the verified time", _SPEC_ROOT + " validFor (closed)"),
    "certificate.validity": ("The certificate was valid at the verified time", "RFC 5280 §4.1.2.5"),
    "certificate.chain": ("The certificate chains to a trusted CA at that time", _SPEC_FULCIO),
    "certificate.profile": ("The certificate is a code-signing leaf, not a CA", _SPEC_FULCIO),
    "certificate.sct": ("An embedded SCT verifies with a trusted CT log", "RFC 6962 §3.2-3.3"),
    "policy.identity": ("The signer's identity and OIDC issuer match the policy",
                        "Fulcio certificate specification (SAN, issuer)"),
}

#: Every stable reason code: the step that reports it and what it means. Pipelines may match these.
REASONS: dict[str, tuple[str, str]] = {
    "trust_root.invalid": ("trust_root.parse", "the trusted root is malformed (e.g. a validFor without start)"),
    "trust_root.chain": (
        "trust_root.parse",
        "a CA or TSA chain of the trusted root does not verify up to its last certificate, or holds a leaf",
    ),
    "bundle.parse": ("bundle.parse", "the bundle is not valid JSON, has an unknown media type or a malformed field"),
    "key.invalid": ("material.signer", "the managed key given for verification is unusable"),
    "material.no_key": ("material.signer", "a key was given but the bundle is signed with a certificate"),
    "material.no_certificate": ("material.signer", "an identity was given but the bundle is signed with a key"),
    "material.certificate": ("material.signer", "the signing certificate does not parse or is unusable"),
    "material.chain_has_root": ("material.signer", "the bundle ships a root certificate of its own"),
    "material.dsse_signatures": ("material.signer", "the DSSE envelope does not carry exactly one signature"),
    "material.key_hint": ("material.signer", "the bundle's key hint is not the DSSE signature's keyid"),
    "policy.missing": ("material.signer", "no identity policy for a certificate-signed bundle"),
    "artifact.input": ("artifact.digest", "the artifact (file or sha256 digest) could not be read"),
    "artifact.digest": ("artifact.digest", "the artifact is not what the bundle signs"),
    "artifact.digest_algorithm": ("artifact.digest", "the bundle signs another digest than the one given"),
    "artifact.statement": ("artifact.digest", "the in-toto statement is malformed"),
    "artifact.subject": ("artifact.digest", "no in-toto subject has the artifact's digest"),
    "signature": ("signature", "the signature does not verify with the signer's key"),
    "signature.needs_artifact": ("signature", "an Ed25519 signature needs the artifact, not its digest"),
    "tlog.missing": ("tlog.entries", "the bundle has no transparency log entry"),
    "tlog.duplicate": ("tlog.entries", "the bundle repeats a log entry"),
    "binding.body": ("binding.body", "the entry body is unreadable or of an unsupported kind"),
    "binding.digest": ("binding.digest", "the entry records another artifact"),
    "binding.key": ("binding.key", "the entry records another key or certificate"),
    "binding.signature": ("binding.signature", "the entry records another signature"),
    "tlog.unknown_log": ("tlog.log_id", "the entry comes from a log that is not in the trusted root"),
    "tlog.inclusion_proof.missing": ("tlog.inclusion_proof", "the entry has no inclusion proof"),
    "tlog.inclusion_proof": ("tlog.inclusion_proof", "the inclusion proof does not lead to its root"),
    "tlog.log_index": ("tlog.inclusion_proof", "a Rekor v2 entry's index is not the proven index"),
    "tlog.checkpoint.missing": ("tlog.checkpoint.format", "the inclusion proof has no checkpoint"),
    "tlog.checkpoint.format": ("tlog.checkpoint.format", "the checkpoint is not a well-formed signed note"),
    "tlog.checkpoint.signature": (
        "tlog.checkpoint.signature",
        "no signature by the log on the checkpoint, or an invalid one",
    ),
    "tlog.checkpoint.origin": ("tlog.checkpoint.signature", "a Rekor v2 checkpoint's origin is not the trusted log's"),
    "tlog.checkpoint.root": ("tlog.checkpoint.root", "the checkpoint is for another tree size or root"),
    "tlog.inclusion_promise": ("tlog.inclusion_promise", "the inclusion promise (SET) does not verify"),
    "tlog.inclusion_promise.missing": ("tlog.inclusion_promise", "a v0.1 bundle lacks its inclusion promise"),
    "timestamp.too_many": ("timestamp.rfc3161", "more RFC 3161 timestamps than allowed"),
    "timestamp.duplicate": ("timestamp.rfc3161", "a timestamp is repeated"),
    "timestamp.malformed": ("timestamp.rfc3161", "a timestamp does not parse or uses unknown algorithms"),
    "timestamp.imprint_mismatch": ("timestamp.rfc3161", "a timestamp is over something other than the signature"),
    "timestamp.untrusted": ("timestamp.rfc3161", "a timestamp is signed by a TSA not in the trusted root"),
    "timestamp.tsa_validity": ("timestamp.rfc3161", "the timestamp is outside the TSA's trusted-root window"),
    "timestamp.tsa_cert_validity": ("timestamp.rfc3161", "the timestamp is outside the TSA certificates' validity"),
    "timestamp.signature": ("timestamp.rfc3161", "the timestamp's signature does not verify"),
    "timestamp.threshold": ("timestamp.rfc3161", "fewer verified timestamps than the timestamp-only policy requires"),
    "time.no_verified_source": ("time.verified_source", "no verified signing time (promise or timestamp)"),
    "time.in_future": (
        "time.verified_source",
        "a verified signing time is later than now plus the clock-skew allowance",
    ),
    "tlog.key_validity": ("tlog.key_validity", "the log key was not valid at the signing time"),
    "certificate.validity": ("certificate.validity", "the signing time is outside the certificate's validity"),
    "certificate.chain": ("certificate.chain", "the certificate does not chain to a trusted CA at the signing time"),
    "certificate.profile": ("certificate.profile", "the certificate is not a code-signing leaf"),
    "certificate.sct": ("certificate.sct", "no embedded SCT verifies with a trusted CT log"),
    "policy.identity": ("policy.identity", "the signer identity is not the expected one"),
    "policy.issuer": ("policy.identity", "the OIDC issuer is not the expected one"),
    "policy.extension": (
        "policy.identity",
        "a Fulcio extension (e.g. a GitHub workflow claim) is not the expected one",
    ),
    "internal_error": ("", "an unexpected error; the bundle is rejected (fail closed)"),
    "incomplete": ("", "the verification did not run to its end; the bundle is rejected"),
}

#: How far a verified signing time (a promise's integrated time, a timestamp's genTime) may lie after the
#: verifier's "now" (its clock: the system clock, or the lab's injected one): a signed time beyond it is refused
#: (reason ``time.in_future``). One minute, as sigstore-rust's default clock-skew tolerance.
MAX_CLOCK_SKEW = _dt.timedelta(seconds=60)

#: Steps that only apply to certificates (skipped, with a reason, for managed keys).
_CERT_STEPS = ("certificate.validity", "certificate.chain", "certificate.profile", "certificate.sct", "policy.identity")
#: What `cryptography` raises on a certificate whose parts are malformed.
_CERT_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType)
_HASH_NAMES = {"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}
_SHA256_RE = re.compile(r"^sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Artifact:
    """The thing that was signed: its SHA-256 digest and, when known, its bytes."""

    sha256: bytes
    data: bytes | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> Artifact:
        """An artifact from its bytes."""
        return cls(hashlib.sha256(data).digest(), bytes(data))

    @classmethod
    def from_digest(cls, text: str) -> Artifact:
        """``sha256:<64 lowercase hex>``."""
        m = _SHA256_RE.match(text.strip().lower())
        if m is None:
            raise InputError(f"not a sha256 digest (sha256:<64 hex>): {text!r}")
        return cls(bytes.fromhex(m.group(1)))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Artifact:
        """An artifact from a file's bytes."""
        return cls.from_bytes(read_bytes(path, "artifact"))

    @property
    def display(self) -> str:
        """The artifact as ``sha256:<hex>``."""
        return f"sha256:{self.sha256.hex()}"

    def digest(self, hash_name: str) -> bytes | None:
        """The artifact's digest with `hash_name` (None if only another digest is known)."""
        if hash_name == "sha256":
            return self.sha256
        if self.data is None or hash_name not in ("sha384", "sha512"):
            return None
        return hashlib.new(hash_name, self.data).digest()


ArtifactInput = Artifact | bytes | str | os.PathLike[str]
BundleInput = Bundle | bytes | str
RootInput = TrustedRoot | bytes | str | None
KeyInput = VerifyingKey | bytes | str | None


_Run = Recorder[VerificationResult]


@dataclass(frozen=True)
class _Request:
    """What the caller asked: the inputs as given, and the verifier's "now"."""

    bundle: BundleInput
    artifact: ArtifactInput
    root: RootInput
    policy: IdentityPolicy | None
    key: KeyInput
    now: _dt.datetime
    #: 0: a transparency-log entry is required; N > 0: the timestamp-only policy (N verified timestamps).
    signed_timestamps: int = 0


@dataclass(frozen=True)
class _Signer:
    """The signer material the bundle carries: its key, the DER it is logged as, and the leaf certificate."""

    key: VerifyingKey
    der: bytes
    leaf: x509.Certificate | None = None


@dataclass(frozen=True)
class _Signed:
    """Everything established before the log entries: root, bundle, signer and the artifact's digest."""

    request: _Request
    root: TrustedRoot
    bundle: Bundle
    signer: _Signer
    artifact: Artifact
    hash_name: str
    artifact_digest: bytes

    @property
    def content(self) -> MessageSignature | Envelope:
        return self.bundle.content

    @property
    def signature(self) -> bytes:
        content = self.content
        return content.signatures[0].sig if isinstance(content, Envelope) else content.signature


@dataclass(frozen=True)
class _LogTime:
    """What one log entry established: its trusted log and, when it carries a verified promise, its time."""

    log: TransparencyLogInstance
    integrated: _dt.datetime | None
    source: str = ""


@dataclass(frozen=True)
class _Times:
    """Every verified time: per log entry, per timestamp, and all of them sorted."""

    entries: tuple[_LogTime, ...]
    tsa: tuple[_dt.datetime, ...]
    all: tuple[_dt.datetime, ...]


def _load_artifact(artifact: ArtifactInput | None) -> Artifact:
    if artifact is None:
        raise InputError("no artifact was given: pass the signed file, its bytes, or 'sha256:<hex>' of it")
    if isinstance(artifact, Artifact):
        return artifact
    if isinstance(artifact, (bytes, bytearray, memoryview)):
        return Artifact.from_bytes(bytes(artifact))
    if isinstance(artifact, str):
        return Artifact.from_digest(artifact)
    if isinstance(artifact, os.PathLike):
        return Artifact.from_path(artifact)
    raise InputError(f"artifact must be bytes, a Path or 'sha256:<hex>', not {type(artifact).__name__}")


def _utc(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)


def explain_bundle(
    bundle: BundleInput,
    artifact: ArtifactInput,
    trusted_root: RootInput = None,
    policy: IdentityPolicy | None = None,
    key: KeyInput = None,
    *,
    clock: Clock | None = None,
    signed_timestamps: int = 0,
) -> VerificationResult:
    """Verify a bundle step by step; never raises on bad input.

    `bundle`: a `Bundle` or its JSON. `artifact`: the artifact's bytes, a
    `Path` to it, an `Artifact`, or ``"sha256:<hex>"``. `trusted_root`: a
    `TrustedRoot` or its JSON (None: the pinned public-good root). `policy`:
    an `Identity` (or the explicit `AnyIdentity`) for certificate bundles.
    `key`: a `VerifyingKey` or PEM/DER bytes for managed-key bundles.
    `clock`: the verifier's "now" for refusing signed times in the future (default: the system clock;
    lab code may pass its `Lab.clock`).
    `signed_timestamps`: 0 (the default) requires a transparency-log entry; N > 0 is the timestamp-only
    policy (what ``gh attestation verify`` applies to GitHub's private instance): a bundle without a log
    entry is accepted when at least N of its RFC 3161 timestamps verify, and N are required in any case.
    """
    if signed_timestamps < 0 or signed_timestamps > MAX_TIMESTAMPS:
        raise InputError(f"the signed-timestamp threshold must be 0..{MAX_TIMESTAMPS}, not {signed_timestamps}")
    run: _Run = Recorder(VerificationResult(), STEPS)
    try:
        now = (clock or SystemClock()).now()
        _explain(run, _Request(bundle, artifact, trusted_root, policy, key, now, signed_timestamps))
        run.result.complete = True
    except Stop:
        pass
    except Exception as exc:  # noqa: BLE001 - fail closed: an unexpected error is a failed step, never a pass
        done = {s.id for s in run.result.steps}
        step_id = next((s for s in STEPS if s not in done), "policy.identity")
        run.fail(step_id, f"unexpected {type(exc).__name__}: {exc}", reason="internal_error")
    run.finish_skipped()
    return run.result


def verify_bundle(
    bundle: BundleInput,
    artifact: ArtifactInput,
    trusted_root: RootInput = None,
    policy: IdentityPolicy | None = None,
    key: KeyInput = None,
    *,
    clock: Clock | None = None,
    signed_timestamps: int = 0,
) -> VerificationResult:
    """Verify a bundle; raise `BundleVerificationError` (a `VerificationError`) naming the failed step."""
    result = explain_bundle(bundle, artifact, trusted_root, policy, key, clock=clock,
                            signed_timestamps=signed_timestamps)
    result.raise_for_failure()
    return result


def _explain(run: _Run, request: _Request) -> None:
    """The walk: one call per stage of `STEPS`, each stopping the run (`Stop`) at its first failure."""
    root = _trust_root(run, request.root)
    bundle = _bundle(run, request.bundle)
    signer = _signer_material(run, bundle, request)
    signed = _artifact(run, request, root, bundle, signer)
    _signature(run, signed)
    entries = _log_entries(run, signed)
    times = _times(run, signed, entries, _timestamps(run, signed))
    _log_key_validity(run, times)
    if signer.leaf is None:
        for step_id in _CERT_STEPS:
            run.skip(step_id, "managed key: no certificate to check")
        run.result.signer = f"key sha256:{signer.key.key_id().hex()}"
        return
    _certificate(run, signed, signer.leaf, times.all)
    _policy(run, request.policy, signer.leaf)


# -- trust root and bundle ------------------------------------------------------------------------


def _trust_root(run: _Run, root_in: RootInput) -> TrustedRoot:
    try:
        if isinstance(root_in, TrustedRoot):
            root = root_in
        elif root_in is None:
            root = TrustedRoot.production()
        else:
            root = TrustedRoot.from_json(root_in)
    except LabkitError as exc:
        raise run.fail("trust_root.parse", exc.message, reason="trust_root.invalid") from None
    derived = root.derived
    if derived.trust_detail is None:  # the root's chains and its line depend on the root alone: once per root
        try:
            # protobuf-specs: each CA/TSA chain ends with its trust anchor; every link up to it must verify.
            check_authority_chains(root)
        except LabkitError as exc:
            raise run.fail("trust_root.parse", exc.message, reason="trust_root.chain",
                           expected=exc.details.get("expected"), actual=exc.details.get("actual")) from None
        derived.trust_detail = (
            (root.source or f"{len(root.tlogs)} logs, {len(root.certificate_authorities)} CAs") + lab_note(root)
        )
    run.passed("trust_root.parse", derived.trust_detail)
    return root


def _bundle(run: _Run, bundle_in: BundleInput) -> Bundle:
    try:
        bundle = bundle_in if isinstance(bundle_in, Bundle) else Bundle.from_json(bundle_in)
        if bundle.media_type not in BUNDLE_MEDIA_TYPES:
            raise InputError(f"unsupported bundle media type {bundle.media_type!r}")
        # protobuf-specs VerificationMaterial: v0.3 carries a single leaf `certificate`; the
        # `x509CertificateChain` is for v0.1/v0.2 only.
        if bundle.version >= (0, 3) and bundle.verification_material.certificate_chain is not None:
            raise InputError("a v0.3 bundle must carry its signing certificate as `certificate`, not a chain")
    except LabkitError as exc:
        raise run.fail("bundle.parse", exc.message, reason="bundle.parse") from None
    except (ValueError, TypeError, AttributeError) as exc:  # a hand-built Bundle with wrong field types
        raise run.fail("bundle.parse", f"bundle is malformed: {exc}", reason="bundle.parse") from None
    run.passed("bundle.parse", bundle.media_type)
    return bundle


# -- signer material ------------------------------------------------------------------------------


def _signer_material(run: _Run, bundle: Bundle, request: _Request) -> _Signer:
    content = bundle.content
    if isinstance(content, Envelope) and len(content.signatures) != 1:
        raise run.fail(
            "material.signer", "a bundle's DSSE envelope must carry exactly one signature",
            reason="material.dsse_signatures", expected=1, actual=len(content.signatures),
        )
    if request.key is not None:
        return _managed_key(run, bundle, request.key)
    return _certificate_material(run, bundle, request.policy)


def _managed_key(run: _Run, bundle: Bundle, key_in: VerifyingKey | bytes | str) -> _Signer:
    vm, content = bundle.verification_material, bundle.content
    try:
        if isinstance(key_in, VerifyingKey):
            signer_key = key_in
        else:
            signer_key = load_public_key(key_in.encode() if isinstance(key_in, str) else bytes(key_in))
    except LabkitError:
        # Say what is wrong in our words; the parser's own message (offsets, symbols) helps nobody here.
        raise run.fail(
            "material.signer", "the given key is not a usable public key (PEM PUBLIC KEY or DER SubjectPublicKeyInfo "
            "of an ECDSA, Ed25519 or RSA key); check that it is the signer's public key file, whole and unaltered",
            reason="key.invalid", expected="a PEM or DER public key", actual="data that does not parse as one",
        ) from None
    if vm.public_key_hint is None:
        raise run.fail(
            "material.signer",
            "a key was given but the bundle is signed with a certificate; verify it with an identity policy",
            reason="material.no_key",
            expected="publicKey material",
            actual="certificate material",
        )
    if isinstance(content, Envelope) and vm.public_key_hint and content.signatures[0].keyid and (
        content.signatures[0].keyid != vm.public_key_hint
    ):
        # protobuf-specs Bundle: with a key hint and a DSSE envelope, the key hints MUST be exactly the same.
        raise run.fail(
            "material.signer", "the bundle's key hint is not the DSSE signature's keyid",
            reason="material.key_hint", expected=vm.public_key_hint, actual=content.signatures[0].keyid,
        )
    run.passed(
        "material.signer", f"managed key {signer_key.algorithm.value}", actual=f"sha256:{signer_key.key_id().hex()}"
    )
    return _Signer(signer_key, signer_key.der())


def _certificate_material(run: _Run, bundle: Bundle, policy: IdentityPolicy | None) -> _Signer:
    vm = bundle.verification_material
    der = vm.leaf_certificate
    if der is None:
        raise run.fail(
            "material.signer", "the bundle is signed with a managed key; pass the key (--key) instead of an identity",
            reason="material.no_certificate", expected="a certificate", actual="publicKey material",
        )
    try:
        leaf = load_certificate(der)
        chain_extra = [load_certificate(c) for c in (vm.certificate_chain or [])[1:]]
        roots_in_chain = [c for c in chain_extra if is_self_signed(c)]
        leaf_is_root = is_self_signed(leaf)
    except LabkitError as exc:
        raise run.fail("material.signer", exc.message, reason="material.certificate") from None
    except _CERT_ERRORS as exc:
        raise run.fail("material.signer", f"a certificate is malformed: {exc}", reason="material.certificate") from None
    if roots_in_chain or leaf_is_root:
        # The trust anchor comes from the trusted root only; a bundle that ships its own root is refused.
        raise run.fail(
            "material.signer", "the bundle's certificate chain contains a root (self-signed) certificate",
            reason="material.chain_has_root", expected="leaf and intermediates only",
            actual=(roots_in_chain or [leaf])[0].subject.rfc4514_string() or "(empty subject)",
        )
    try:
        _ = leaf.extensions  # malformed extensions must fail here, not deep inside a later check
        signer_key = VerifyingKey.from_key(leaf.public_key())  # type: ignore[arg-type]
    except (LabkitError, *_CERT_ERRORS) as exc:
        msg = exc.message if isinstance(exc, LabkitError) else str(exc)
        raise run.fail(
            "material.signer", f"the certificate is unusable: {msg}", reason="material.certificate"
        ) from None
    if policy is None:
        raise run.fail(
            "material.signer", "no identity policy was given for a certificate-signed bundle",
            reason="policy.missing", expected="an Identity policy", actual="none",
        )
    run.passed("material.signer", "certificate", actual=f"sha256:{hashlib.sha256(der).hexdigest()}")
    return _Signer(signer_key, der, leaf)


# -- artifact and signature -----------------------------------------------------------------------


def _artifact(run: _Run, request: _Request, root: TrustedRoot, bundle: Bundle, signer: _Signer) -> _Signed:
    try:
        artifact = _load_artifact(request.artifact)
    except LabkitError as exc:
        raise run.fail("artifact.digest", exc.message, reason="artifact.input") from None
    content = bundle.content
    hash_name, artifact_digest = "sha256", artifact.sha256
    if isinstance(content, MessageSignature):
        hash_name, artifact_digest = _message_digest(run, content, artifact)
    elif content.payload_type == INTOTO_PAYLOAD_TYPE:
        _statement_subject(run, content, artifact)
    else:
        got = hashlib.sha256(content.payload).hexdigest()
        if got != artifact.sha256.hex():
            raise run.fail("artifact.digest", "the DSSE payload is not the artifact", reason="artifact.digest",
                           expected=f"sha256:{got}", actual=artifact.display)
        run.passed("artifact.digest", "DSSE payload matches", expected=artifact.display, actual=artifact.display)
    return _Signed(request, root, bundle, signer, artifact, hash_name, artifact_digest)


def _message_digest(run: _Run, content: MessageSignature, artifact: Artifact) -> tuple[str, bytes]:
    hash_name, artifact_digest = "sha256", artifact.sha256
    if content.digest or content.algorithm:
        hash_name = _HASH_NAMES.get(content.algorithm, "")
        if not hash_name:
            raise run.fail(
                "artifact.digest",
                f"unsupported message digest algorithm {content.algorithm!r}",
                reason="artifact.digest",
                expected="SHA2_256, SHA2_384 or SHA2_512",
                actual=content.algorithm,
            )
        found = artifact.digest(hash_name)
        if found is None:
            raise run.fail("artifact.digest", f"the bundle signs a {hash_name} digest; give the artifact itself",
                           reason="artifact.digest_algorithm", expected=hash_name, actual="sha256 digest only")
        artifact_digest = found
        if content.digest != artifact_digest:
            raise run.fail("artifact.digest", "the bundle's message digest is not the artifact's",
                           reason="artifact.digest", expected=f"{hash_name}:{content.digest.hex()}",
                           actual=f"{hash_name}:{artifact_digest.hex()}")
    shown = f"{hash_name}:{artifact_digest.hex()}"
    run.passed("artifact.digest", "message digest matches", expected=shown, actual=shown)
    return hash_name, artifact_digest


def _statement_subject(run: _Run, content: Envelope, artifact: Artifact) -> None:
    try:
        statement = Statement.from_json(content.payload)
    except LabkitError as exc:
        raise run.fail("artifact.digest", f"the in-toto statement is malformed: {exc.message}",
                       reason="artifact.statement") from None
    matched = _matching_subject_digest(statement, artifact)
    if matched is None:
        digests = [f"{alg}:{v}" for s in statement.subjects for alg, v in sorted(s.digest.items())
                   if alg in _SUBJECT_HASHES]
        raise run.fail("artifact.digest", "no in-toto subject has the artifact's digest", reason="artifact.subject",
                       expected=", ".join(digests) or "(none)", actual=artifact.display)
    run.passed("artifact.digest", "an in-toto subject matches", expected=matched, actual=matched)


#: in-toto subject digest algorithms the verifier compares (npm subjects carry sha512, PyPI and GitHub sha256).
_SUBJECT_HASHES = ("sha256", "sha384", "sha512")


def _matching_subject_digest(statement: Statement, artifact: Artifact) -> str | None:
    """``alg:hex`` of the first subject digest equal to the artifact's digest in that algorithm, else None."""
    for subject in statement.subjects:
        for alg in _SUBJECT_HASHES:
            value = subject.digest.get(alg)
            mine = artifact.digest(alg) if value is not None else None
            if mine is not None and value is not None and value.lower() == mine.hex():
                return f"{alg}:{mine.hex()}"
    return None


def _signature(run: _Run, signed: _Signed) -> None:
    content, key, artifact = signed.content, signed.signer.key, signed.artifact
    try:
        if isinstance(content, Envelope):
            key.verify(content.signatures[0].sig, content.pae())
            what = "DSSE signature over PAE(payloadType, payload)"
        elif artifact.data is not None:
            key.verify(content.signature, artifact.data)
            what = "signature over the artifact"
        elif isinstance(key.key, ed25519.Ed25519PublicKey):
            raise run.fail("signature", "Ed25519 signs the whole artifact; give the file, not its digest",
                           reason="signature.needs_artifact")
        else:
            key.verify_digest(content.signature, signed.artifact_digest, signed.hash_name)
            what = "signature over the artifact digest"
    except LabkitError as exc:
        raise run.fail("signature", exc.message, reason="signature") from None
    run.passed("signature", what)


# -- transparency log entries ---------------------------------------------------------------------


def _log_entries(run: _Run, signed: _Signed) -> tuple[_LogTime, ...]:
    entries = signed.bundle.verification_material.tlog_entries
    threshold = signed.request.signed_timestamps
    if not entries and threshold:
        run.skip("tlog.entries", f"no log entry; the policy accepts {threshold} verified timestamp(s) instead")
    elif not entries:
        raise run.fail("tlog.entries", "the bundle has no transparency log entry", reason="tlog.missing",
                       expected=">= 1", actual=0)
    bodies = [(e.log_id, e.canonicalized_body) for e in entries]
    if len(bodies) > 1 and len(set(bodies)) != len(bodies):  # one entry cannot repeat: its body is not hashed
        raise run.fail("tlog.entries", "the bundle repeats a log entry", reason="tlog.duplicate")
    if entries:
        run.passed("tlog.entries", f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return tuple(
        _log_entry(run, signed, entry, f"entry {n}: " if len(entries) > 1 else "") for n, entry in enumerate(entries)
    )


def _log_entry(run: _Run, signed: _Signed, entry: TransparencyLogEntry, tag: str) -> _LogTime:
    """One entry: bound to this bundle, from a trusted log, proven included under a signed checkpoint."""
    _entry_binding(run, signed, entry, tag)
    log = signed.root.tlog(entry.log_id)
    if log is None:
        raise run.fail("tlog.log_id", f"{tag}log ID is not in the trusted root", reason="tlog.unknown_log",
                       expected=" or ".join(t.log_id.hex()[:16] for t in signed.root.tlogs) or "(no logs)",
                       actual=entry.log_id.hex())
    run.passed("tlog.log_id", tag + log.base_url)
    rekor_v2 = (entry.kind, entry.version) in (("hashedrekord", "0.0.2"), ("dsse", "0.0.2"))
    proof = _entry_inclusion_proof(run, entry, tag, rekor_v2)
    _entry_checkpoint(run, proof, log, tag, rekor_v2)
    return _entry_promise(run, signed, entry, log, tag)


def _entry_binding(run: _Run, signed: _Signed, entry: TransparencyLogEntry, tag: str) -> None:
    binding = bind_entry(
        entry.kind, entry.version, entry.canonicalized_body,
        artifact_digest=(signed.hash_name, signed.artifact_digest), signer_der=signed.signer.der,
        content=signed.content,
    )
    if binding.error:
        raise run.fail("binding.body", tag + binding.error, reason="binding.body")
    run.passed("binding.body", f"{tag}{entry.kind} {entry.version}")
    for step_id, fld in (("binding.digest", binding.digest), ("binding.key", binding.key),
                         ("binding.signature", binding.signature)):
        assert fld is not None
        if not fld.matches:
            raise run.fail(step_id, f"{tag}the entry's {fld.name} differs from the bundle's",
                           expected=fld.expected, actual=fld.actual)
        run.passed(step_id, tag + fld.name, expected=fld.expected, actual=fld.actual)


def _entry_inclusion_proof(run: _Run, entry: TransparencyLogEntry, tag: str, rekor_v2: bool) -> InclusionProof:
    proof = entry.inclusion_proof
    if proof is None:
        # protobuf-specs: v0.2+ bundles MUST carry an inclusion proof; labkit requires it offline always.
        raise run.fail("tlog.inclusion_proof", f"{tag}the entry has no inclusion proof (an offline verifier needs one)",
                       reason="tlog.inclusion_proof.missing")
    try:
        verify_inclusion_proof(entry, proof)
    except LabkitError as exc:
        raise run.fail_from("tlog.inclusion_proof", exc) from None
    if rekor_v2 and entry.inclusion_promise is None and entry.log_index != proof.log_index:
        # Without a promise nothing signs the entry's logIndex; a tile log (Rekor v2) has no shards,
        # so the entry's index must be the proven one.
        raise run.fail("tlog.inclusion_proof", f"{tag}the entry's log index is not the proven index",
                       reason="tlog.log_index", expected=proof.log_index, actual=entry.log_index)
    run.passed("tlog.inclusion_proof", f"{tag}index {proof.log_index} in tree of {proof.tree_size}",
               actual=proof.root_hash.hex())
    return proof


def _entry_checkpoint(run: _Run, proof: InclusionProof, log: TransparencyLogInstance, tag: str, rekor_v2: bool) -> None:
    if not proof.checkpoint:
        raise run.fail("tlog.checkpoint.format", f"{tag}the inclusion proof has no checkpoint",
                       reason="tlog.checkpoint.missing")
    try:
        checkpoint = verify_checkpoint(proof.checkpoint, log, rekor_v2=rekor_v2)
    except LabkitError as exc:
        step_id = getattr(exc, "step", "") or "tlog.checkpoint.format"
        if step_id not in STEPS:
            step_id = "tlog.checkpoint.format"
        if step_id == "tlog.checkpoint.signature":
            run.passed("tlog.checkpoint.format", tag + "parses")
        raise run.fail_from(step_id, exc) from None
    run.passed("tlog.checkpoint.format", f"{tag}origin {checkpoint.origin}")
    run.passed("tlog.checkpoint.signature", tag + log.origin_host)
    want = f"size {proof.tree_size}, root {proof.root_hash.hex()}"
    got = f"size {checkpoint.size}, root {checkpoint.root_hash.hex()}"
    if want != got:
        raise run.fail(
            "tlog.checkpoint.root", f"{tag}the checkpoint is for another tree state", expected=want, actual=got
        )
    run.passed("tlog.checkpoint.root", tag + got)


def _entry_promise(
    run: _Run, signed: _Signed, entry: TransparencyLogEntry, log: TransparencyLogInstance, tag: str
) -> _LogTime:
    if entry.inclusion_promise is not None:
        try:
            itime = _utc(verify_inclusion_promise(entry, log))
        except LabkitError as exc:
            raise run.fail_from("tlog.inclusion_promise", exc) from None
        run.passed("tlog.inclusion_promise", f"{tag}integrated {itime.isoformat()}")
        return _LogTime(log, itime, f"{tag}integrated time signed by {log.base_url}")
    if signed.bundle.version == (0, 1):
        # protobuf-specs: v0.1 bundles MUST carry an inclusion promise.
        raise run.fail("tlog.inclusion_promise", f"{tag}a v0.1 bundle must carry an inclusion promise",
                       reason="tlog.inclusion_promise.missing")
    run.skip("tlog.inclusion_promise", f"{tag}no promise; integratedTime is not trusted")
    return _LogTime(log, None)


# -- times ----------------------------------------------------------------------------------------


def _timestamps(run: _Run, signed: _Signed) -> tuple[tuple[_dt.datetime, str], ...]:
    """Every RFC 3161 timestamp verified, as (time, what vouched for it)."""
    stamps = signed.bundle.verification_material.rfc3161_timestamps
    if len(stamps) > MAX_TIMESTAMPS:
        raise run.fail("timestamp.rfc3161", f"{len(stamps)} timestamps is too many", reason="timestamp.too_many",
                       expected=f"<= {MAX_TIMESTAMPS}", actual=len(stamps))
    if len(set(stamps)) != len(stamps):
        raise run.fail("timestamp.rfc3161", "the bundle repeats a timestamp", reason="timestamp.duplicate")
    verified = []
    for n, stamp in enumerate(stamps):
        try:
            vt = verify_timestamp(stamp, signed.signature, signed.root)
        except LabkitError as exc:
            raise run.fail_from("timestamp.rfc3161", exc) from None
        verified.append((vt.time, f"RFC 3161 timestamp {n} from {vt.authority}"))
        run.passed("timestamp.rfc3161", f"{vt.time.isoformat()} from {vt.authority}")
    threshold = signed.request.signed_timestamps
    if not stamps and not threshold:
        run.skip("timestamp.rfc3161", "no RFC 3161 timestamps in the bundle")
    if len(verified) < threshold:
        raise run.fail("timestamp.rfc3161", f"{len(verified)} verified timestamp(s); the policy requires {threshold}",
                       reason="timestamp.threshold", expected=f">= {threshold}", actual=len(verified))
    return tuple(verified)


def _times(
    run: _Run, signed: _Signed, entries: tuple[_LogTime, ...], stamps: tuple[tuple[_dt.datetime, str], ...]
) -> _Times:
    """At least one verified time, none beyond now plus the clock-skew allowance."""
    sources = [(e.integrated, e.source) for e in entries if e.integrated is not None] + list(stamps)
    times = sorted({t for t, _ in sources})
    if not times:
        raise run.fail("time.verified_source",
                       "no verified signing time: no verified inclusion promise and no verified timestamp",
                       reason="time.no_verified_source", expected=">= 1 verified time", actual=0)
    now = signed.request.now
    limit = now + MAX_CLOCK_SKEW
    future = sorted((t, what) for t, what in sources if t > limit)
    if future:
        t, what = future[-1]
        raise run.fail(
            "time.verified_source",
            f"a signed time lies in the future: the {what} is {t.isoformat()}, after now ({now.isoformat()}) "
            f"plus the {int(MAX_CLOCK_SKEW.total_seconds())} s clock-skew allowance",
            reason="time.in_future", expected=f"<= {limit.isoformat()}", actual=t.isoformat(),
        )
    run.result.verified_times = [t.isoformat() for t in times]
    run.passed("time.verified_source", ", ".join(run.result.verified_times))
    return _Times(entries, tuple(t for t, _ in stamps), tuple(times))


def _log_key_validity(run: _Run, times: _Times) -> None:
    """Log keys: valid at the entry's verified integrated time, else at every verified timestamp."""
    for entry in times.entries:
        log = entry.log
        own = [e.integrated for e in times.entries if e.log is log and e.integrated is not None]
        checked = own or list(times.tsa) or list(times.all)
        bad = [t for t in checked if not log.valid_for.contains(t)]
        if bad:
            raise run.fail("tlog.key_validity", f"the key of {log.base_url} was not valid at {bad[0].isoformat()}",
                           expected=log.valid_for.describe(), actual=bad[0].isoformat())
        run.passed("tlog.key_validity", f"{log.base_url} {log.valid_for.describe()}")


# -- certificate and policy -----------------------------------------------------------------------


def _certificate(run: _Run, signed: _Signed, leaf: x509.Certificate, times: tuple[_dt.datetime, ...]) -> None:
    nb, na = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    for t in times:
        if not (nb <= t <= na):
            raise run.fail("certificate.validity", "the signing time is outside the certificate's validity",
                           expected=f"[{nb.isoformat()}, {na.isoformat()}]", actual=t.isoformat())
    run.passed("certificate.validity", f"[{nb.isoformat()}, {na.isoformat()}]")
    chain_result = None
    for t in times:
        try:
            chain_result = build_chain(leaf, signed.root, t)
        except LabkitError as exc:
            raise run.fail_from("certificate.chain", exc) from None
    assert chain_result is not None
    run.passed("certificate.chain", chain_result.ca)
    try:
        check_leaf_profile(leaf)
    except LabkitError as exc:
        raise run.fail_from("certificate.profile", exc) from None
    run.passed("certificate.profile", "code signing, digitalSignature, not a CA")
    try:
        sct = verify_scts(leaf, chain_result.chain[1], signed.root)
    except LabkitError as exc:
        raise run.fail_from("certificate.sct", exc) from None
    run.passed("certificate.sct", sct)


def _policy(run: _Run, policy: IdentityPolicy | None, leaf: x509.Certificate) -> None:
    check = getattr(policy, "check", None)
    if policy is None or check is None:
        raise run.fail("policy.identity", f"{type(policy).__name__} is not an identity policy", reason="policy.missing")
    try:
        outcome = policy.check(leaf)
    except LabkitError as exc:
        raise run.fail("policy.identity", exc.message, reason="policy.identity") from None
    if not outcome.ok:
        what = {"policy.issuer": "OIDC issuer", "policy.extension": "extension"}.get(outcome.reason, "identity")
        raise run.fail("policy.identity", f"the certificate's {what} is not the expected one",
                       reason=outcome.reason, expected=outcome.expected, actual=outcome.actual)
    run.passed("policy.identity", policy.describe(), expected=outcome.expected, actual=outcome.actual)
    sans = certificate_sans(leaf)  # certificate_identity(leaf).identity without reading the Fulcio extensions
    run.result.signer = sans[0] if sans else ""
