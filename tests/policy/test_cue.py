"""The CUE subset: what it evaluates, and that it refuses the rest."""

from __future__ import annotations

import pytest

from labkit.attest.predicates import CUSTOM_URI
from labkit.errors import PolicyError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.policy import StaticEvidenceSource, evaluate, load_policies
from labkit.policy.cue import compile_cue
from tests.policy.helpers import attestation, indent, pem

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "predicateType": CUSTOM_URI,
    "predicate": {"Data": "reviewed", "Timestamp": "2026-01-01T12:00:00Z", "score": 7, "ok": True,
                  "url": "https://ci.lab/x"},
}


@pytest.mark.parametrize(
    ("policy", "violations"),
    [
        (f'predicateType: "{CUSTOM_URI}"', []),
        ('predicate: Data: "reviewed"', []),
        ('predicate: Data: "other"', ['predicate.Data: "reviewed" does not satisfy "other"']),
        ('predicate: {\n  score: >=5 & <=10\n  ok: true\n}', []),
        ("predicate: score: >7", ["predicate.score: 7 does not satisfy >7"]),
        ('predicate: url: =~"^https://ci[.]lab/"', []),
        ('predicate: url: !~"^https://"', ['predicate.url: "https://ci.lab/x" does not satisfy !~"^https://"']),
        ('predicate: Data: "a" | "reviewed"', []),
        ("predicate: missing: 1", ["predicate.missing: missing"]),  # stricter than unification, on purpose
        ('predicate: score: "7"', ['predicate.score: 7 does not satisfy "7"']),
        ('// a comment\npredicate: Data: "reviewed", predicate: score: 7', []),
        ("predicate: score: >=5\npredicate: score: <=6", ["predicate.score: 7 does not satisfy <=6"]),
    ],
)
def test_cue_subset(policy: str, violations: list[str]) -> None:
    assert compile_cue(policy).violations(STATEMENT) == violations


@pytest.mark.parametrize(
    "policy",
    ['import "time"', "#Def: {a: 1}", "a: [1, 2]", "a: b", "a: {b: 1", "a: =~1", "", "a: 1 + 2", "let x = 1"],
)
def test_cue_refusals(policy: str) -> None:
    with pytest.raises(PolicyError):
        compile_cue(policy)


def test_cip_with_cue_policy() -> None:
    lab = Lab(seed="cue")
    key = generate("ecdsa-p256", lab=lab, label="k")
    text = f"""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: reviewed}}
spec:
  images: [{{glob: "registry.lab/**"}}]
  authorities:
  - key:
      data: |
{indent(pem(key), 8)}
    attestations:
    - name: must-be-reviewed
      predicateType: custom
      policy:
        type: cue
        data: |
          predicateType: "{CUSTOM_URI}"
          predicate: Data: "reviewed"
"""
    src = StaticEvidenceSource()
    good, bad = "registry.lab/app:good", "registry.lab/app:bad"
    src.add(good, attestation(good, key, CUSTOM_URI, {"Data": "reviewed", "Timestamp": "2026-01-01T12:00:00Z"}))
    src.add(bad, attestation(bad, key, CUSTOM_URI, {"Data": "not reviewed", "Timestamp": "2026-01-01T12:00:00Z"}))
    d_good, d_bad = evaluate(load_policies(text), [good, bad], src)
    assert d_good.allowed, d_good.reason
    assert not d_bad.allowed and "CUE policy: predicate.Data" in d_bad.reason
