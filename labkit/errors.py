"""The labkit error model.

Every failure that bad input can cause surfaces as a `LabkitError`: a short
message for one line of output, and `diagnostics()` for the longer story of
what was wrong and what to check. Subclasses are grouped by domain so callers
can catch exactly what they handle::

    LabkitError
    ├── InputError            a file is missing, truncated or unreadable
    ├── LabModeError          lab (seeded) and real material were mixed
    ├── KeyFileError          keys and key files
    │   └── PasswordError     wrong or missing password
    ├── PayloadError          simple-signing, DSSE, in-toto statements
    ├── BundleFormatError     a Sigstore bundle that does not parse
    ├── LogError              the transparency log
    │   ├── ProofError        inclusion / consistency proofs
    │   └── CheckpointError   signed notes
    ├── StoreError            OCI layout and registry storage
    │   ├── DigestError       a digest that does not match or parse
    │   ├── ReferenceError_   an image reference that does not parse
    │   └── RegistryError     an HTTP registry misbehaved
    ├── KeylessError          OIDC tokens, certificate issuance, trust roots
    ├── VerificationError     a verification step failed (has `step` and `reason`)
    ├── AttestationError      predicates and their types
    ├── PolicyError           admission policies
    └── AttackError           the attack lab itself broke (not "attack caught")

Modules may define finer subclasses next to the code that raises them.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AttackError",
    "AttestationError",
    "BundleFormatError",
    "CheckpointError",
    "DigestError",
    "InputError",
    "KeyFileError",
    "KeylessError",
    "LabModeError",
    "LabkitError",
    "LogError",
    "PasswordError",
    "PayloadError",
    "PolicyError",
    "ProofError",
    "ReferenceError_",
    "RegistryError",
    "StoreError",
    "VerificationError",
]


class LabkitError(Exception):
    """Base of every error labkit raises on bad input.

    `message` is one short line. `hint` says what to check. `details` holds
    named values (expected vs actual, a path, a digest) shown by
    `diagnostics()` in a stable order.
    """

    hint = "Check the input you gave labkit."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        self.details: dict[str, object] = dict(details or {})

    def diagnostics(self) -> str:
        """A multi-line explanation: what went wrong, the values involved, what to check."""
        lines = [f"{type(self).__name__}: {self.message}"]
        for name, value in self.details.items():
            lines.append(f"  {name}: {value}")
        if self.hint:
            lines.append(f"What to check: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


class InputError(LabkitError):
    """A file or argument could not be read or is not what it claims to be."""

    hint = "Check that the path exists, is complete and is the kind of file expected."


class LabModeError(LabkitError):
    """Seeded lab material was used where real material was required, or the reverse."""

    hint = (
        "Lab mode derives keys from a public seed and is for teaching only. "
        "Pass allow_lab=True (or --lab) to use lab material on purpose."
    )


class KeyFileError(LabkitError):
    """A key or key file is malformed, of an unsupported type, or refused."""

    hint = "Check the key file: its PEM type, its algorithm and that it is complete."


class PasswordError(KeyFileError):
    """The password does not decrypt the key (or none was given)."""

    hint = "Check the password (COSIGN_PASSWORD or the prompt)."


class PayloadError(LabkitError):
    """A signed payload (simple-signing, DSSE envelope, in-toto statement) is malformed."""

    hint = "Check the payload's JSON against its specification."


class BundleFormatError(LabkitError):
    """A Sigstore bundle does not parse or violates the bundle specification."""

    hint = "The bundle is malformed and may have been modified; obtain it again from its source."


class LogError(LabkitError):
    """The transparency log refused an operation or holds inconsistent data."""

    hint = "Check the log entry, index or tree size you asked for."


class ProofError(LogError):
    """An inclusion or consistency proof is malformed or does not verify."""

    hint = "The proof does not lead to the expected root; the log or the proof may have been tampered with."


class CheckpointError(LogError):
    """A checkpoint (signed note) is malformed or its signature does not verify."""

    hint = "Check the checkpoint text (origin, size, root) and the log key it should be signed with."


class StoreError(LabkitError):
    """OCI storage (layout directory or registry) failed or holds bad content."""

    hint = "Check the image reference and the storage location."


class DigestError(StoreError):
    """A digest is malformed or content does not match its digest."""

    hint = "Content must hash to its digest; the store or the transfer may be corrupt."


class ReferenceError_(StoreError):
    """An image reference does not parse (named with a trailing underscore to avoid the builtin)."""

    hint = "Image references look like registry/repository:tag or registry/repository@sha256:<64 hex>."


class RegistryError(StoreError):
    """An OCI registry returned an error or content that cannot be trusted."""

    hint = "Check that the registry is running and reachable, and what it answered."


class KeylessError(LabkitError):
    """Keyless signing failed: a token, a certificate request or a trust root was refused."""

    hint = "Check the identity token (issuer, audience, expiry) and the lab instance."


class VerificationError(LabkitError):
    """A verification step failed.

    `step` is the stable id of the failed step; `reason` a stable reason code
    (for example ``tlog.inclusion_proof``) that tests and pipelines can match.
    """

    hint = "The artifact, signature or its evidence is not what it claims to be; do not trust it."

    def __init__(
        self,
        message: str,
        *,
        step: str = "",
        reason: str = "",
        hint: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.step = step
        self.reason = reason or step

    def diagnostics(self) -> str:
        """The base diagnostics plus the reason code."""
        text = super().diagnostics()
        if self.reason:
            text += f"\nReason code: {self.reason}"
        return text


class AttestationError(LabkitError):
    """An attestation or predicate is malformed or of an unknown type."""

    hint = "Check the predicate type URI and that the predicate matches its schema."


class PolicyError(LabkitError):
    """An admission policy is malformed or uses features labkit does not understand."""

    hint = "Check the policy YAML; labkit refuses what it cannot evaluate rather than allowing it."


class AttackError(LabkitError):
    """An attack scenario could not be built (not: the attack was caught)."""

    hint = "The scenario's sandbox could not be set up; check the registry and lab instance."
