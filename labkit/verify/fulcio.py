"""Fulcio certificate extensions: the signer's identity claims, decoded by OID.

Fulcio copies claims of the OIDC token into extensions under 1.3.6.1.4.1.57264.1
(Fulcio ``docs/oid-info.md``). 1.1-1.6 are the deprecated forms whose value is
the raw string; 1.8 and later are DER UTF8Strings. `fulcio_extensions` decodes
every one present and never raises: an undecodable value is reported as such.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography import x509

__all__ = ["FULCIO_EXTENSIONS", "fulcio_extensions"]

_ARC = "1.3.6.1.4.1.57264.1."


@dataclass(frozen=True)
class FulcioExtension:
    """One known extension: OID, short name, title and whether the value is a DER UTF8String."""

    oid: str
    name: str
    title: str
    der: bool


def _ext(n: int, name: str, title: str) -> FulcioExtension:
    return FulcioExtension(_ARC + str(n), name, title, der=n >= 8)


#: Every extension of the Fulcio OID arc labkit names (Fulcio docs/oid-info.md).
FULCIO_EXTENSIONS: tuple[FulcioExtension, ...] = (
    _ext(1, "issuer_v1", "OIDC issuer (deprecated)"),
    _ext(2, "github_workflow_trigger", "GitHub workflow trigger (deprecated)"),
    _ext(3, "github_workflow_sha", "GitHub workflow SHA (deprecated)"),
    _ext(4, "github_workflow_name", "GitHub workflow name (deprecated)"),
    _ext(5, "github_workflow_repository", "GitHub workflow repository (deprecated)"),
    _ext(6, "github_workflow_ref", "GitHub workflow ref (deprecated)"),
    _ext(8, "issuer", "OIDC issuer"),
    _ext(9, "build_signer_uri", "Build signer URI"),
    _ext(10, "build_signer_digest", "Build signer digest"),
    _ext(11, "runner_environment", "Runner environment"),
    _ext(12, "source_repository_uri", "Source repository URI"),
    _ext(13, "source_repository_digest", "Source repository digest"),
    _ext(14, "source_repository_ref", "Source repository ref"),
    _ext(15, "source_repository_identifier", "Source repository identifier"),
    _ext(16, "source_repository_owner_uri", "Source repository owner URI"),
    _ext(17, "source_repository_owner_identifier", "Source repository owner identifier"),
    _ext(18, "build_config_uri", "Build config URI"),
    _ext(19, "build_config_digest", "Build config digest"),
    _ext(20, "build_trigger", "Build trigger"),
    _ext(21, "run_invocation_uri", "Run invocation URI"),
    _ext(22, "source_repository_visibility", "Source repository visibility at signing"),
)
#: By OID object: an extension's `oid` is looked up as it is (OIDs are equal exactly when their dotted forms are),
#: without formatting its dotted string for each of a certificate's extensions.
_BY_OID = {x509.ObjectIdentifier(e.oid): e for e in FULCIO_EXTENSIONS}


def der_utf8(data: bytes) -> str | None:
    """Decode a DER UTF8String (tag 0x0C); None if it is not exactly one."""
    if len(data) < 2 or data[0] != 0x0C:
        return None
    length, pos = data[1], 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or len(data) < 2 + n:
            return None
        length, pos = int.from_bytes(data[2 : 2 + n], "big"), 2 + n
    if pos + length != len(data):
        return None
    try:
        return data[pos:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode(ext: FulcioExtension, raw: bytes) -> str | None:
    if ext.der:
        return der_utf8(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def fulcio_extensions(cert: x509.Certificate) -> dict[str, str]:
    """Every known Fulcio extension present, by short name (undecodable values say so); never raises."""
    return dict(_extensions(cert))


@functools.lru_cache(maxsize=256)
def _extensions(cert: x509.Certificate) -> tuple[tuple[str, str], ...]:
    """Decoded once per certificate (a policy with several rules, the signer line and inspect all ask)."""
    out: dict[str, str] = {}
    try:
        extensions = list(cert.extensions)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return ()
    for ext in extensions:
        known = _BY_OID.get(ext.oid)
        if known is None or not isinstance(ext.value, x509.UnrecognizedExtension):
            continue
        value = _decode(known, ext.value.value)
        out[known.name] = value if value is not None else f"(undecodable: {ext.value.value.hex()})"
    return tuple(out.items())
