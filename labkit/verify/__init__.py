"""Sigstore bundle verification that explains every step.

* `explain_bundle(bundle, artifact, trusted_root, policy=None, key=None)` returns a
  `VerificationResult` (ordered `Step`s) and never raises on bad input.
* `verify_bundle(...)` raises `BundleVerificationError` (a `VerificationError`)
  whose ``reason`` is a stable code naming the failed step.
* `TrustedRoot` parses Sigstore TrustedRoot JSON; `TrustedRoot.production()`
  is the pinned public-good root.
* `Identity` is the signer policy (exact or whole-string regexp).
"""

from __future__ import annotations

from labkit.verify.policy import AnyIdentity, Identity, certificate_identity
from labkit.verify.steps import BundleVerificationError, Step, StepStatus, VerificationResult
from labkit.verify.trustroot import TrustedRoot
from labkit.verify.verifier import REASONS, STEPS, Artifact, explain_bundle, verify_bundle

__all__ = [
    "AnyIdentity", "Artifact", "BundleVerificationError", "Identity", "REASONS", "STEPS", "Step", "StepStatus",
    "TrustedRoot", "VerificationResult", "certificate_identity", "explain_bundle", "verify_bundle",
]
