"""Policy decisions for a table of images and policies."""

from __future__ import annotations

import pytest

from labkit.attest.predicates import SLSA_PROVENANCE_V1_URI
from labkit.errors import VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.policy import StaticEvidenceSource, decisions_table, enforce, evaluate, load_policies
from tests.policy.helpers import attestation, indent, pem, signature

LAB = Lab(seed="policy-tests")
GOOD = generate("ecdsa-p256", lab=LAB, label="release")
OTHER = generate("ecdsa-p256", lab=LAB, label="attacker")
CI_KEY = generate("ed25519", lab=LAB, label="ci")
ISSUER = "https://oidc.lab.test"

PROVENANCE = {
    "buildDefinition": {"buildType": "https://labkit.dev/build/v1", "externalParameters": {"ref": "main"}},
    "runDetails": {"builder": {"id": "https://labkit.dev/builder"}},
}

CIP = f"""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: release-key
spec:
  images:
  - glob: "registry.lab/prod/*"
  authorities:
  - name: release
    key:
      data: |
{indent(pem(GOOD), 8)}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: ci-keyless
spec:
  images:
  - glob: "registry.lab/ci/**"
  authorities:
  - keyless:
      url: https://ca.lab.test
      identities:
      - issuer: {ISSUER}
        subjectRegExp: "^ci@lab\\\\.test$"
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: provenance
spec:
  images:
  - glob: "registry.lab/built/**"
  authorities:
  - name: builder
    key:
      data: |
{indent(pem(GOOD), 8)}
    attestations:
    - name: must-have-provenance
      predicateType: slsaprovenance1
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: warn-only
spec:
  mode: warn
  images:
  - glob: "registry.lab/dev/**"
  authorities:
  - key:
      data: |
{indent(pem(GOOD), 8)}
"""


def _source() -> StaticEvidenceSource:
    src = StaticEvidenceSource()
    src.add("registry.lab/prod/app:v1", signature("registry.lab/prod/app:v1", GOOD))
    src.add("registry.lab/prod/wrong:v1", signature("registry.lab/prod/wrong:v1", OTHER))
    src.add("registry.lab/ci/team/tool:v1",
            signature("registry.lab/ci/team/tool:v1", CI_KEY, issuer=ISSUER, subject="ci@lab.test"))
    src.add("registry.lab/ci/team/evil:v1",
            signature("registry.lab/ci/team/evil:v1", CI_KEY, issuer=ISSUER, subject="ci@lab.test.evil"))
    src.add("registry.lab/ci/other:v1",
            signature("registry.lab/ci/other:v1", CI_KEY, issuer="https://other", subject="ci@lab.test"))
    img = "registry.lab/built/app:v1"
    src.add(img, attestation(img, GOOD, SLSA_PROVENANCE_V1_URI, PROVENANCE))
    img2 = "registry.lab/built/sbom-only:v1"
    src.add(
        img2, attestation(img2, GOOD, "https://cyclonedx.org/bom", {"bomFormat": "CycloneDX", "specVersion": "1.5"})
    )
    src.add(img2, signature(img2, GOOD))
    img3 = "registry.lab/built/bad-provenance:v1"
    src.add(img3, attestation(img3, GOOD, SLSA_PROVENANCE_V1_URI, {"runDetails": {}}))
    return src


TABLE = [
    ("registry.lab/prod/app:v1", "allow", "signature verified"),
    ("registry.lab/prod/unsigned:v1", "deny", "no signature found"),
    ("registry.lab/prod/wrong:v1", "deny", "no signature from"),
    ("registry.lab/prod/team/app:v1", "deny", "no policy matches"),  # '*' does not cross '/'
    ("registry.lab/production/app:v1", "deny", "no policy matches"),
    ("registry.lab/ci/team/tool:v1", "allow", "signature verified"),
    ("registry.lab/ci/team/evil:v1", "deny", "no signature from"),
    ("registry.lab/ci/other:v1", "deny", "no signature from"),
    ("registry.lab/built/app:v1", "allow", "attestations verified"),
    ("registry.lab/built/sbom-only:v1", "deny", "no attestation of type https://slsa.dev/provenance/v1"),
    ("registry.lab/built/bad-provenance:v1", "deny", "not a valid slsaprovenance1"),
    ("registry.lab/dev/anything:v1", "allow", "only warn-mode"),
    ("busybox", "deny", "no policy matches"),
]


@pytest.mark.parametrize(("image", "verdict", "reason"), TABLE)
def test_decision_table(image: str, verdict: str, reason: str) -> None:
    policies = load_policies(CIP)
    (d,) = evaluate(policies, [image], _source())
    assert d.verdict == verdict, d.reason
    assert reason in d.reason


def test_warn_mode_keeps_warning() -> None:
    (d,) = evaluate(load_policies(CIP), ["registry.lab/dev/x:v1"], _source())
    assert d.allowed and d.warnings and "warn-only" in d.warnings[0]


def test_no_match_modes() -> None:
    policies = load_policies(CIP)
    assert evaluate(policies, ["busybox"], _source(), no_match="allow")[0].allowed
    assert evaluate(policies, ["busybox"], _source(), no_match="warn")[0].warnings


def test_enforce_raises_naming_policy() -> None:
    policies = load_policies(CIP)
    assert enforce(policies, "registry.lab/prod/app:v1", _source()).allowed
    with pytest.raises(VerificationError) as err:
        enforce(policies, "registry.lab/prod/unsigned:v1", _source())
    assert err.value.step == "policy:release-key" and err.value.reason == "policy.denied"


def test_all_matching_policies_must_pass() -> None:
    extra = CIP + """
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: deny-all-prod
spec:
  images: [{glob: "registry.lab/**"}]
  authorities: [{static: {action: fail}}]
"""
    (d,) = evaluate(load_policies(extra), ["registry.lab/prod/app:v1"], _source())
    assert not d.allowed and "deny-all-prod" in d.reason


def test_bad_image_reference_is_a_deny_not_a_crash() -> None:
    (d,) = evaluate(load_policies(CIP), ["Not An Image"], _source())
    assert not d.allowed and "does not parse" in d.reason


def test_table_dataframe() -> None:
    ds = evaluate(load_policies(CIP), [row[0] for row in TABLE], _source())
    df = decisions_table(ds)
    assert list(df.columns) == ["image", "decision", "reason"]
    assert list(df["decision"]) == [row[1] for row in TABLE]


KYVERNO = f"""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: verify
spec:
  validationFailureAction: Enforce
  rules:
  - name: signed
    match:
      any:
      - resources:
          kinds: [Pod]
    verifyImages:
    - imageReferences: ["registry.lab/prod/*"]
      attestors:
      - count: 1
        entries:
        - keys:
            publicKeys: |-
{indent(pem(GOOD), 14)}
        - keyless:
            issuer: {ISSUER}
            subject: "*@lab.test"
  - name: provenance
    verifyImages:
    - imageReferences: ["registry.lab/built/*"]
      attestations:
      - type: https://slsa.dev/provenance/v1
        attestors:
        - entries:
          - keys:
              publicKeys: |-
{indent(pem(GOOD), 16)}
        conditions:
        - all:
          - key: "{{{{ runDetails.builder.id }}}}"
            operator: Equals
            value: "https://labkit.dev/*"
"""


@pytest.mark.parametrize(
    ("image", "verdict"),
    [
        ("registry.lab/prod/app:v1", "allow"),
        ("registry.lab/prod/team/app:v1", "deny"),  # Kyverno '*' crosses '/': matches, but unsigned
        ("registry.lab/prod/wrong:v1", "deny"),
        ("registry.lab/built/app:v1", "allow"),
        ("registry.lab/built/sbom-only:v1", "deny"),
    ],
)
def test_kyverno(image: str, verdict: str) -> None:
    (d,) = evaluate(load_policies(KYVERNO), [image], _source())
    assert d.verdict == verdict, d.reason


def test_kyverno_condition_failure() -> None:
    text = KYVERNO.replace('"https://labkit.dev/*"', '"https://other.builder/*"')
    (d,) = evaluate(load_policies(text), ["registry.lab/built/app:v1"], _source())
    assert not d.allowed and "condition failed: runDetails.builder.id Equals" in d.reason


def test_kyverno_keyless_glob_subject() -> None:
    src = _source()
    img = "registry.lab/prod/ci-built:v1"
    src.add(img, signature(img, CI_KEY, issuer=ISSUER, subject="bot@lab.test"))
    (d,) = evaluate(load_policies(KYVERNO), [img], src)
    assert d.allowed, d.reason
