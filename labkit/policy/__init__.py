"""Admission policy: ClusterImagePolicy and Kyverno verifyImages, evaluated per image.

    >>> from labkit.policy import load_policies, evaluate, StaticEvidenceSource
    >>> policies = load_policies('''
    ... apiVersion: policy.sigstore.dev/v1beta1
    ... kind: ClusterImagePolicy
    ... metadata: {name: open}
    ... spec:
    ...   images: [{glob: "registry.lab/**"}]
    ...   authorities: [{static: {action: pass}}]
    ... ''')
    >>> [d.verdict for d in evaluate(policies, ["registry.lab/app:v1", "busybox"], StaticEvidenceSource())]
    ['allow', 'deny']
"""

from __future__ import annotations

from labkit.policy.evaluate import (
    Decision,
    Evidence,
    EvidenceSource,
    PolicyResult,
    StaticEvidenceSource,
    decisions_table,
    enforce,
    evaluate,
    evaluate_image,
)
from labkit.policy.glob import kyverno_match, normalize_image, sigstore_glob_match
from labkit.policy.model import (
    AttestationRequirement,
    Authority,
    KeylessIdentity,
    Policy,
    load_policies,
    parse_policy_document,
)

__all__ = [
    "AttestationRequirement",
    "Authority",
    "Decision",
    "Evidence",
    "EvidenceSource",
    "KeylessIdentity",
    "Policy",
    "PolicyResult",
    "StaticEvidenceSource",
    "decisions_table",
    "enforce",
    "evaluate",
    "evaluate_image",
    "kyverno_match",
    "load_policies",
    "normalize_image",
    "parse_policy_document",
    "sigstore_glob_match",
]
