"""Scenario 8: identity attacks on keyless verification, against labkit's own CA, issuer and log.

* ``identity-regexp``: ``--certificate-identity-regexp https://github.com/org/app``
  is an unanchored search in Go (``regexp.MatchString``), so a workflow in
  ``org/app-evil`` matches. labkit's `Identity` uses a full match.
* ``identity-issuer``: a CA that federates several OIDC issuers (as Fulcio
  does) issues a certificate with the victim's email for an issuer the
  attacker runs. A policy on the SAN alone accepts it; the issuer extension
  (OID 1.3.6.1.4.1.57264.1.8) says otherwise.
* ``expired-cert``: a leaked ephemeral key and its certificate are used after
  the certificate expired. The attacker logs the signature (inclusion proof and
  checkpoint verify) but strips the SET and writes an ``integratedTime`` inside
  the validity window. With no verified signing time labkit refuses.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import tempfile
from dataclasses import replace

from cryptography import x509

from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import (
    vulnerable_identity_regexp_search,
    vulnerable_identity_san_only,
    vulnerable_unverified_signing_time,
)
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, MessageSignature, VerificationMaterial
from labkit.keyless.ca import CertificateRequest
from labkit.keyless.instance import Instance
from labkit.keyless.oidc import OIDCIssuer, github_claims
from labkit.keyless.sign import sign_keyless
from labkit.keys import VerifyingKey, generate
from labkit.lab import Lab
from labkit.tlog.entries import hashedrekord_body
from labkit.verify.policy import Identity, IdentityPolicy, certificate_identity
from labkit.verify.verifier import explain_bundle

__all__ = []


def _instance(tmp: str, lab: Lab) -> Instance:
    return Instance.create(tmp, seed=lab.seed)


def _labkit(out: Outcome, bundle: Bundle, artifact: bytes, instance: Instance, policy: IdentityPolicy) -> None:
    def check() -> None:
        result = explain_bundle(bundle, artifact, trusted_root=instance.trusted_root_json(), policy=policy)
        out.evidence["labkit_checklist"] = result.checklist()
        result.raise_for_failure()

    out.judge_call(LABKIT_MODE, check)


def _san(cert: x509.Certificate) -> str:
    return certificate_identity(cert).identity


@define(
    "identity-regexp",
    number=8,
    title="Unanchored identity regexp accepts org/app-evil",
    refs=("cosign --certificate-identity-regexp (Go regexp.MatchString)",),
    summary="A workflow in a look-alike repository matches an identity regexp that was meant for org/app.",
    fixed_behaviour="match identity regexps against the whole SAN (re.fullmatch), and pin the issuer",
    expected_reason="policy.identity",
    modes=("identity-regexp-search", LABKIT_MODE),
)
def identity_regexp(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``identity-regexp``: an unanchored identity regexp accepts a look-alike signer."""
    out = scenario.outcome()
    pattern = "https://github.com/org/app"
    out.step("victim", f"policy: identity regexp {pattern!r}, issuer = the lab issuer")
    with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
        inst = _instance(tmp, lab)
        artifact = b"release built by a look-alike repository\n"
        signed = sign_keyless(inst, artifact, claims=github_claims("org/app-evil"))
        san = _san(signed.certificate.certificate)
        out.step(
            "attacker", "creates repository org/app-evil and signs from its release workflow (a genuine certificate)"
        )
        out.touch("certificate", san, "issued by the lab CA for the attacker's own workflow")
        out.evidence["san"] = san
        out.judge_call("identity-regexp-search", lambda: vulnerable_identity_regexp_search(pattern, san))
        _labkit(out, signed.bundle, artifact, inst, Identity(identity_regexp=pattern, issuer=inst.issuer.url))
        inst.close()
    return out


@define(
    "identity-issuer",
    number=8,
    title="Certificate for the right email from another issuer",
    refs=("Fulcio OID 1.3.6.1.4.1.57264.1.8",),
    summary="A federating CA issues the victim's email for an OIDC issuer the attacker controls.",
    fixed_behaviour="check the certificate's OIDC issuer extension as well as the SAN",
    expected_reason="policy.issuer",
    modes=("identity-san-only", LABKIT_MODE),
)
def identity_issuer(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``identity-issuer``: the right identity from the wrong OIDC issuer."""
    out = scenario.outcome()
    email = "release@example.com"
    with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
        inst = _instance(tmp, lab)
        out.step("victim", f"policy: identity == {email}, issuer == {inst.issuer.url}")
        evil = OIDCIssuer("https://login.attacker.invalid", generate("ed25519", lab=lab, label="attacks/evil-issuer"),
                          clock=inst.clock)
        federated = copy.copy(inst)
        federated.issuer = evil
        federated.ca = copy.copy(inst.ca)
        federated.ca.issuer_url = evil.url
        federated.ca.jwks = evil.jwks()
        out.step("attacker", "runs an OIDC issuer the CA also trusts (federation) and mints a token for "
                             f"{email}; nobody checks mailbox ownership there")
        artifact = b"release signed under a borrowed email\n"
        signed = sign_keyless(federated, artifact, identity=email)
        cert = signed.certificate.certificate

        ci = certificate_identity(cert)
        out.touch("certificate", ci.identity, f"issuer extension: {ci.issuer}")
        out.evidence["issuer"] = ci.issuer
        out.judge_call("identity-san-only", lambda: vulnerable_identity_san_only(email, cert))
        _labkit(out, signed.bundle, artifact, inst, Identity(identity=email, issuer=inst.issuer.url))
        inst.close()
    return out


@define(
    "expired-cert",
    number=8,
    title="Expired certificate with no verified signing time",
    refs=("TOB-SIGSTORE-3 (sigstore-rust PR #160)", "protobuf-specs TransparencyLogEntry.integrated_time"),
    summary="A leaked ephemeral key signs after its certificate expired; the bundle claims an earlier, unsigned time.",
    fixed_behaviour="use only verified times (a verified SET or RFC 3161 timestamp); none means reject",
    expected_reason="time.no_verified_source",
    modes=("unverified-signing-time", LABKIT_MODE),
)
def expired_cert(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``expired-cert``: a certificate used outside its validity window."""
    out = scenario.outcome()
    email = "ci@example.com"
    with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
        inst = _instance(tmp, lab)

        key = generate("ecdsa-p256", lab=lab, label="attacks/ci-ephemeral")
        token = inst.issuer.mint(email)
        issued = inst.ca.issue(token, CertificateRequest.create(key, token))
        cert = issued.certificate
        out.step("victim", f"CI gets a short-lived certificate for {email}, valid until "
                           f"{cert.not_valid_after_utc.isoformat()}")
        out.step("attacker", "finds the ephemeral private key in a CI log, together with the certificate")
        assert hasattr(inst.clock, "advance")
        inst.clock.advance(_dt.timedelta(hours=2))
        out.step("attacker", "two hours later (certificate expired) signs a malicious build and logs it")
        artifact = b"malicious build signed with a leaked key\n"
        sig = key.sign(artifact)
        entry = inst.log_append(hashedrekord_body(sig, issued.pem(), hashlib.sha256(artifact).digest()))
        claimed = int(cert.not_valid_before_utc.timestamp()) + 60
        b_entry = replace(entry.to_bundle_entry(), inclusion_promise=None, integrated_time=claimed)
        bundle = Bundle(BUNDLE_V03_MEDIA_TYPE,
                        VerificationMaterial(certificate=issued.der(), tlog_entries=[b_entry]),
                        MessageSignature(hashlib.sha256(artifact).digest(), sig))
        out.step("attacker", "drops the SET from the bundle and writes integratedTime = one minute after NotBefore")
        out.touch("bundle", "malicious.bundle", f"integratedTime {claimed} (unsigned), no inclusionPromise")
        out.touch("log entry", f"#{entry.log_index}", f"really integrated {entry.integrated_time}")
        out.evidence["times"] = {
            "certificate not after": cert.not_valid_after_utc.isoformat(),
            "claimed (unsigned)": _dt.datetime.fromtimestamp(claimed, _dt.timezone.utc).isoformat(),
            "really logged": _dt.datetime.fromtimestamp(entry.integrated_time, _dt.timezone.utc).isoformat(),
        }

        def vulnerable() -> None:
            VerifyingKey.from_key(cert.public_key()).verify(sig, artifact)  # type: ignore[arg-type]
            vulnerable_unverified_signing_time(cert, claimed)

        out.judge_call("unverified-signing-time", vulnerable)
        _labkit(out, bundle, artifact, inst, Identity(identity=email, issuer=inst.issuer.url))
        inst.close()
    return out
