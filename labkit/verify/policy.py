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
from typing import Protocol, runtime_checkable

from cryptography import x509

from labkit.errors import InputError, VerificationError
from labkit.verify.fulcio import FULCIO_EXTENSIONS, der_utf8, fulcio_extensions

__all__ = ["AnyIdentity", "github_rules", "Identity", "IdentityPolicy", "PolicyCheck", "certificate_identity"]

_FULCIO_ISSUER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_FULCIO_ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_FULCIO_USERNAME_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
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
    ext = fulcio_extensions(cert)
    issuer = ext.get("issuer", ext.get("issuer_v1"))
    if issuer is not None and issuer.startswith("(undecodable"):
        issuer = None
    return CertificateIdentity(certificate_sans(cert), issuer)


def certificate_sans(cert: x509.Certificate) -> tuple[str, ...]:
    """The SAN values (URI, email, DNS name, Fulcio username) a certificate names, in order; never raises."""
    sans: list[str] = []
    try:
        # By OID (one comparison per extension, not an ABC isinstance): the same answer as get_extension_for_class.
        san = cert.extensions.get_extension_for_oid(x509.SubjectAlternativeName.oid).value
        for name in san if isinstance(san, x509.SubjectAlternativeName) else ():
            if isinstance(name, (x509.UniformResourceIdentifier, x509.RFC822Name, x509.DNSName)):
                sans.append(str(name.value))
            elif isinstance(name, x509.OtherName) and name.type_id == _FULCIO_USERNAME_OID:
                text = der_utf8(name.value)
                if text is not None:
                    sans.append(text)
    except (x509.ExtensionNotFound, ValueError):
        pass
    return tuple(sans)


@dataclass(frozen=True)
class PolicyCheck:
    """The outcome of a policy against one certificate."""

    ok: bool
    reason: str
    expected: str
    actual: str


@runtime_checkable
class IdentityPolicy(Protocol):
    """What the verifier asks of a signer policy: a description, and a verdict on a leaf certificate."""

    def describe(self) -> str:
        """One line saying what the policy accepts."""
        ...

    def check(self, cert: x509.Certificate) -> PolicyCheck:
        """The policy's verdict on `cert` (never raises on a mismatch)."""
        ...


def _compile(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InputError(f"{what} is not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class ExtensionRule:
    """One Fulcio extension the certificate must carry (`labkit.verify.fulcio` short name), exactly or by regexp.

    `ignore_case` for values GitHub treats case-insensitively (owner and repository names).
    """

    name: str
    value: str | None = None
    regexp: str | None = None
    ignore_case: bool = False
    flag: str = ""

    def __post_init__(self) -> None:
        if self.name not in _EXTENSION_NAMES:
            raise InputError(f"unknown Fulcio extension {self.name!r}", details={"known": ", ".join(_EXTENSION_NAMES)})
        if (self.value is None) == (self.regexp is None):
            raise InputError(f"the rule on {self.name} needs exactly one of value and regexp")
        if self.regexp is not None:
            _compile(self.regexp, self.flag or self.name)

    def describe(self) -> str:
        """The rule as ``name == value`` or ``name ~ /regexp/``."""
        op = "~" if self.regexp is not None else "=="
        want = f"/{self.regexp}/" if self.regexp is not None else str(self.value)
        return f"{self.name} {op} {want}" + (" (any case)" if self.ignore_case else "")

    def matches(self, actual: str | None) -> bool:
        """Whether the extension's value `actual` satisfies the rule."""
        if actual is None:
            return False
        flags = re.IGNORECASE if self.ignore_case else 0
        if self.regexp is not None:
            return re.fullmatch(self.regexp, actual, flags) is not None
        assert self.value is not None
        return actual.lower() == self.value.lower() if self.ignore_case else actual == self.value


_EXTENSION_NAMES = tuple(e.name for e in FULCIO_EXTENSIONS)


def github_rules(
    *,
    host: str = "github.com",
    owner: str | None = None,
    repo: str | None = None,
    signer_workflow: str | None = None,
    signer_repo: str | None = None,
    source_ref: str | None = None,
    source_digest: str | None = None,
    deny_self_hosted_runners: bool = False,
    workflow_trigger: str | None = None,
    workflow_sha: str | None = None,
    workflow_name: str | None = None,
    workflow_repository: str | None = None,
    workflow_ref: str | None = None,
) -> tuple[ExtensionRule, ...]:
    """The certificate checks of `gh attestation verify` and cosign's ``--certificate-github-workflow-*``.

    gh (cli/cli ``pkg/cmd/attestation/verify``): ``--owner`` is the source repository owner URI, ``--repo`` the
    source repository URI, ``--signer-workflow`` / ``--signer-repo`` the build signer URI (the workflow that
    signed, which differs from the calling repository for reusable workflows), ``--deny-self-hosted-runners``
    the runner environment, ``--source-ref`` / ``--source-digest`` the source repository ref and digest.
    cosign's workflow flags compare the deprecated extensions 1.3.6.1.4.1.57264.1.2-.1.6.
    """
    base = f"https://{host}"
    rules: list[ExtensionRule] = []
    if owner:
        rules.append(ExtensionRule("source_repository_owner_uri", f"{base}/{owner}", ignore_case=True, flag="--owner"))
    if repo:
        rules.append(ExtensionRule("source_repository_uri", f"{base}/{repo}", ignore_case=True, flag="--repo"))
    if signer_workflow:
        wf = signer_workflow.removeprefix(base + "/")
        rules.append(ExtensionRule("build_signer_uri", regexp=f"{re.escape(base)}/{re.escape(wf)}(@.+)?",
                                   flag="--signer-workflow"))
    if signer_repo:
        rules.append(ExtensionRule("build_signer_uri", regexp=f"{re.escape(base)}/{re.escape(signer_repo)}/.+",
                                   ignore_case=True, flag="--signer-repo"))
    if source_ref:
        rules.append(ExtensionRule("source_repository_ref", source_ref, flag="--source-ref"))
    if source_digest:
        rules.append(ExtensionRule("source_repository_digest", source_digest, flag="--source-digest"))
    if deny_self_hosted_runners:
        rules.append(ExtensionRule("runner_environment", "github-hosted", flag="--deny-self-hosted-runners"))
    for name, value in (("github_workflow_trigger", workflow_trigger), ("github_workflow_sha", workflow_sha),
                        ("github_workflow_name", workflow_name), ("github_workflow_repository", workflow_repository),
                        ("github_workflow_ref", workflow_ref)):
        if value:
            flag = "--certificate-" + name.replace("_", "-")
            rules.append(ExtensionRule(name, value, flag=flag))
    return tuple(rules)


@dataclass(frozen=True)
class Identity:
    """Expected signer: exactly one of `identity` / `identity_regexp`, and of `issuer` / `issuer_regexp`.

    Regular expressions must match the whole value (``re.fullmatch``).
    """

    identity: str | None = None
    issuer: str | None = None
    identity_regexp: str | None = None
    issuer_regexp: str | None = None
    #: Further Fulcio extensions the certificate must carry (GitHub workflow claims, see `github_rules`).
    extensions: tuple[ExtensionRule, ...] = ()
    _identity_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _issuer_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    #: `describe()`'s line, written once: it depends on the (frozen) fields only.
    _description: str = field(init=False, repr=False, compare=False, default="")

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
        object.__setattr__(self, "_description", self._describe())

    def describe(self) -> str:
        """One line: what this policy accepts."""
        return self._description

    def _describe(self) -> str:
        ident = f"identity == {self.identity}" if self.identity is not None else f"identity ~ /{self.identity_regexp}/"
        iss = f"issuer == {self.issuer}" if self.issuer is not None else f"issuer ~ /{self.issuer_regexp}/"
        return ", ".join([ident, iss, *(r.describe() for r in self.extensions)])

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
        return self.check_identity(cert, certificate_identity(cert))

    def check_identity(self, cert: x509.Certificate, ci: CertificateIdentity) -> PolicyCheck:
        """`check` with the certificate's identity `ci` already read (``certificate_identity(cert)``)."""
        if not self._issuer_ok(ci.issuer):
            return PolicyCheck(False, "policy.issuer", self.describe().split(", ")[1], f"issuer == {ci.issuer}")
        # Fulcio certificate profile: exactly one SAN, the identity. A second name is never the one matched.
        if len(ci.sans) != 1 or not self._identity_ok(ci.sans[0]):
            actual = ", ".join(ci.sans) or "(no SAN)"
            if len(ci.sans) > 1:
                actual = f"{len(ci.sans)} SANs: {actual} (the Fulcio profile allows exactly one)"
            return PolicyCheck(False, "policy.identity", self.describe().split(", ")[0], f"identity == {actual}")
        if self.extensions:
            claims = fulcio_extensions(cert)
            for rule in self.extensions:
                got = claims.get(rule.name)
                if not rule.matches(got):
                    return PolicyCheck(False, "policy.extension", rule.describe(),
                                       f"{rule.name} == {got if got is not None else '(extension absent)'}")
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
        """Says that the identity is not checked."""
        return "any identity (explicitly unchecked)"

    def check(self, cert: x509.Certificate) -> PolicyCheck:
        """Always passes; records the certificate's identity."""
        ci = certificate_identity(cert)
        return PolicyCheck(True, "", self.describe(), f"identity == {ci.identity}, issuer == {ci.issuer}")

    def verify(self, cert: x509.Certificate) -> None:
        """Never raises."""
        return None
