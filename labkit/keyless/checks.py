"""Ordered check results for the keyless issuance path (token checks, proof of possession).

Every check the CA makes exists twice: an ``explain_*`` call returns an
`IssuanceCheck` (a `labkit.checks.CheckResult`: ordered steps, never raises
on bad input) and the enforcing call raises `IssuanceRefused` naming the
first failed step.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.checks import CheckResult, Step, StepTable
from labkit.errors import KeylessError, LabkitError

__all__ = []

#: The checks of an identity token (`labkit.keyless.oidc.explain_token`), in order: id -> (title, spec).
TOKEN_STEPS: StepTable = {
    "token.parse": ("token is a compact JWS (three parts)", "RFC 7519 §7.2"),
    "token.signature": ("signature verifies with the issuer's published JWKS", "RFC 7515 §5.2"),
    "token.issuer": ("iss is the issuer the CA trusts", "OpenID Connect Core §3.1.3.7 (2)"),
    "token.audience": ("aud contains the CA's audience", "RFC 7519 §4.1.3"),
    "token.time": ("token is within its validity (exp, nbf)", "RFC 7519 §4.1.4-4.1.5"),
}

#: The CA's checks after the token's (`labkit.keyless.ca.CertificateAuthority.explain_request`): id -> (title, spec).
ISSUANCE_STEPS: StepTable = {
    "csr.proof_of_possession": (
        "requester holds the private key of the public key",
        "Fulcio API: signed subject challenge or PKCS#10 self-signature (RFC 2986 §3)",
    ),
    "identity.certifiable": (
        "the token names an identity the CA certifies",
        "Fulcio OIDC identity rules (email_verified email, CI workflow, URI subject)",
    ),
    "key.algorithm": ("the ephemeral key is ECDSA or RSA", "Sigstore X.509 profile"),
}


class IssuanceRefused(KeylessError):
    """The CA (or the token check) refused; `step` names the check that failed, `reason` its code."""

    def __init__(
        self, message: str, *, step: str, reason: str = "", details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, details={"step": step, **(details or {})})
        self.step = step
        self.reason = reason or step


@dataclass
class IssuanceCheck(CheckResult):
    """The ordered steps of one keyless decision (token checks, then the CA's); raises `IssuanceRefused`."""

    passed_verdict = "ACCEPTED"
    failed_verdict = "REFUSED"

    def error(self, step: Step | None) -> LabkitError:
        """`IssuanceRefused` naming the failed step, with its expected and actual values."""
        if step is None:
            return IssuanceRefused(f"{self.subject} refused: the checks did not complete", step=self.incomplete_reason)
        details: dict[str, object] = {}
        if step.expected:
            details["expected"] = step.expected
        if step.actual:
            details["actual"] = step.actual
        return IssuanceRefused(
            f"{self.subject} refused at {step.id}: {step.detail}",
            step=step.id,
            reason=step.reason_code,
            details=details,
        )
