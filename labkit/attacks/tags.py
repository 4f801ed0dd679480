"""Scenarios 1-3: tags are mutable, signatures bind digests.

* ``tag-swap``: the attacker re-points ``app:1.0`` to a malicious manifest
  between verification and pull. Verify-by-tag then pull-by-tag resolves the
  tag twice (TOCTOU) and installs unverified content; resolving once and
  verifying and pulling that digest does not. The tag history is the
  forensics trail.
* ``rollback``: ``app:1.1`` is moved to the older, validly signed but
  vulnerable 1.0 digest. Signature checks pass; a signed ``tag`` annotation
  checked at verification catches it.
* ``cross-repo-replay``: a `.sig` copied into another repository verifies
  there, because cosign ignores ``docker-reference``. Checking it stops the
  replay; its cost is that legitimate mirrors must be listed.

Registry scenarios run against a real registry when one is given
(`labkit.attacks.scenario.RegistryTarget`), else against OCI layouts.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator

from labkit.attacks.checks import check_docker_reference, pull_verified
from labkit.attacks.sandbox import SandboxRegistry
from labkit.attacks.scenario import LABKIT_MODE, Outcome, RegistryTarget, Scenario, define
from labkit.attacks.vulnerable import vulnerable_cosign_digest_only_claims, vulnerable_verify_then_pull_by_tag
from labkit.errors import LabkitError, VerificationError
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.oci.digest import Digest
from labkit.oci.signatures import sign_image
from labkit.verify.image import verify_image

__all__ = ["sign"]


@contextlib.contextmanager
def open_registry(lab: Lab, target: RegistryTarget | None) -> Iterator[SandboxRegistry]:
    """A sandbox registry: the scenario's `RegistryTarget` if one is given, else OCI layouts in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
        yield SandboxRegistry(tmp, lab, registry=target.url if target else None,
                              storage=target.storage if target else None)


def sign(reg: SandboxRegistry, repo: str, digest: str, key: SigningKey,
         annotations: dict[str, str] | None = None) -> None:
    """``cosign sign --key`` on `repo@digest` (labkit.oci.signatures.sign_image, no log)."""
    store = reg.repo(repo)
    sign_image(store, store.resolve(Digest.parse(digest)), key, docker_reference=f"{reg.host}/{repo}",
               annotations=annotations)


def _ns(lab: Lab, scenario: Scenario) -> str:
    # A fresh namespace per run, so a shared registry never mixes runs (deterministic per seed).
    return f"{scenario.id}-{lab.derive('attacks/namespace', 4).hex()}"


def _verify(
    reg: SandboxRegistry, repo: str, key: SigningKey, annotations: dict[str, str] | None = None
) -> Callable[[str], None]:
    def verify(digest: str) -> None:
        verify_image(reg.repo(repo), digest, key.public_key(), annotations=annotations)

    return verify


def _moves(reg: SandboxRegistry, repo: str, tag: str) -> list[dict[str, str]]:
    return [
        {
            "when": m.when,
            "actor": m.actor,
            "tag": tag,
            "from": (m.before or "(new)")[:19] + ("…" if m.before else ""),
            "to": m.after[:19] + "…",
        }
        for m in reg.history(repo, tag)
    ]


@define(
    "tag-swap",
    number=1,
    title="Tag swap between verification and pull (TOCTOU)",
    refs=("GHSA-wfqx-gjrf-g28r (Crossplane)", "cosign issue #648", "cosign TagReferenceMessage"),
    summary="The attacker re-points app:1.0 to a malicious manifest while the victim verifies by tag, then pulls "
            "by tag.",
    fixed_behaviour="resolve the tag once, verify that digest, pull that digest",
    expected_reason="image.digest_pinned",
    modes=("verify-then-pull-by-tag", LABKIT_MODE),
)
def tag_swap(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``tag-swap``: the tag is re-pointed between verify and pull."""
    out = scenario.outcome()
    key = generate("ecdsa-p256", lab=lab, label="attacks/release-key")
    with open_registry(lab, scenario.target) as reg:
        repo = f"{_ns(lab, scenario)}/app"
        good = reg.push_image(repo, b"app 1.0: the reviewed build\n", tag="1.0")
        sign(reg, repo, good, key)
        out.step("publisher", f"pushes app:1.0 = {good[:19]}… and signs that digest")
        evil = reg.push_image(repo, b"app 1.0: same version, with a backdoor\n", actor="attacker")
        out.step("attacker", f"has push access; uploads an unsigned manifest {evil[:19]}… (untagged)")
        out.touch("image", "app (malicious manifest)", evil[:19] + "…")

        def swap() -> None:
            reg.tag(repo, "1.0", evil, actor="attacker")

        out.step("victim", "runs: verify app:1.0, then pull app:1.0 (two tag resolutions)")
        out.step("attacker", "re-points app:1.0 to the malicious manifest between the two")
        installed: dict[str, str] = {}

        def vulnerable() -> None:
            d, _ = vulnerable_verify_then_pull_by_tag(
                lambda: reg.resolve(repo, "1.0"), _verify(reg, repo, key),
                lambda ref: reg.pull(repo, ref or "1.0"), swap)
            installed["vulnerable"] = d
            if d == good:
                raise LabkitError("the verified image was installed")

        out.judge_call("verify-then-pull-by-tag", vulnerable)
        out.touch("tag", "app:1.0", f"moved {good[:19]}… -> {evil[:19]}…")
        reg.tag(repo, "1.0", good, actor="publisher")
        out.step("publisher", "incident response: restores app:1.0; the same race is replayed against labkit")

        def fixed() -> None:
            d, _ = pull_verified(lambda: reg.resolve(repo, "1.0"), _verify(reg, repo, key),
                                 lambda ref: reg.pull(repo, ref), swap)
            installed["labkit"] = d
            if d == evil:
                return  # accepted: malicious content installed

            raise VerificationError(
                "the malicious manifest was never pulled: the pull was pinned to the verified digest",
                step="image.pull",
                reason="image.digest_pinned",
            )

        out.judge_call(LABKIT_MODE, fixed)
        try:
            _verify(reg, repo, key)(reg.resolve(repo, "1.0"))
            out.evidence["current_tag_verifies"] = "yes"
        except LabkitError as exc:
            out.evidence["current_tag_verifies"] = f"no ({getattr(exc, 'reason', '')})"
        out.evidence["installed"] = {k: ("malicious" if v == evil else "verified") for k, v in installed.items()}
        out.evidence["tag_history"] = _moves(reg, repo, "1.0")
        out.evidence["registry_tag_index"] = [d[:19] + "…" for d in reg.registry_tag_index(repo, "1.0")]
        out.evidence["store"] = reg.kind
    return out


@define(
    "rollback",
    number=2,
    title="Rollback by tag swap to an older, validly signed release",
    refs=("cosign SIGNATURE_SPEC (docker-reference ignored)", "cosign issue #542"),
    summary="app:1.1 is moved to the signed but vulnerable 1.0 digest; every signature check passes.",
    fixed_behaviour="sign the tag into the payload (-a tag=1.1) and check it against the tag being verified",
    expected_reason="payload.annotation.tag",
    modes=("cosign-claims-digest-only", LABKIT_MODE),
)
def rollback(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``rollback``: a tag moved to an older, validly signed digest."""
    out = scenario.outcome()
    key = generate("ecdsa-p256", lab=lab, label="attacks/release-key")
    with open_registry(lab, scenario.target) as reg:
        repo = f"{_ns(lab, scenario)}/app"
        old = reg.push_image(repo, b"app 1.0 (has CVE-2026-0001)\n", tag="1.0")
        sign(reg, repo, old, key, {"tag": "1.0"})
        new = reg.push_image(repo, b"app 1.1 (fixes CVE-2026-0001)\n", tag="1.1")
        sign(reg, repo, new, key, {"tag": "1.1"})
        out.step(
            "publisher", f"releases 1.0 ({old[:19]}…) then the fix 1.1 ({new[:19]}…), each signed with -a tag=<version>"
        )
        reg.tag(repo, "1.1", old, actor="attacker")
        out.step("attacker", "re-points app:1.1 to the old, vulnerable 1.0 digest (its signature is genuine)")
        out.touch("tag", "app:1.1", f"moved to {old[:19]}…")
        digest = reg.resolve(repo, "1.1")
        out.step("victim", f"verifies app:1.1 -> {digest[:19]}… with the release key")
        out.judge_call("cosign-claims-digest-only", lambda: vulnerable_cosign_digest_only_claims(
            reg.signatures(repo, digest), digest, key.public_key()))
        out.judge_call(LABKIT_MODE, lambda: _verify(reg, repo, key, {"tag": "1.1"})(digest))
        out.evidence["tag_history"] = _moves(reg, repo, "1.1")
    return out


@define(
    "cross-repo-replay",
    number=3,
    title="Cross-repository signature replay",
    refs=("cosign SIGNATURE_SPEC: docker-reference 'is ignored'",),
    summary="An org-signed debug image and its .sig are copied into prod/payments, where the org key is trusted.",
    fixed_behaviour="check critical.identity.docker-reference against the repository verified (mirrors must be listed)",
    expected_reason="payload.docker_reference",
    modes=("cosign-claims-digest-only", LABKIT_MODE),
)
def cross_repo_replay(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``cross-repo-replay``: a signature copied into another repository."""
    out = scenario.outcome()
    key = generate("ecdsa-p256", lab=lab, label="attacks/org-key")
    with open_registry(lab, scenario.target) as reg:
        ns = _ns(lab, scenario)
        src, dst, mirror = f"{ns}/sandbox/debug-shell", f"{ns}/prod/payments", f"{ns}/mirror/debug-shell"
        content = b"debug shell with root and no auth (for the sandbox only)\n"
        digest = reg.push_image(src, content, tag="latest")
        sign(reg, src, digest, key)
        out.step("publisher", f"signs sandbox/debug-shell@{digest[:19]}… with the org key")
        reg.push_image(dst, content, tag="latest", actor="attacker")
        sigs = reg.signatures(src, digest)
        reg.write_signatures(dst, digest, sigs, actor="attacker")
        out.step("attacker", "copies the image and its .sig manifest into prod/payments:latest")
        out.touch("image", "prod/payments:latest", digest[:19] + "…")
        out.touch("signature manifest", "prod/payments:" + reg.sig_tag(digest)[:19] + "….sig", "copied")
        out.step("victim", "admission: prod/payments must be signed by the org key")
        got = reg.resolve(dst, "latest")
        copied = reg.signatures(dst, got)
        out.judge_call("cosign-claims-digest-only", lambda: vulnerable_cosign_digest_only_claims(
            copied, got, key.public_key()))

        def labkit() -> None:
            check_docker_reference(reg.repo(dst), got, key.public_key(), f"{reg.host}/{dst}")

        out.judge_call(LABKIT_MODE, labkit)
        # The cost: a legitimate mirror is refused too, unless listed.
        reg.push_image(mirror, content, tag="latest", actor="mirror job")
        reg.write_signatures(mirror, digest, sigs, actor="mirror job")
        cost = {}
        # "listed": the verifier is told the mirror carries the source's signatures (--docker-reference SRC).
        for label, expected in (
            ("mirror, not listed", f"{reg.host}/{mirror}"),
            ("mirror, listed", f"{reg.host}/{src}"),
        ):
            try:
                check_docker_reference(reg.repo(mirror), digest, key.public_key(), expected)
                cost[label] = "accepted"
            except LabkitError as exc:
                cost[label] = f"rejected ({getattr(exc, 'reason', '')})"
        out.evidence["cost"] = cost
        out.evidence["signed_reference"] = sigs[0].payload.decode().split('"docker-reference":"')[1].split('"')[0] \
            .replace(reg.host, "<registry>")
    return out
