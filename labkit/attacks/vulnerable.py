"""Vulnerable verifier modes: small verifiers that reproduce known defects on purpose.

Each mode is named after the behaviour it reproduces (the software, the
versions, the advisory). They exist only so the attack lab can show an
attack succeeding before labkit's verifier catches it. Nothing in
`labkit.verify` or the normal CLI imports this module; the only way in is
`labkit.attacks`.

Every ``vulnerable_*`` function returns on acceptance and raises a
`VerificationError` (with a reason code) on rejection, like a verifier.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.bundle import TransparencyLogEntry
from labkit.errors import AttackError, LabkitError, VerificationError
from labkit.keys import VerifyingKey
from labkit.payloads import parse_simple_signing, verify_envelope
from labkit.tlog import merkle
from labkit.tlog.checkpoint import SignedNote, verify_note
from labkit.tlog.entries import parse_body, verify_set
from labkit.verify.tlog import verify_checkpoint, verify_inclusion_promise, verify_inclusion_proof
from labkit.verify.trustroot import TransparencyLogInstance
from labkit.verify.verifier import BundleInput, KeyInput, RootInput, explain_bundle

__all__ = ["LegacySignature", "MODES", "patched_cosign_legacy_bundle", "vulnerable_cosign_legacy_bundle_trusted_root"]


@dataclass(frozen=True)
class Mode:
    """A verifier mode in the attack matrix: stable id, the label shown, whether it is vulnerable."""

    id: str
    label: str
    vulnerable: bool
    refs: tuple[str, ...] = ()


_MODE_LIST = (
    Mode("labkit", "labkit (this version)", False),
    Mode("cosign-patched-legacy", "cosign 2.6.2 / 3.0.4+ legacy bundle path (fixed)", False,
         ("GHSA-whqx-f9j3-ch6m",)),
    Mode("cosign-legacy-trusted-root",
         "cosign 2.5.1-2.6.1 / 3.0.0-3.0.3 legacy bundle path with a trusted root", True,
         ("GHSA-whqx-f9j3-ch6m", "CVE-2026-22703")),
    Mode("cosign-bundle-no-sig-compare",
         "cosign < 1.5.2: Rekor bundle signature never compared with the one verified", True,
         ("GHSA-ccxc-vr6p-4858", "CVE-2022-23649")),
    Mode("cosign-verify-blob-pre-1.12",
         "cosign < 1.12.0 verify-blob: rekorBundle need not reference the blob", True,
         ("GHSA-8gw7-4j42-w388", "CVE-2022-36056")),
    Mode("verify-then-pull-by-tag",
         "verify repo:tag, then pull repo:tag (tag resolved twice)", True,
         ("GHSA-wfqx-gjrf-g28r",)),
    Mode("cosign-claims-digest-only",
         "cosign simple-signing claims: manifest digest only, docker-reference ignored", True,
         ("cosign SIGNATURE_SPEC",)),
    Mode("cosign-v3-referrers-fallback",
         "cosign v3 verify: falls back to the legacy .sig when no referrer bundle is found", True,
         ("GHSA-whqx-f9j3-ch6m",)),
    Mode("log-client-no-witness",
         "log client: SET, inclusion proof and log-signed checkpoint; no witness, no published checkpoint", True),
    Mode("identity-regexp-search",
         "identity regexp as an unanchored search (Go regexp.MatchString)", True),
    Mode("identity-san-only",
         "identity policy on the SAN only, OIDC issuer not checked", True),
    Mode("unverified-signing-time",
         "certificate validity at an unverified signing time (bundle integratedTime, SET unchecked)", True,
         ("TOB-SIGSTORE-3",)),
    Mode("cosign-read-append-write",
         "cosign WriteSignatures: GET .sig, append a layer, unconditional PUT", True,
         ("cosign SIGNATURE_SPEC: 'racy'", "goharbor/harbor#19096")),
    Mode("cosign-verify-attestation-pre-1.10.1",
         "cosign < 1.10.1 verify-attestation --type: passes without an attestation of that type", True,
         ("GHSA-vjxv-45g9-9296", "CVE-2022-35929")),
    Mode("rekor2-no-cosignatures",
         "Sigstore clients today: Rekor v2 checkpoint signed by the log, witness cosignatures not checked", True,
         ("rekor-tiles CLIENTS.md 'Future: Witnessing'",)),
    Mode("witness-stateless",
         "witness that checks consistency from the old checkpoint the log sends (no stored size)", True,
         ("C2SP tlog-witness",)),
    Mode("naive-tuf-client",
         "naive trust download: any root-listed key signs, no expiry, no version memory, no root walk", True,
         ("TUF specification v1.0 §5",)),
    Mode("quorum-by-signature-lines",
         "quorum counted from signature-line names and key IDs, cosignatures not verified", True,
         ("C2SP tlog-cosignature", "C2SP signed-note")),
)

#: Every mode, by id.
MODES: dict[str, Mode] = {m.id: m for m in _MODE_LIST}


def mode_info(mode: str) -> tuple[str, bool]:
    """(label, vulnerable) of a mode id; raises `AttackError` for an unknown id."""
    try:
        m = MODES[mode]
    except KeyError:
        raise AttackError(f"unknown verifier mode {mode!r}") from None
    return m.label, m.vulnerable


def _reject(reason: str, message: str) -> VerificationError:
    return VerificationError(message, step=reason.split(".")[0], reason=reason)


# ---------------------------------------------------------------------------
# Legacy cosign signatures (the `.sig` layer / legacy verify-blob bundle file)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LegacySignature:
    """A legacy cosign signature: what one `.sig` layer (or legacy blob bundle file) carries.

    `payload` is the signed bytes (simple-signing JSON for an image, the blob
    for verify-blob); `signature` the raw signature; `certificate_pem` the
    ``dev.sigstore.cosign/certificate`` (None for a key); `rekor_bundle` the
    ``dev.sigstore.cosign/bundle`` value as a dict.
    """

    payload: bytes
    signature: bytes
    certificate_pem: bytes | None = None
    rekor_bundle: Mapping[str, Any] | None = None

    def annotations(self) -> dict[str, str]:
        """The layer annotations cosign writes for this signature."""
        out = {"dev.cosignproject.cosign/signature": base64.b64encode(self.signature).decode()}
        if self.rekor_bundle is not None:
            out["dev.sigstore.cosign/bundle"] = json.dumps(self.rekor_bundle, separators=(",", ":"))
        if self.certificate_pem is not None:
            out["dev.sigstore.cosign/certificate"] = self.certificate_pem.decode()
        return out

    def blob_bundle_json(self) -> str:
        """The legacy verify-blob bundle file: ``{base64Signature, cert, rekorBundle}``."""
        doc: dict[str, Any] = {"base64Signature": base64.b64encode(self.signature).decode()}
        if self.certificate_pem is not None:
            doc["cert"] = base64.b64encode(self.certificate_pem).decode()
        if self.rekor_bundle is not None:
            doc["rekorBundle"] = self.rekor_bundle
        return json.dumps(doc, indent=2, sort_keys=True)


@dataclass(frozen=True)
class _RekorPayload:
    body: bytes
    integrated_time: int
    log_index: int
    log_id_hex: str
    set: bytes


def _rekor_payload(bundle: Mapping[str, Any] | None) -> _RekorPayload:
    if bundle is None:
        raise _reject("tlog.missing", "signature carries no dev.sigstore.cosign/bundle")
    try:
        p = bundle["Payload"]
        body = p["body"]
        if not isinstance(body, str):
            raise _reject("tlog.body", "bundle payload body is not a string")
        return _RekorPayload(
            base64.b64decode(body, validate=True), int(p["integratedTime"]), int(p["logIndex"]),
            str(p["logID"]), base64.b64decode(bundle["SignedEntryTimestamp"], validate=True),
        )
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise _reject("tlog.format", "rekor bundle is malformed") from None


def _verify_set(rp: _RekorPayload, log_keys: Sequence[VerifyingKey]) -> None:
    for key in log_keys:
        if key.key_id().hex() == rp.log_id_hex:
            verify_set(key, rp.set, rp.body, rp.integrated_time, rp.log_id_hex, rp.log_index)
            return
    raise _reject("tlog.unknown_log", f"no trusted log with ID {rp.log_id_hex[:16]}…")


def _entry(body: bytes) -> tuple[bytes, bytes, str, str]:
    """(signature, PEM key/cert, hash algorithm, hash hex) of a hashedrekord or dsse body."""
    try:
        parsed = parse_body(body)
    except LabkitError as exc:
        raise _reject("tlog.body", f"log entry body does not parse: {exc.message}") from None
    (sig, pem), *_ = parsed.signatures()
    alg, _, value = (parsed.artifact_digest or ":").partition(":")
    return sig, pem, alg, value


def _key_of(sig: LegacySignature, key: VerifyingKey | None) -> VerifyingKey:
    if sig.certificate_pem is not None:
        cert = x509.load_pem_x509_certificate(sig.certificate_pem)
        return VerifyingKey.from_key(cert.public_key())  # type: ignore[arg-type]
    if key is None:
        raise AttackError("a key-based signature needs the verifying key")
    return key


def _pem_der(pem: bytes) -> bytes:
    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _legacy_verify(
    sig: LegacySignature,
    *,
    key: VerifyingKey | None,
    log_keys: Sequence[VerifyingKey],
    expected_digest: str | None,
    compare_signature: bool,
    compare_key: bool,
    compare_digest: bool,
    check_cert_time: bool = True,
) -> int:
    """cosign's `VerifyBundle` + signature + claims, with the binding checks switchable.

    Returns the integrated time it trusted. The comparisons run before the SET,
    as in the fixed cosign (pkg/cosign/verify.go @ 6832fba4).
    """
    rp = _rekor_payload(sig.rekor_bundle)
    verifying = _key_of(sig, key)
    if compare_signature or compare_key or compare_digest:
        e_sig, e_pem, e_alg, e_hex = _entry(rp.body)
        if compare_signature and e_sig != sig.signature:
            raise _reject("tlog.signature_mismatch", "signature in bundle does not match signature being verified")
        if compare_key and _pem_der(e_pem) != verifying.der():
            raise _reject("tlog.key_mismatch", "comparing public key PEMs: the entry names another key")
        if compare_digest:
            actual = hashlib.sha256(sig.payload).hexdigest()
            if e_alg != "sha256" or e_hex != actual:
                raise _reject("tlog.digest_mismatch", f"matching bundle to payload: bundle={e_hex}, payload={actual}")
    _verify_set(rp, log_keys)
    verifying.verify(sig.signature, sig.payload)
    if expected_digest is not None:
        claims = parse_simple_signing(sig.payload)
        if claims.manifest_digest != expected_digest:
            raise _reject("claims.digest", "simple-signing digest is not the image being verified")
    if check_cert_time and sig.certificate_pem is not None:
        cert = x509.load_pem_x509_certificate(sig.certificate_pem)
        when = _dt.datetime.fromtimestamp(rp.integrated_time, _dt.timezone.utc)
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise _reject("certificate.expired", "certificate was not valid at the bundle's integrated time")
    return rp.integrated_time


def vulnerable_cosign_legacy_bundle_trusted_root(
    sig: LegacySignature,
    *,
    key: VerifyingKey | None,
    log_keys: Sequence[VerifyingKey],
    expected_digest: str | None = None,
) -> int:
    """cosign 2.5.1-2.6.1 / 3.0.0-3.0.3 with a trusted root: SET checked, entry never compared (GHSA-whqx-f9j3-ch6m)."""
    return _legacy_verify(sig, key=key, log_keys=log_keys, expected_digest=expected_digest,
                          compare_signature=False, compare_key=False, compare_digest=False)


def vulnerable_cosign_bundle_no_signature_compare(
    sig: LegacySignature,
    *,
    key: VerifyingKey | None,
    log_keys: Sequence[VerifyingKey],
    expected_digest: str | None = None,
) -> int:
    """cosign < 1.5.2: the entry's signature is not compared with the one verified (GHSA-ccxc-vr6p-4858).

    The fix added ``compareSigs``. To exercise exactly that missing check,
    this mode keeps the key and payload-digest comparisons (a conservative
    model: it is never *more* permissive than the advisory describes).
    """
    return _legacy_verify(sig, key=key, log_keys=log_keys, expected_digest=expected_digest,
                          compare_signature=False, compare_key=True, compare_digest=True)


def vulnerable_cosign_verify_blob_pre_1_12(
    sig: LegacySignature, *, key: VerifyingKey | None, log_keys: Sequence[VerifyingKey]
) -> int:
    """cosign < 1.12.0 verify-blob: the rekorBundle's SET is checked but never tied to the blob (CVE-2022-36056)."""
    return _legacy_verify(sig, key=key, log_keys=log_keys, expected_digest=None,
                          compare_signature=False, compare_key=False, compare_digest=False)


def patched_cosign_legacy_bundle(
    sig: LegacySignature,
    *,
    key: VerifyingKey | None,
    log_keys: Sequence[VerifyingKey],
    expected_digest: str | None = None,
) -> int:
    """cosign 2.6.2 / 3.0.4: signature, key and digest compared with the entry before the SET."""
    return _legacy_verify(sig, key=key, log_keys=log_keys, expected_digest=expected_digest,
                          compare_signature=True, compare_key=True, compare_digest=True)


# ---------------------------------------------------------------------------
# Tags and references
# ---------------------------------------------------------------------------


def vulnerable_cosign_digest_only_claims(sigs: Sequence[LegacySignature], digest: str, key: VerifyingKey) -> None:
    """cosign's SimpleClaimVerifier: any signature valid over a payload naming `digest`; docker-reference ignored."""
    for sig in sigs:
        try:
            key.verify(sig.signature, sig.payload)
            if parse_simple_signing(sig.payload).manifest_digest == digest:
                return
        except LabkitError:
            continue
    raise _reject("signatures.verified", "no valid signature for this digest")


def vulnerable_verify_then_pull_by_tag(
    resolve: Callable[[], str],
    verify: Callable[[str], object],
    pull: Callable[[str | None], tuple[str, bytes]],
    window: Callable[[], object],
) -> tuple[str, bytes]:
    """Verify ``repo:tag``, then pull ``repo:tag``: the tag is resolved twice (Crossplane GHSA-wfqx-gjrf-g28r).

    `resolve()` -> digest, `verify(digest)`, `pull(ref)` -> (digest, content);
    `window()` is whatever happens between verification and pull.
    """
    verify(resolve())
    window()
    digest, content = pull(None)
    return str(digest), bytes(content)


def vulnerable_cosign_v3_referrers_fallback(bundles: Sequence[Any], legacy: Callable[[], object]) -> None:
    """cosign v3 ``verify``: if the referrers list is empty, set NewBundleFormat=false and verify `.sig` instead."""
    if not bundles:
        legacy()
        return
    raise AttackError("this mode only models the fallback; bundles were present")


def vulnerable_cosign_verify_attestation_pre_1_10_1(
    envelopes: Sequence[Any], key: VerifyingKey, predicate_type: str
) -> None:
    """cosign < 1.10.1 ``verify-attestation --type``: any verified attestation passes.

    The type only filters policy input.

    With no attestation of `predicate_type`, nothing is left to evaluate and
    the command succeeds (GHSA-vjxv-45g9-9296).
    """
    verified = []
    for env in envelopes:
        try:
            verify_envelope(env, key)
            verified.append(env)
        except LabkitError:
            continue
    if not verified:
        raise _reject("attestation.signature", "no attestation verifies with the key")
    # (policy evaluation would run over the attestations of `predicate_type`: there are none, so nothing fails)


# ---------------------------------------------------------------------------
# Transparency log clients
# ---------------------------------------------------------------------------


def vulnerable_log_client_no_witness(entry: TransparencyLogEntry, log: TransparencyLogInstance) -> None:
    """Trust any checkpoint the log signed: SET, inclusion proof to the served root, checkpoint signature.

    `entry` is a bundle `TransparencyLogEntry`, `log` a trusted-root
    `TransparencyLogInstance`. Nothing ties the served tree to what anyone
    else was shown, so a log that rewrites history or forks its view passes.
    """
    proof = entry.inclusion_proof
    if proof is None:
        raise _reject("tlog.inclusion_proof", "no inclusion proof")
    verify_inclusion_promise(entry, log)
    verify_inclusion_proof(entry, proof)
    cp = verify_checkpoint(proof.checkpoint, log)
    if (cp.size, cp.root_hash) != (proof.tree_size, proof.root_hash):
        raise _reject("tlog.checkpoint.root", "checkpoint is for another tree")


# ---------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------


def vulnerable_identity_regexp_search(pattern: str, identity: str) -> None:
    """Accept when `pattern` matches *anywhere* in `identity` (Go regexp.MatchString is unanchored)."""
    if re.search(pattern, identity) is None:
        raise _reject("identity.mismatch", f"identity {identity!r} does not match {pattern!r}")


def vulnerable_identity_san_only(expected_identity: str, cert: x509.Certificate) -> None:
    """Accept when a SAN equals `expected_identity`; the OIDC issuer extension is never read."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise _reject("identity.mismatch", "certificate has no SAN") from None
    values = [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
    values += [str(v) for v in san.get_values_for_type(x509.RFC822Name)]
    if expected_identity not in values:
        raise _reject("identity.mismatch", f"no SAN equals {expected_identity!r}")


def vulnerable_unverified_signing_time(cert: x509.Certificate, claimed_time: int) -> None:
    """Check certificate validity at a time read from the bundle *before* anything verified it."""
    when = _dt.datetime.fromtimestamp(claimed_time, _dt.timezone.utc)
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise _reject("certificate.expired", "certificate not valid at the claimed signing time")


# ---------------------------------------------------------------------------
# Witnesses (Rekor v2 tile logs)
# ---------------------------------------------------------------------------


def vulnerable_rekor2_no_cosignatures(bundle: BundleInput, artifact: bytes, trusted_root: RootInput,
                                      key: KeyInput) -> None:
    """Verify a Rekor v2 bundle as Sigstore clients do today: every bundle check, no witness cosignature.

    The checkpoint only has to carry the log's own signature, so a log that
    forks its tree for one victim passes (no Sigstore client checks
    cosignatures yet; rekor-tiles ``CLIENTS.md``).
    """
    explain_bundle(bundle, artifact, trusted_root, key=key).raise_for_failure()


def vulnerable_stateless_witness(old_note: str, proof: Sequence[bytes], new_note: str, log_key: VerifyingKey) -> None:
    """Cosign when `new_note` extends the old checkpoint the *log* sends, remembering nothing of its own.

    A log that rewinds to an older checkpoint (one the witness really
    cosigned once) and grows a different tree from there passes.
    """
    old = verify_note(old_note, _origin_line(old_note), log_key, rule="c2sp")
    new = verify_note(new_note, _origin_line(new_note), log_key, rule="c2sp")
    merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, list(proof))


def _origin_line(note: str) -> str:
    """The origin line of a note (a tile log signs under its origin)."""
    return note.split("\n", 1)[0]


def vulnerable_quorum_by_signature_lines(note: str, witnesses: Mapping[str, tuple[str, bytes]], quorum: int) -> None:
    """Count witnesses whose (name, key ID) appear on a signature line; never verify the cosignatures.

    `witnesses` maps a policy name to (cosigner name, 4-byte key ID).
    """
    lines = {(s.name, s.key_hint) for s in SignedNote.parse(note).signatures}
    count = sum((name, kid) in lines for name, kid in witnesses.values())
    if count < quorum:
        raise _reject("witness.quorum", f"{count} of {quorum} witnesses cosigned")
