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

from labkit.policy.evaluate import StaticEvidenceSource, decisions_table, enforce, evaluate
from labkit.policy.glob import sigstore_glob_match
from labkit.policy.model import load_policies

__all__ = ["StaticEvidenceSource", "decisions_table", "enforce", "evaluate", "load_policies", "sigstore_glob_match"]
