"""Scenario 5: the older relatives of GHSA-whqx-f9j3-ch6m.

* ``unrelated-entry`` (GHSA-8gw7-4j42-w388 / CVE-2022-36056 class): a legacy
  verify-blob bundle whose ``rekorBundle`` is a valid entry from an unrelated
  bundle; cosign < 1.12.0 checked the SET but never tied it to the blob.
* ``bundle-copy`` (GHSA-ccxc-vr6p-4858 / CVE-2022-23649 class): a valid
  bundle copied onto another signature over the same payload; cosign < 1.5.2
  did not compare the entry's signature with the one being verified. The
  second signature is the ECDSA twin ``(r, n - s)`` of the logged one: valid,
  deterministic, and never logged (signature malleability is why the entry
  must be compared byte for byte).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from labkit.attacks.bundle_forgery import BINDING_REASON, entry_comparison
from labkit.attacks.checks import explain_legacy
from labkit.attacks.sandbox import LabkitLog, SandboxLog, labkit_log, sign_image
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import (
    LegacySignature,
    patched_cosign_legacy_bundle,
    vulnerable_cosign_bundle_no_signature_compare,
    vulnerable_cosign_verify_blob_pre_1_12,
)
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.oci.digest import Digest

__all__ = []

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def malleate(der_signature: bytes, order: int = _P256_ORDER) -> bytes:
    """The other valid ECDSA signature for the same key and message: ``(r, n - s)``."""
    r, s = decode_dss_signature(der_signature)
    return encode_dss_signature(r, order - s)


@define(
    "unrelated-entry",
    number=5,
    title="Valid but unrelated log entry in a blob bundle (CVE-2022-36056 class)",
    refs=("GHSA-8gw7-4j42-w388", "CVE-2022-36056", "sigstore-python bundle_cve_2022_36056"),
    summary="A signer who wants no public record attaches another bundle's valid entry to their verify-blob bundle.",
    fixed_behaviour="tie the rekorBundle to the blob: the entry's digest, signature and key must be the ones verified",
    expected_reason=BINDING_REASON,
    modes=("cosign-verify-blob-pre-1.12", LABKIT_MODE),
)
def unrelated_entry(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``unrelated-entry``: a genuine log entry of another signer is attached."""
    out = scenario.outcome()
    with labkit_log(lab) as log:
        other = generate("ecdsa-p256", lab=lab, label="attacks/other-team")
        notes = b"other team's build log\n"
        entry = log.upload_hashedrekord(other.sign(notes), other.public_key().pem(), notes)
        out.step("other team", f"signs and logs their own file: entry #{entry.log_index} (valid)")
        out.touch("log entry", f"#{entry.log_index}", "another team's signing event")
        signer = generate("ecdsa-p256", lab=lab, label="attacks/quiet-signer")
        blob = b"firmware image v7 (never published to the log)\n"
        sig = signer.sign(blob)
        out.step("signer", "signs firmware.bin with --tlog-upload=false: no public record")
        forged = LegacySignature(blob, sig, None, entry.rekor_bundle())
        out.step(
            "signer", f"copies entry #{entry.log_index} (body + SET) into firmware.bin.bundle to pass 'must be logged'"
        )
        out.touch("legacy bundle file", "firmware.bin.bundle", "rekorBundle of an unrelated entry")
        out.evidence["comparison"] = entry_comparison(forged, signer.public_key().pem(), entry.body)
        out.step("verifier", "verify-blob --key signer.pub --bundle firmware.bin.bundle firmware.bin")
        out.judge_call("cosign-verify-blob-pre-1.12", lambda: vulnerable_cosign_verify_blob_pre_1_12(
            forged, key=signer.public_key(), log_keys=[log.public_key]))

        def labkit() -> None:
            result = explain_legacy(forged, key=signer.public_key(), log=log)
            out.evidence["labkit_checklist"] = result.checklist()
            result.raise_for_failure()

        out.judge_call(LABKIT_MODE, labkit)
    return out


@define(
    "bundle-copy",
    number=5,
    title="Bundle copied onto another signature (GHSA-ccxc-vr6p-4858 class)",
    refs=("GHSA-ccxc-vr6p-4858", "CVE-2022-23649", "cosign PR 'compareSigs' (v1.5.2)"),
    summary="A logged signature's bundle is stapled to a second, unlogged signature over the same payload.",
    fixed_behaviour="compare the entry's signature bytes with the signature being verified (compareSigs)",
    expected_reason="binding.signature",
    modes=("cosign-bundle-no-sig-compare", "cosign-patched-legacy", LABKIT_MODE),
)
def bundle_copy(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``bundle-copy``: a valid bundle copied onto another artifact."""
    out = scenario.outcome()
    with labkit_log(lab) as log:
        key = generate("ecdsa-p256", lab=lab, label="attacks/release-key")
        digest = str(Digest.of(b"app 2.0 manifest"))
        logged, entry = sign_image(key, "registry.sandbox.invalid/app", digest, log)
        assert entry is not None
        out.step("publisher", f"signs app@{digest[:19]}…; signature S1 is logged as entry #{entry.log_index}")
        twin = malleate(logged.signature)
        out.step(
            "attacker", "derives S2 = (r, n - s) from S1: another valid signature over the same payload, never logged"
        )
        copied = LegacySignature(logged.payload, twin, None, logged.rekor_bundle)
        out.step("attacker", "publishes S2 with S1's rekorBundle copied onto it")
        out.touch("signature", "S2", "valid ECDSA twin of S1")
        out.touch("rekorBundle", f"entry #{entry.log_index}", "copied from S1")
        out.evidence["comparison"] = entry_comparison(copied, key.public_key().pem(), entry.body)
        out.step("verifier", f"verifies app@{digest[:19]}… with the release key")
        out.judge_call("cosign-bundle-no-sig-compare", lambda: vulnerable_cosign_bundle_no_signature_compare(
            copied, key=key.public_key(), log_keys=[log.public_key], expected_digest=digest))
        _judge_rest(out, copied, log, key, digest)
    return out


def _judge_rest(out: Outcome, sig: LegacySignature, log: SandboxLog | LabkitLog, key: SigningKey, digest: str) -> None:
    assert isinstance(key, SigningKey)
    out.judge_call("cosign-patched-legacy", lambda: patched_cosign_legacy_bundle(
        sig, key=key.public_key(), log_keys=[log.public_key], expected_digest=digest))

    def labkit() -> None:
        result = explain_legacy(sig, key=key.public_key(), log=log)
        out.evidence["labkit_checklist"] = result.checklist()
        result.raise_for_failure()

    out.judge_call(LABKIT_MODE, labkit)
