"""Scenario 6: signature stripping and format downgrade.

cosign v3 ``verify`` defaults to ``--new-bundle-format`` but, when the OCI
referrers list is empty (or the lookup fails), quietly falls back to the
legacy ``.sig`` path, which in 3.0.0-3.0.3 is the GHSA-whqx-f9j3-ch6m path.
An attacker who can push to the registry swaps the tag to an image that has
no bundle referrer, only a forged legacy ``.sig``. A verifier that requires
the new format refuses instead of falling back: `labkit.verify.image.verify_image`
with ``require_bundle_format=True`` (``labkit verify --require-bundle-format``);
labkit's admission policy never reads ``.sig`` (`labkit.policy.sources`).
"""

from __future__ import annotations

from labkit.attacks.checks import require_bundle_format, sandbox_trusted_root
from labkit.attacks.sandbox import labkit_log, sign_image
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.tags import _ns, open_registry
from labkit.attacks.vulnerable import (
    LegacySignature,
    vulnerable_cosign_legacy_bundle_trusted_root,
    vulnerable_cosign_v3_referrers_fallback,
)
from labkit.errors import AttackError, LabkitError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.digest import Digest
from labkit.oci.signatures import list_bundles
from labkit.oci.signatures import sign_image as oci_sign_image
from labkit.payloads import simple_signing_payload
from labkit.verify.image import verify_image

__all__ = []


@define(
    "downgrade",
    number=6,
    title="Signature stripping: downgrade from bundle referrers to the legacy .sig",
    refs=("GHSA-whqx-f9j3-ch6m (downgrade path)", "giantswarm/retagger#1239"),
    summary="The tag now names an image with no bundle referrer; cosign v3 falls back to a forged legacy .sig.",
    fixed_behaviour="when the policy expects new-format bundles, an empty referrers list is a failure, never a "
                    "fallback",
    expected_reason="format.no_bundle",
    modes=("cosign-v3-referrers-fallback", LABKIT_MODE),
)
def downgrade(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``downgrade``: the new-format signature is hidden so the verifier falls back."""
    out = scenario.outcome()
    with labkit_log(lab) as log:
        key = generate("ecdsa-p256", lab=lab, label="attacks/release-key")
        with open_registry(lab, scenario.target) as reg:
            repo = f"{_ns(lab, scenario)}/app"
            store = reg.repo(repo)
            good = reg.push_image(repo, b"app 3.0\n", tag="3.0")
            oci_sign_image(store, store.resolve(Digest.parse(good)), key, docker_reference=f"{reg.host}/{repo}",
                           new_bundle_format=True, clock=lab.clock)
            out.step("publisher", f"signs app:3.0 ({good[:19]}…) with cosign v3: a bundle referrer (new format)")
            _, unrelated = sign_image(generate("ecdsa-p256", lab=lab, label="attacks/bystander"),
                                      f"{reg.host}/other", str(Digest.of(b"other")), log)
            assert unrelated is not None
            evil = reg.push_image(repo, b"app 3.0 with a backdoor\n", actor="attacker")
            payload = simple_signing_payload(f"{reg.host}/{repo}", evil)
            forged = LegacySignature(payload, key.sign(payload), None, unrelated.rekor_bundle())
            reg.write_signatures(repo, evil, [forged], actor="attacker")
            out.step("attacker", f"with the stolen key: pushes {evil[:19]}… with only a legacy .sig "
                                 "(forged rekorBundle, GHSA-whqx) and no bundle referrer")
            reg.tag(repo, "3.0", evil, actor="attacker")
            out.step("attacker", "re-points app:3.0 to it: the referrers list for that digest is empty")
            out.touch("image", "app:3.0", evil[:19] + "…")
            out.touch("signature manifest", reg.sig_tag(evil)[:19] + "….sig", "legacy, forged bundle")
            digest = reg.resolve(repo, "3.0")
            bundles = list_bundles(store, digest)
            out.evidence["referrers"] = {
                "verified digest": len(bundles),
                "original digest": len(list_bundles(store, good)),
            }
            out.step("victim", "cosign verify --key release.pub app:3.0 (new bundle format is the default)")
            def legacy() -> None:
                sigs = reg.signatures(repo, digest)
                if not sigs:
                    raise AttackError("the forged .sig is missing")
                vulnerable_cosign_legacy_bundle_trusted_root(
                    sigs[0], key=key.public_key(), log_keys=[log.public_key], expected_digest=digest)

            out.judge_call(
                "cosign-v3-referrers-fallback", lambda: vulnerable_cosign_v3_referrers_fallback(bundles, legacy)
            )
            out.judge_call(LABKIT_MODE, lambda: require_bundle_format(store, digest, key.public_key()))
            # Defence in depth: even when falling back, labkit checks the legacy rekorBundle against the log
            # (verify_image with a trusted root): the forged entry is bound to another signature.
            try:
                verify_image(store, digest, key.public_key(), trusted_root=sandbox_trusted_root(log))
                out.evidence["fallback, log checked"] = "accepted"
            except LabkitError as exc:
                out.evidence["fallback, log checked"] = f"rejected ({getattr(exc, 'reason', '')})"
    return out
