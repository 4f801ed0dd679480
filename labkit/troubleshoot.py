"""A troubleshooting catalogue: real verification failures, each reproduced offline, and `explain(text)`.

Every case carries the upstream tool's message (as users reported it; the
thread is named), what causes it, the fix, and a reproduction made with
labkit's lab instance (seeded, offline) whose checklist shows the failing step.
`explain` finds the cases whose message patterns match an error text; for text
it does not recognise it says so and lists the closest cases.

Sources: cosign README "Troubleshooting" (no matching signatures, identity
mismatch, bundle verification failed, Rekor entry not found, OIDC token
failure, timestamp threshold) and public issue threads (named per case).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import difflib
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labkit.attest.attest import sign_image_bundle
from labkit.bundle import Bundle
from labkit.checks import CheckResult
from labkit.errors import LabkitError
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_keyless
from labkit.keys import generate
from labkit.lab import FixedClock, Lab
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import list_bundles, list_signatures
from labkit.sign import sign_blob
from labkit.verify import AnyIdentity, Identity, explain_bundle

__all__ = ["CASES", "case", "data_present", "explain", "reproduce"]

GITHUB = "https://github.com"
_DATA = b"release 2.0\n"


@dataclass(frozen=True)
class Reproduction:
    """What labkit shows for a case: a checklist (`result`) or, when the failure is not a verification, `error`."""

    result: CheckResult | None
    error: str = ""
    note: str = ""

    def text(self) -> str:
        body = self.result.checklist() if self.result is not None else f"error: {self.error}"
        return body + (f"\n{self.note}" if self.note else "")


@dataclass(frozen=True)
class TroubleCase:
    """One known failure: upstream messages, cause, fix, labkit's reason code and a reproduction."""

    id: str
    title: str
    upstream: tuple[str, ...]
    patterns: tuple[str, ...]
    source: str
    cause: str
    fix: str
    labkit_reason: str
    reproduce: Callable[[Path], Reproduction]
    #: Vendored conformance cases (tests/vendor) the reproduction reads; absent in a clone without them.
    needs: tuple[str, ...] = ()

    def text(self) -> str:
        """The case as plain text."""
        lines = [f"{self.id}: {self.title}", "  upstream says:"]
        lines += [f"    {m}" for m in self.upstream]
        lines += [f"  seen in: {self.source}", f"  cause: {self.cause}", f"  fix: {self.fix}",
                  f"  labkit: fails with reason {self.labkit_reason} (labkit explain --reproduce shows the checklist)"]
        return "\n".join(lines)


# -- reproductions (lab instance, offline) ---------------------------------------------------------------------


def _instance(work: Path, seed: str = "troubleshoot") -> Instance:
    return Instance.create(work / seed, seed=seed)


def _keyless(work: Path, identity: str, expect_identity: str | None = None, regexp: str | None = None) -> Reproduction:
    inst = _instance(work)
    with inst:
        signed = sign_keyless(inst, _DATA, identity=identity)
        policy = Identity(identity=expect_identity, identity_regexp=regexp, issuer=inst.issuer.url)
        return Reproduction(explain_bundle(signed.bundle, _DATA, inst.trusted_root_json(), policy))


def _reusable_workflow(work: Path) -> Reproduction:
    return _keyless(work, f"{GITHUB}/acme/shared-workflows/.github/workflows/release.yml@refs/heads/main",
                    regexp=f"{GITHUB}/acme/app/.*")


def _ghe_host(work: Path) -> Reproduction:
    return _keyless(work, "https://acme.ghe.com/acme/app/.github/workflows/release.yml@refs/heads/main",
                    regexp=f"(?i){GITHUB}/acme/.*")


def _unanchored(work: Path) -> Reproduction:
    evil = f"{GITHUB}/evil/acme/app/.github/workflows/release.yml@refs/heads/main"
    rep = _keyless(work, evil, regexp="acme/app/.*")
    matched = re.search("acme/app/.*", evil) is not None
    return dataclasses.replace(rep, note=f"an unanchored search (re.search) {'ACCEPTS' if matched else 'rejects'} "
                                         f"{evil}; labkit matches the whole SAN (re.fullmatch) and rejects it")


def _key_pair(work: Path) -> Reproduction:
    lab = Lab(seed="troubleshoot")
    signer, other = generate("ecdsa-p256", lab=lab, label="signer"), generate("ecdsa-p256", lab=lab, label="other")
    return Reproduction(explain_bundle(sign_blob(_DATA, signer), _DATA, key=other.public_key()))


def _tampered_proof(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        b = sign_keyless(inst, _DATA, identity="dev@example.com").bundle
        entry = b.verification_material.tlog_entries[0]
        assert entry.inclusion_proof is not None
        root = bytearray(entry.inclusion_proof.root_hash)
        root[-1] ^= 1
        proof = dataclasses.replace(entry.inclusion_proof, root_hash=bytes(root))
        b.verification_material.tlog_entries[0] = dataclasses.replace(entry, inclusion_proof=proof)
        return Reproduction(explain_bundle(b, _DATA, inst.trusted_root_json(),
                                           Identity(identity="dev@example.com", issuer=inst.issuer.url)))


def _no_tlog(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        b = sign_keyless(inst, _DATA, identity="dev@example.com").bundle
        b.verification_material.tlog_entries = []
        return Reproduction(explain_bundle(b, _DATA, inst.trusted_root_json(),
                                           Identity(identity="dev@example.com", issuer=inst.issuer.url)))


def _bad_token(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        other = _instance(work, "another-issuer")
        with other:
            token = other.issuer.mint("dev@example.com")
        try:
            sign_keyless(inst, _DATA, identity_token=token)
        except LabkitError as exc:
            return Reproduction(None, exc.message)
    return Reproduction(None, "(signing unexpectedly succeeded)")


def _root_from(work: Path, *, seed: str) -> bytes:
    inst = _instance(work, seed)
    with inst:
        return inst.trusted_root_json()


def _stale_root(work: Path) -> Reproduction:
    stale = _root_from(work, seed="before-rotation")
    inst = _instance(work, "after-rotation")
    with inst:
        b = sign_keyless(inst, _DATA, identity="dev@example.com").bundle
        return Reproduction(
            explain_bundle(b, _DATA, stale, Identity(identity="dev@example.com", issuer=inst.issuer.url))
        )


def _expired_root(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        b = sign_keyless(inst, _DATA, identity="dev@example.com").bundle
        root = json.loads(inst.trusted_root_json())
        for log in root["tlogs"]:
            log["publicKey"]["validFor"]["end"] = "2020-01-01T00:00:00Z"
            log["publicKey"]["validFor"]["start"] = "2019-01-01T00:00:00Z"
        return Reproduction(explain_bundle(b, _DATA, json.dumps(root),
                                           Identity(identity="dev@example.com", issuer=inst.issuer.url)))


def _vendor_case(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / "tests" / "vendor" / "conformance" / "bundle-verify" / name


def _timestamp_threshold(work: Path) -> Reproduction:
    src = _vendor_case("rekor2-happy-path")
    if not src.exists():
        return Reproduction(None, "the vendored conformance case rekor2-happy-path is not installed")
    b = Bundle.from_json((src / "bundle.sigstore.json").read_bytes())
    b.verification_material.rfc3161_timestamps = []
    return Reproduction(explain_bundle(b, _vendor_case("a.txt").read_bytes(), (src / "trusted_root.json").read_bytes(),
                                       _any()))


def _any() -> AnyIdentity:
    return AnyIdentity()


def _clock_skew(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        b = sign_keyless(inst, _DATA, identity="dev@example.com").bundle
        behind = FixedClock(inst.clock.now() - _dt.timedelta(hours=1))  # the verifier's clock is an hour slow
        return Reproduction(explain_bundle(b, _DATA, inst.trusted_root_json(),
                                           Identity(identity="dev@example.com", issuer=inst.issuer.url), clock=behind))


def _legacy_bundle(work: Path) -> Reproduction:
    inst = _instance(work)
    with inst:
        s = sign_keyless(inst, _DATA, identity="dev@example.com")
        assert s.log_entry is not None  # the lab instance logs every signature
        legacy = json.dumps({"base64Signature": base64.b64encode(s.signature).decode(),
                             "cert": base64.b64encode(s.certificate.pem()).decode(),
                             "rekorBundle": s.log_entry.rekor_bundle()})
        return Reproduction(
            explain_bundle(
                legacy, _DATA, inst.trusted_root_json(), Identity(identity="dev@example.com", issuer=inst.issuer.url)
            ),
            note="fix: labkit bundle create --artifact FILE --rekor-bundle FILE.cosign-bundle -o out.json",
        )


def _referrers_only(work: Path) -> Reproduction:
    layout = OCILayout.init(work / "layout")
    built = build_image(layout, {"app.txt": b"v2\n"}, tag="v2")
    key = generate("ecdsa-p256", lab=Lab(seed="troubleshoot"), label="signer")
    sign_image_bundle(layout, built.descriptor, key, docker_reference="registry.example/app", instance=None)
    legacy, bundles = list_signatures(layout, built.descriptor.digest), list_bundles(layout, built.descriptor.digest)
    return Reproduction(None, f"a .sig-tag client finds {len(legacy)} signature(s): no signatures found",
                        note=f"the image has {len(bundles)} Sigstore bundle referrer(s), which an OCI 1.1 client finds")


CASES: tuple[TroubleCase, ...] = (
    TroubleCase(
        "identity-reusable-workflow", "a reusable workflow signed, the policy names the calling repository",
        ("cosign: none of the expected identities matched what was in the certificate, got subjects "
         "[https://github.com/smallstep/workflows/.github/workflows/goreleaser.yml@refs/heads/main]",
         "gh: failed to verify certificate identity: no matching certificate identity found"),
        (r"none of the expected identities matched", r"no matching certificate identity",
         r"failed to verify certificate identity"),
        "smallstep/cli#1070, camunda/camunda-platform-helm#4024, cli/cli#9045",
        "the certificate's SAN is the workflow that ran (the reusable one, in another repository), not the "
        "repository that called it",
        "expect the reusable workflow's identity (gh: --signer-repo/--signer-workflow; labkit: --signer-workflow) "
        "and pin the caller with --repo (source repository extension)",
        "policy.identity", _reusable_workflow),
    TroubleCase(
        "identity-ghe-host", "a GitHub Enterprise (ghe.com) host in the SAN",
        ('gh: expected SAN value to match regex "(?i)^https://github.com/myorg/", got '
         '"https://myorg-partnerdemo.ghe.com/..."',),
        (r"expected SAN value to match", r"ghe\.com"),
        "cli/cli#9543",
        "workflows of a GHE.com tenant are named after the tenant's host, not github.com",
        "use the tenant host (gh --hostname; labkit --hostname HOST with --owner/--repo)",
        "policy.identity", _ghe_host),
    TroubleCase(
        "identity-unanchored-regexp", "an identity regexp that is not anchored",
        ("cosign --certificate-identity-regexp 'acme/app' accepts https://github.com/evil/acme/app/...",),
        (r"identity-regexp", r"regexp .*(anchor|match)"),
        "cosign docs (regexp matched with MatchString); sigstore-go#89",
        "a regular expression that is searched, not matched whole, accepts any SAN containing it",
        "anchor it (^https://github\\.com/acme/app/...$) or give the exact --certificate-identity; labkit always "
        "matches the whole value",
        "policy.identity", _unanchored),
    TroubleCase(
        "no-matching-signatures", "verified with another key than the one that signed",
        ("cosign: no matching signatures: ... invalid signature when validating ASN.1 encoded signature",
         "cosign: error: no matching signatures"),
        (r"no matching signatures", r"invalid signature when validating"),
        "cosign README Troubleshooting",
        "the public key given is not the signer's (or the artifact changed)",
        "verify with the signer's public key (cosign public-key --key ...); compare artifact digests",
        "signature", _key_pair),
    TroubleCase(
        "bundle-verification-failed", "the bundle's log proof does not verify",
        ("cosign: bundle verification failed", "sigstore-js: VerificationError: invalid checkpoint signature",
         "cosign: invalid inclusion proof"),
        (r"bundle verification failed", r"invalid checkpoint signature", r"inclusion proof"),
        "cosign README Troubleshooting; sigstore/sigstore-js#1497",
        "the bundle was altered in transit, or its log entry is of a kind/version the client does not support",
        "obtain the bundle again from its source; check that the client supports its entries (labkit bundle inspect)",
        "tlog.inclusion_proof", _tampered_proof),
    TroubleCase(
        "rekor-entry-not-found", "no transparency-log entry for the signature",
        ("cosign: signature not found in transparency log",
         "cosign: could not find a valid tlog entry for provided blob, found 1 invalid entries"),
        (r"not found in transparency log", r"could not find a valid tlog entry", r"tlog entry"),
        "ekristen/cast#69; sigstore/cosign#1406",
        "signed without uploading to the log (--tlog-upload=false), or the bundle was stripped of its entry",
        "sign with the log enabled; or, for key-signed artifacts you trust by key alone, say so explicitly "
        "(--insecure-ignore-tlog)",
        "tlog.missing", _no_tlog),
    TroubleCase(
        "oidc-token-failure", "the identity token is refused",
        ("cosign: error getting signer: getting key from Fulcio: retrieving cert: ... oidc: id token issued by a "
         "different provider",
         "cosign: getting signer: getting key from Fulcio: ... token is expired"),
        (r"id token", r"oidc", r"identity token", r"token is expired", r"getting key from Fulcio"),
        "cosign README Troubleshooting",
        "the token is expired, for another audience, or from an issuer the CA does not trust",
        "get a fresh token from an issuer the CA trusts (audience sigstore)",
        "(signing refused)", _bad_token),
    TroubleCase(
        "expired-trust-root", "the trusted root's log key is outside its validity window",
        ("policy-controller: tuf: failed to decode root.json: expired at 2024-06-14...",),
        (r"expired at", r"root\.json"),
        "sigstore/policy-controller#1496",
        "the embedded or cached trust material expired, or its key windows do not cover the signing time",
        "update the client (new embedded root) or pass a current --trusted-root",
        "tlog.key_validity", _expired_root),
    TroubleCase(
        "stale-cache-key-rotation", "a stale trust cache after a key rotation",
        ("cosign: getting ctlog public keys: updating local metadata and targets: error updating to TUF remote "
         "mirror: invalid key",
         "cosign: tuf: failed to decode snapshot.json: expired at ..."),
        (r"invalid key", r"TUF", r"snapshot\.json", r"ctlog public keys"),
        "sigstore/cosign#3614, sigstore/cosign#2763",
        "the local trust cache predates the log or CA key that signed; the bundle's log is unknown to it",
        "refresh the trust root (rm -rf ~/.sigstore; cosign initialize) or pass the current --trusted-root",
        "tlog.unknown_log", _stale_root),
    TroubleCase(
        "referrers-only", "signatures stored only as OCI referrers; an older client finds none",
        ("cosign 2.x: Error: no signatures found",
         "containers/image: A signature was required, but no signature exists",
         "kyverno: .attestors[0].entries[0].keyless: no signatures found"),
        (r"no signatures found", r"no signature exists", r"signature was required"),
        "nuts-foundation/nuts-node#4555, coreos/rpm-ostree#5509, kyverno/kyverno#16854",
        "cosign v3 stores bundles as OCI 1.1 referrers, not under the sha256-<digest>.sig tag older clients read",
        "upgrade the client (cosign >= 3, kyverno with cosignOCI11), or sign with the legacy tag too",
        "(no .sig signatures)", _referrers_only),
    TroubleCase(
        "timestamp-threshold", "no verified signing time (timestamp threshold not met)",
        ("cosign: failed to verify timestamps: threshold not met for verified log entry integrated timestamps: 0 < 1",
         "sigstore-python: not enough timestamps validated to meet the validation threshold (0/1)"),
        (r"threshold not met", r"validation threshold", r"timestamps"),
        "cosign README Troubleshooting; sigstore/sigstore-python#1421",
        "a Rekor v2 entry has no integrated time, so an RFC 3161 timestamp from a trusted TSA is required; it is "
        "missing, or its TSA is not in the trusted root",
        "sign with a timestamp authority; verify with a trusted root listing that TSA (and a client that knows "
        "Rekor v2)",
        "time.no_verified_source", _timestamp_threshold, needs=("rekor2-happy-path", "a.txt")),
    TroubleCase(
        "clock-skew", "a signing time in the future (clock skew)",
        ("sigstore-python: [9, 0, 'certificate is not yet valid']",
         "gitsign: timestamp authority verification failed"),
        (r"not yet valid", r"in the future", r"timestamp authority verification failed"),
        "sigstore/sigstore-python#173, sigstore/gitsign#589",
        "the signer's or verifier's clock is off: a signed time lies after the verifier's now",
        "fix the clock (NTP) on the machine that signed or verifies",
        "time.in_future", _clock_skew),
    TroubleCase(
        "legacy-cosign-bundle", "a legacy .cosign-bundle handed to a bundle verifier",
        ("sigstore-python: The provided bundle is malformed ... unsupported bundle format",
         "cosign 2.4: (fails on .sigstore.json without --new-bundle-format)"),
        (r"bundle is malformed", r"unsupported bundle format", r"new-bundle-format"),
        "rogerbinns/apsw#549; Dicklesworthstone/mcp_agent_mail_rust#142",
        "cosign's old --bundle output ({base64Signature, cert, rekorBundle}) is not a Sigstore bundle",
        "convert it: labkit bundle create --artifact FILE --rekor-bundle FILE.cosign-bundle -o FILE.sigstore.json",
        "bundle.parse", _legacy_bundle),
)


@dataclass(frozen=True)
class Match:
    """What `explain` found: matching cases, or (none matched) the closest ones."""

    cases: tuple[TroubleCase, ...]
    exact: bool

    def text(self) -> str:
        """The matched cases as plain text."""
        if not self.cases:
            return "no case matches that text, and none is close"
        head = "" if self.exact else ("labkit does not recognise this error text; the closest cases are:\n")
        return head + "\n\n".join(c.text() for c in self.cases)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def explain(text: str, *, closest: int = 3) -> Match:
    """The cases whose patterns match `text` (most specific first); else the `closest` by similarity."""
    if not text.strip():
        return Match(tuple(CASES[:closest]), exact=False)
    norm = _norm(text)
    scored = []
    for case in CASES:
        hits = [p for p in case.patterns if re.search(p, norm, re.IGNORECASE)]
        if hits:
            scored.append((max(len(p) for p in hits), case))
    if scored:
        scored.sort(key=lambda pair: -pair[0])
        return Match(tuple(c for _, c in scored), exact=True)
    ranked = sorted(CASES, key=lambda c: -max(difflib.SequenceMatcher(None, norm, _norm(m)).ratio()
                                               for m in (*c.upstream, c.title)))
    return Match(tuple(ranked[:closest]), exact=False)


def case(case_id: str) -> TroubleCase:
    """The case called `case_id`; a labkit error listing the known ids otherwise."""
    for c in CASES:
        if c.id == case_id:
            return c
    raise LabkitError(f"no troubleshooting case {case_id!r}", hint="known cases: " + ", ".join(c.id for c in CASES))


def data_present(case: TroubleCase) -> bool:
    """Whether every vendored conformance file the case's reproduction reads is installed."""
    return all(_vendor_case(name).exists() for name in case.needs)


def reproduce(case: TroubleCase, work: Path | None = None) -> Reproduction:
    """Run a case's offline reproduction (in `work`, default a temporary directory)."""
    if work is not None:
        return case.reproduce(work)
    with tempfile.TemporaryDirectory(prefix="labkit-troubleshoot-") as tmp:
        return case.reproduce(Path(tmp))
