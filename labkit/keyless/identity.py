"""What an identity may look like before anyone certifies it: the SAN value grammar.

A Fulcio certificate names its signer in one SubjectAlternativeName: an
e-mail address (RFC 5280 rfc822Name holding an RFC 5322 addr-spec) or a URI
(RFC 3986, for CI workflows and URI subjects). A value with whitespace, control
characters or anything outside those grammars is refused before a token is
minted or a certificate issued, so ``alice\\n@example.com`` never reaches a
verifier's screen or policy.

    >>> email_problem("alice@example.com") is None
    True
    >>> email_problem("alice\\n@example.com")
    'the local part is not an RFC 5322 dot-atom'
"""

from __future__ import annotations

import re

from labkit._internal.jsonio import JSONValue

__all__: list[str] = []

# RFC 5322 §3.2.3 atext / dot-atom-text (ASCII: an rfc822Name is an IA5String, RFC 5280 §4.2.1.6).
_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
# A domain as a host name: LDH labels (RFC 1035 §2.3.1, RFC 1123 §2.1), at least two.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
# RFC 3986 §3.1 scheme, then "//" authority (§3.2) and the rest, from the URI character set (§2).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*")
_AUTHORITY_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]]|%[0-9A-Fa-f]{2})+")


def is_email_identity(identity: str) -> bool:
    """The rule labkit mints tokens by: an identity with ``@`` and no ``://`` is an e-mail address."""
    return "@" in identity and "://" not in identity


def email_problem(value: JSONValue) -> str | None:
    """Why `value` is not an RFC 5322 addr-spec labkit certifies (dot-atom local part @ host name), or None."""
    if not isinstance(value, str):
        return "an e-mail address must be a string"
    if value.count("@") != 1:
        return "an e-mail address has exactly one '@'"
    local, domain = value.split("@")
    if not _DOT_ATOM.fullmatch(local):
        return "the local part is not an RFC 5322 dot-atom"
    if len(local) > 64 or len(value) > 254:
        return "the address is too long (RFC 5321 §4.5.3.1: local part 64, path 256 octets)"
    if not _DOMAIN.fullmatch(domain) or len(domain) > 253:
        return "the domain is not a host name (letters, digits, hyphens; dot-separated labels)"
    return None


def uri_problem(value: JSONValue) -> str | None:
    """Why `value` is not an absolute RFC 3986 URI with an authority (``scheme://host/...``), or None."""
    if not isinstance(value, str):
        return "a URI must be a string"
    scheme, sep, rest = value.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return "a URI identity is scheme://authority/... (RFC 3986 §3)"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not _AUTHORITY_CHARS.fullmatch(authority):
        return "the URI has no authority or one with characters RFC 3986 §3.2 does not allow"
    if not _URI_CHARS.fullmatch(rest):
        return "the URI has characters RFC 3986 §2 does not allow (whitespace, controls, non-ASCII, bad %-escapes)"
    return None


def identity_problem(identity: JSONValue) -> str | None:
    """Why an identity (an e-mail address or a URI, as ``labkit token --identity`` takes it) is refused, or None."""
    if not isinstance(identity, str):
        return "an identity must be a string"
    return email_problem(identity) if is_email_identity(identity) else uri_problem(identity)
