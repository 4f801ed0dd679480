"""Identity policy: who must have signed, read from a Fulcio certificate.

A keyless signature is only as good as the identity check after it. Fulcio
puts the signer's identity in the Subject Alternative Name (URI, email, or
an ``OtherName`` username) and the OIDC issuer in extension
1.3.6.1.4.1.57264.1.8 (or the deprecated 1.3.6.1.4.1.57264.1.1).

`Identity` matches both, exactly or by regular expression; a regular
expression must match the **whole** value (``re.fullmatch``), so
``https://github.com/org/.*`` does not accept ``https://github.com/org/x@evil``
unless you mean it to.

    >>> policy = Identity(identity="alice@example.com", issuer="https://accounts.example.com")
    >>> policy.describe()
    'identity == alice@example.com, issuer == https://accounts.example.com'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography import x509

from labkit.errors import InputError, VerificationError
from labkit.verify.fulcio import der_utf8, fulcio_extensions

__all__ = [
    "AnyIdentity",
    "CertificateIdentity",
    "FULCIO_ISSUER_OID",
    "FULCIO_ISSUER_V2_OID",
    "FULCIO_USERNAME_OID",
    "Identity",
    "IdentityMismatch",
    "PolicyCheck",
    "certificate_identity",
]

FULCIO_ISSUER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
FULCIO_ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
FULCIO_USERNAME_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
_SPEC = "Fulcio certificate specification (OID 1.3.6.1.4.1.57264.1.8, SAN)"


class IdentityMismatch(VerificationError):
    """The certificate's identity or issuer is not the one the policy asks for."""


@dataclass(frozen=True)
class CertificateIdentity:
    """What a certificate says about its signer: SAN values and the OIDC issuer."""

    sans: tuple[str, ...]
    issuer: str | None

    @property
    def identity(self) -> str:
        """The first SAN value ("" if none)."""
        return self.sans[0] if self.sans else ""


def certificate_identity(cert: x509.Certificate) -> CertificateIdentity:
    """Read the signer identity (SAN URI/email/username) and OIDC issuer from a Fulcio certificate."""
    sans: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for name in san:
            if isinstance(name, (x509.UniformResourceIdentifier, x509.RFC822Name, x509.DNSName)):
                sans.append(str(name.value))
            elif isinstance(name, x509.OtherName) and name.type_id == FULCIO_USERNAME_OID:
                text = der_utf8(name.value)
                if text is not None:
                    sans.append(text)
    except (x509.ExtensionNotFound, ValueError):
        pass
    ext = fulcio_extensions(cert)
    issuer = ext.get("issuer", ext.get("issuer_v1"))
    if issuer is not None and issuer.startswith("(undecodable"):
        issuer = None
    return CertificateIdentity(tuple(sans), issuer)


@dataclass(frozen=True)
class PolicyCheck:
    """The outcome of a policy against one certificate."""

    ok: bool
    reason: str
    expected: str
    actual: str


def _compile(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InputError(f"{what} is not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class Identity:
    """Expected signer: exactly one of `identity` / `identity_regexp`, and of `issuer` / `issuer_regexp`.

    Regular expressions must match the whole value (``re.fullmatch``).
    """

    identity: str | None = None
    issuer: str | None = None
    identity_regexp: str | None = None
    issuer_regexp: str | None = None
    _identity_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _issuer_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if (self.identity is None) == (self.identity_regexp is None):
            raise InputError("an identity policy needs exactly one of identity and identity_regexp")
        if (self.issuer is None) == (self.issuer_regexp is None):
            raise InputError("an identity policy needs exactly one of issuer and issuer_regexp")
        for value, what in ((self.identity, "identity"), (self.issuer, "issuer")):
            if value is not None and not value:
                raise InputError(f"the expected {what} is empty")
        object.__setattr__(self, "_identity_re", _compile(self.identity_regexp, "identity_regexp"))
        object.__setattr__(self, "_issuer_re", _compile(self.issuer_regexp, "issuer_regexp"))

    def describe(self) -> str:
        """One line: what this policy accepts."""
        ident = f"identity == {self.identity}" if self.identity is not None else f"identity ~ /{self.identity_regexp}/"
        iss = f"issuer == {self.issuer}" if self.issuer is not None else f"issuer ~ /{self.issuer_regexp}/"
        return f"{ident}, {iss}"

    def _identity_ok(self, value: str) -> bool:
        if self._identity_re is not None:
            return self._identity_re.fullmatch(value) is not None
        return value == self.identity

    def _issuer_ok(self, value: str | None) -> bool:
        if value is None:
            return False
        if self._issuer_re is not None:
            return self._issuer_re.fullmatch(value) is not None
        return value == self.issuer

    def check(self, cert: x509.Certificate) -> PolicyCheck:
        """Compare the certificate with the policy; never raises on a mismatch."""
        ci = certificate_identity(cert)
        if not self._issuer_ok(ci.issuer):
            return PolicyCheck(False, "policy.issuer", self.describe().split(", ")[1], f"issuer == {ci.issuer}")
        # Fulcio certificate profile: exactly one SAN, the identity. A second name is never the one matched.
        if len(ci.sans) != 1 or not self._identity_ok(ci.sans[0]):
            actual = ", ".join(ci.sans) or "(no SAN)"
            if len(ci.sans) > 1:
                actual = f"{len(ci.sans)} SANs: {actual} (the Fulcio profile allows exactly one)"
            return PolicyCheck(False, "policy.identity", self.describe().split(", ")[0], f"identity == {actual}")
        return PolicyCheck(True, "", self.describe(), f"identity == {ci.identity}, issuer == {ci.issuer}")

    def verify(self, cert: x509.Certificate) -> None:
        """Raise `IdentityMismatch` unless the certificate matches."""
        result = self.check(cert)
        if not result.ok:
            raise IdentityMismatch(
                f"certificate {result.actual}, policy wants {result.expected}",
                step="policy.identity",
                reason=result.reason,
                details={"expected": result.expected, "actual": result.actual},
            )


@dataclass(frozen=True)
class AnyIdentity:
    """Accept any signer identity. Explicit on purpose: for teaching and for trusted pipelines only."""

    def describe(self) -> str:
        return "any identity (explicitly unchecked)"

    def check(self, cert: x509.Certificate) -> PolicyCheck:
        ci = certificate_identity(cert)
        return PolicyCheck(True, "", self.describe(), f"identity == {ci.identity}, issuer == {ci.issuer}")

    def verify(self, cert: x509.Certificate) -> None:
        return None
