"""Scenario 10: attestation type confusion (GHSA-vjxv-45g9-9296 / CVE-2022-35929 class).

The admission rule is ``verify-attestation --type slsaprovenance1``. The image
carries a genuine, signed and logged attestation, but of another type (a
vulnerability scan). cosign < 1.10.1 verified whatever attestations it found
and then filtered by type only for policy evaluation: with none of the
requested type nothing failed, and the command passed. labkit requires a
verified attestation *of the requested type* and refuses otherwise.
"""

from __future__ import annotations

import tempfile

from labkit.attacks.sandbox import SandboxRegistry
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.vulnerable import vulnerable_cosign_verify_attestation_pre_1_10_1
from labkit.attest.attest import attest_image, image_attestations, verify_image_attestation
from labkit.bundle import Bundle
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.payloads import Envelope

__all__ = []

_WANTED = "slsaprovenance1"


@define(
    "attestation-type",
    number=10,
    title="verify-attestation --type satisfied by an attestation of another type",
    refs=("GHSA-vjxv-45g9-9296", "CVE-2022-35929", "GHSA-w6c6-c85g-mmv6"),
    summary="Provenance is required; the image only has a (genuine) vulnerability-scan attestation.",
    fixed_behaviour="require a verified attestation whose signed predicateType is the requested one",
    expected_reason="attestation.found",
    modes=("cosign-verify-attestation-pre-1.10.1", LABKIT_MODE),
)
def attestation_type(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``attestation-type``: a verified attestation of the wrong type must not pass."""
    out = scenario.outcome()
    key = generate("ecdsa-p256", lab=lab, label="attacks/ci-key")
    with tempfile.TemporaryDirectory(prefix="labkit-attack-") as tmp:
        inst = Instance.create(f"{tmp}/instance", seed=lab.seed)

        reg = SandboxRegistry(f"{tmp}/oci", lab)
        repo = "app"
        digest = reg.push_image(repo, b"app 5.0, built on a developer laptop\n", tag="5.0")
        store: OCILayout = reg.repo(repo)
        image = store.resolve(Digest.parse(digest))
        scan = {"scanner": {"uri": "pkg:generic/labkit-scan", "version": "1.0",
                            "result": []}, "metadata": {"scanStartedOn": "2026-01-01T12:00:00Z",
                                                        "scanFinishedOn": "2026-01-01T12:00:00Z"}}
        attest_image(store, image, "vuln", scan, key, docker_reference=f"{reg.host}/{repo}", instance=inst)
        out.step("ci", f"attests app:5.0 ({digest[:19]}…) with a vulnerability scan (type vuln), signed and logged")
        out.step("attacker", "built the image outside CI: there is no provenance attestation at all")
        out.touch("attestation", "vuln", "genuine, of the wrong type")
        found = image_attestations(store, digest)
        out.evidence["attached types"] = sorted(t for t, _ in found)
        envelopes = []
        for _t, data in found:
            b = data if isinstance(data, Bundle) else Bundle.from_json(data)
            if isinstance(b.content, Envelope):
                envelopes.append(b.content)
        out.step("victim", f"admission: verify-attestation --type {_WANTED} --key ci.pub app@{digest[:19]}…")
        out.judge_call("cosign-verify-attestation-pre-1.10.1", lambda: vulnerable_cosign_verify_attestation_pre_1_10_1(
            envelopes, key.public_key(), _WANTED))

        def labkit() -> None:
            r = verify_image_attestation(store, digest, _WANTED, trusted_root=inst.trusted_root_json(),
                                         key=key.public_key())
            out.evidence["labkit_checklist"] = r.checklist()

        out.judge_call(LABKIT_MODE, labkit)
        inst.close()
    return out
