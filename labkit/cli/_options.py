"""The key and identity options every verify and sign command shares, and the one rule for each.

Verify commands (``verify``, ``verify-blob``, ``verify-bundle``,
``verify-attestation``, ``verify-blob-attestation``) take either ``--key`` or
an identity (``--certificate-identity[-regexp]`` and
``--certificate-oidc-issuer[-regexp]``). Both together is refused: a key
signature carries no certificate identity, so the identity would be ignored.

Sign commands (``sign``, ``sign-blob``, ``attest``, ``attest-blob``) take
either ``--key`` or keyless ``--identity`` / ``--identity-token``. Both
``--identity`` and ``--identity-token`` must name the same signer: the
certificate is issued for the token's identity, never silently for another.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.verify.policy import Identity

__all__ = ["SignerChoice", "VerifierChoice", "add_signer_options", "add_verifier_options", "signer_choice",
           "verifier_choice"]

_IDENTITY_FLAGS = ("certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer",
                   "certificate_oidc_issuer_regexp")


def add_verifier_options(p: argparse.ArgumentParser,
                         key_help: str = "public key (cosign.pub), encrypted private key file, or a pkcs11: / "
                         "awskms:// key URI") -> None:
    """Add ``--key`` and the four certificate identity options."""
    p.add_argument("--key", default=None, help=key_help)
    p.add_argument("--certificate-identity", default=None, help="keyless: the exact signer identity (certificate SAN)")
    p.add_argument("--certificate-identity-regexp", default=None,
                   help="keyless: a regexp the whole identity must match")
    p.add_argument("--certificate-oidc-issuer", default=None, help="keyless: the exact OIDC issuer")
    p.add_argument("--certificate-oidc-issuer-regexp", default=None,
                   help="keyless: a regexp the whole issuer must match")
    _add_github_options(p)


#: (flag, github_rules keyword, help) of the GitHub workflow claims a verify command can require.
_GITHUB_FLAGS = (
    ("--certificate-github-workflow-trigger", "workflow_trigger", "cosign: the event that triggered the workflow"),
    ("--certificate-github-workflow-sha", "workflow_sha", "cosign: the commit the workflow ran on"),
    ("--certificate-github-workflow-name", "workflow_name", "cosign: the workflow's name"),
    ("--certificate-github-workflow-repository", "workflow_repository", "cosign: owner/repo the workflow ran in"),
    ("--certificate-github-workflow-ref", "workflow_ref", "cosign: the git ref the workflow ran on"),
    ("--owner", "owner", "gh: the source repository's owner (organisation or user)"),
    ("--repo", "repo", "gh: the source repository, OWNER/REPO"),
    ("--signer-workflow", "signer_workflow", "gh: the workflow that signed, OWNER/REPO/.github/workflows/FILE"),
    ("--signer-repo", "signer_repo", "gh: the repository of the workflow that signed (reusable workflows)"),
    ("--source-ref", "source_ref", "gh: the source ref, e.g. refs/heads/main"),
    ("--source-digest", "source_digest", "gh: the source commit digest"),
)
_GITHUB_DEST = tuple(flag[2:].replace("-", "_") for flag, _, _ in _GITHUB_FLAGS)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def _add_github_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("GitHub workflow identity (Fulcio extensions 1.3.6.1.4.1.57264.1.2-.1.22)")
    for flag, _, text in _GITHUB_FLAGS:
        g.add_argument(flag, default=None, help=text)
    g.add_argument(
        "--deny-self-hosted-runners", action="store_true", help="gh: refuse certificates from self-hosted runners"
    )
    g.add_argument(
        "--hostname", default="github.com", help="GitHub host for --owner/--repo/--signer-* (GHE: your host)"
    )


def _github_rules(args: argparse.Namespace) -> tuple[Any, ...]:
    from labkit.verify.policy import github_rules

    values = {kw: getattr(args, dest, None) for (_, kw, _), dest in zip(_GITHUB_FLAGS, _GITHUB_DEST, strict=False)}
    return github_rules(host=getattr(args, "hostname", "github.com"), **values,
                        deny_self_hosted_runners=bool(getattr(args, "deny_self_hosted_runners", False)))


def _gh_identity_regexp(args: argparse.Namespace) -> str | None:
    """gh's default SAN rule when no --certificate-identity is given: the most specific of the gh options."""
    import re

    base = re.escape(f"https://{getattr(args, 'hostname', 'github.com')}")
    if getattr(args, "signer_workflow", None):
        return f"{base}/{re.escape(args.signer_workflow.removeprefix('https://' + args.hostname + '/'))}(@.+)?"
    for name in ("signer_repo", "repo", "owner"):
        value = getattr(args, name, None)
        if value:
            return f"(?i){base}/{re.escape(value)}/.+"
    return None


@dataclass(frozen=True)
class VerifierChoice:
    """What to verify against: a key file (`key`) or a certificate identity policy (`identity`), never both."""

    key: str | None = None
    identity: Identity | None = None


def verifier_choice(args: argparse.Namespace) -> VerifierChoice:
    """The one rule for every verify command: ``--key`` or an identity and issuer, exactly one of them."""
    from labkit.verify.policy import Identity

    given = [f"--{name.replace('_', '-')}" for name in _IDENTITY_FLAGS if getattr(args, name, None) is not None]
    if args.key is not None and given:
        raise InputError(
            f"give either --key or --certificate-identity/--certificate-oidc-issuer, not both (got --key and "
            f"{', '.join(given)}): a key-signed artifact has no certificate identity to check",
            hint="Give --key KEY for key-signed artifacts, or --certificate-identity(-regexp) and "
            "--certificate-oidc-issuer(-regexp) for keyless ones, not both.",
        )
    rules = _github_rules(args)
    if args.key is not None:
        if rules:
            raise InputError("the GitHub workflow options check a certificate; a --key signature has none")
        return VerifierChoice(key=args.key)
    identity = (args.certificate_identity, args.certificate_identity_regexp)
    issuer = (args.certificate_oidc_issuer, args.certificate_oidc_issuer_regexp)
    if rules and not given:
        # gh attestation verify: --owner/--repo/--signer-* alone name the signer; the issuer is GitHub Actions'.
        gh_regexp = _gh_identity_regexp(args)
        identity = (None, gh_regexp or ".+")
        issuer = (GITHUB_ISSUER, None)
        given = ["--owner/--repo/--signer-*"]
    elif rules and issuer == (None, None):
        issuer = (GITHUB_ISSUER, None)
    if not given:
        raise InputError("give --certificate-identity and --certificate-oidc-issuer (or their -regexp forms), "
                         "or --key")
    if sum(v is not None for v in identity) != 1 or sum(v is not None for v in issuer) != 1:
        raise InputError(
            "keyless verification needs exactly one of --certificate-identity and --certificate-identity-regexp, "
            "and exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp",
        )
    return VerifierChoice(identity=Identity(identity=identity[0], identity_regexp=identity[1],
                                            issuer=issuer[0], issuer_regexp=issuer[1], extensions=rules))


def add_signer_options(p: argparse.ArgumentParser,
                       key_help: str = "encrypted private key file (cosign.key; COSIGN_PASSWORD), a pkcs11: URI or "
                       "awskms://127.0.0.1:PORT/alias/NAME; omit to sign keyless against the lab instance") -> None:
    """Add ``--key``, ``--identity`` and ``--identity-token``."""
    p.add_argument("--key", default=None, help=key_help)
    p.add_argument("--identity", default=None, help="keyless: the identity (email or URI) to get a certificate for")
    p.add_argument("--identity-token", default=None,
                   help="keyless: an OIDC token minted elsewhere (labkit token); with --identity, it must name it")


@dataclass(frozen=True)
class SignerChoice:
    """How to sign: a key file (`key`), or keyless with an `identity` and/or an `identity_token`."""

    key: str | None = None
    identity: str | None = None
    identity_token: str | None = None


def signer_choice(args: argparse.Namespace) -> SignerChoice:
    """The one rule for every sign command: ``--key`` or a keyless identity, and a token naming ``--identity``."""
    keyless = [flag for flag, value in (("--identity", args.identity), ("--identity-token", args.identity_token))
               if value is not None]
    if args.key is not None and keyless:
        raise InputError(
            f"--key and {', '.join(keyless)} exclude each other: give --key to sign with a key, or a keyless "
            "identity, not both",
        )
    if args.key is not None:
        return SignerChoice(key=args.key)
    if not keyless:
        raise InputError("keyless signing needs --identity (or --identity-token); or pass --key to sign with a key")
    if args.identity is not None and args.identity_token is not None:
        named = token_identity(args.identity_token)
        if named is not None and named != args.identity:
            raise InputError(
                f"--identity {args.identity} does not match the identity token, which names {named}",
                hint="The certificate is issued for the token's identity. Drop --identity, or mint a token for it "
                "(labkit token --identity ...).",
                details={"--identity": args.identity, "token identity": named},
            )
    return SignerChoice(identity=args.identity, identity_token=args.identity_token)


def token_identity(token: str) -> str | None:
    """The identity a CA would certify for `token` (Fulcio's rules), or None when the token earns none."""
    from labkit.keyless.ca import _identity_of
    from labkit.keyless.oidc import decode_unverified

    san, _, _ = _identity_of(decode_unverified(token).claims)
    return None if san is None else str(san.value)
