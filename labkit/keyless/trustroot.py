"""Writing a Sigstore TrustedRoot (and a ClientTrustConfig) for a lab instance.

Format: protobuf-specs ``sigstore_trustroot.proto`` ``TrustedRoot``, media
type ``application/vnd.dev.sigstore.trustedroot+json;version=0.1``, in the
protobuf JSON mapping (camelCase, bytes as standard base64, timestamps as
RFC 3339 UTC). Keys order as in the public-good instance's root, so the
output is byte-stable. `labkit.verify.trustroot` parses what this writes;
sigstore-python reads it too (tests prove both).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.errors import KeylessError
from labkit.keys import VerifyingKey

__all__ = ["CAEntry", "LogEntryKey", "trusted_root", "trusted_root_json"]

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
_CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"



def key_details(key: VerifyingKey) -> str:
    """The ``PublicKeyDetails`` enum name for `key` (protobuf-specs sigstore_common.proto)."""
    return key.algorithm.key_details


def rfc3339(when: _dt.datetime) -> str:
    """``2026-01-01T12:00:00Z``: protobuf Timestamp JSON, whole seconds, UTC."""
    if when.tzinfo is None:
        raise KeylessError("trusted-root timestamps must be timezone-aware")
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class LogEntryKey:
    """A transparency log or CT log: its URL, key, log ID and validity start (and optional end)."""

    base_url: str
    public_key: VerifyingKey
    log_id: bytes
    start: _dt.datetime
    end: _dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The log as a trusted-root ``tlogs``/``ctlogs`` entry."""
        valid: dict[str, str] = {"start": rfc3339(self.start)}
        if self.end is not None:
            valid["end"] = rfc3339(self.end)
        return {
            "baseUrl": self.base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": _b64(self.public_key.der()),
                "keyDetails": key_details(self.public_key),
                "validFor": valid,
            },
            "logId": {"keyId": _b64(self.log_id)},
        }


@dataclass(frozen=True)
class CAEntry:
    """A certificate authority: its chain (issuing CA first, root last) and validity."""

    uri: str
    chain: Sequence[x509.Certificate]
    start: _dt.datetime
    end: _dt.datetime | None = None
    organization: str = "labkit"
    common_name: str = "labkit lab CA"

    def to_dict(self) -> dict[str, Any]:
        """The authority as a trusted-root ``certificateAuthorities`` entry."""
        if not self.chain:
            raise KeylessError("a certificate authority needs at least one certificate")
        valid: dict[str, str] = {"start": rfc3339(self.start)}
        if self.end is not None:
            valid["end"] = rfc3339(self.end)
        return {
            "subject": {"organization": self.organization, "commonName": self.common_name},
            "uri": self.uri,
            "certChain": {
                "certificates": [{"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))} for c in self.chain]
            },
            "validFor": valid,
        }


def trusted_root(
    *,
    tlogs: Sequence[LogEntryKey],
    certificate_authorities: Sequence[CAEntry],
    ctlogs: Sequence[LogEntryKey] = (),
    timestamp_authorities: Sequence[CAEntry] = (),
) -> dict[str, Any]:
    """The TrustedRoot document as a dict, in the public-good root's key order."""
    if not tlogs:
        raise KeylessError("a trusted root needs at least one transparency log")
    return {
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [t.to_dict() for t in tlogs],
        "certificateAuthorities": [c.to_dict() for c in certificate_authorities],
        "ctlogs": [c.to_dict() for c in ctlogs],
        "timestampAuthorities": [t.to_dict() for t in timestamp_authorities],
    }


def trusted_root_json(root: dict[str, Any]) -> bytes:
    """Serialize with two-space indent and a final newline (stable bytes)."""
    return (json.dumps(root, indent=2, ensure_ascii=False) + "\n").encode()


def client_trust_config(
    root: dict[str, Any],
    *,
    ca_url: str,
    oidc_url: str,
    tlog_url: str | None,
    start: _dt.datetime,
    tsa_url: str | None = None,
    tlog_api_version: int = 1,
) -> dict[str, Any]:
    """A ``ClientTrustConfig`` (trusted root + signing config v0.2), as ``sigstore --trust-config`` reads it.

    `tlog_api_version` is the log's ``majorApiVersion`` (2: a Rekor v2 tile log).
    """
    def service(url: str, version: int = 1) -> dict[str, Any]:
        return {"url": url, "majorApiVersion": version, "validFor": {"start": rfc3339(start)}, "operator": "labkit"}

    signing = {
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(ca_url)],
        "oidcUrls": [service(oidc_url)],
        "rekorTlogUrls": [service(tlog_url, tlog_api_version)] if tlog_url else [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [service(tsa_url)] if tsa_url else [],
        "tsaConfig": {"selector": "ANY"},
    }
    return {"mediaType": _CLIENT_TRUST_CONFIG_MEDIA_TYPE, "trustedRoot": root, "signingConfig": signing}
