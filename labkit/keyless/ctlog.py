"""A minimal certificate-transparency log: it signs SCTs for precertificates.

labkit's CA embeds one SCT in every leaf, as Fulcio does, so verifiers that
require SCTs (sigstore-python, cosign) accept labkit certificates. The log
keeps no tree; it only promises inclusion (RFC 6962 §3.2), which is all an
embedded SCT proves.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import struct

from labkit.errors import KeylessError
from labkit.keys import SigningKey, VerifyingKey

__all__ = []

#: X.509 extension carrying embedded SCTs (RFC 6962 §3.3).
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"
_SCT_VERSION_V1 = 0
_SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0
_ENTRY_TYPE_PRECERT = 1
_HASH_SHA256 = 4  # RFC 5246 §7.4.1.4.1 HashAlgorithm.sha256
_SIG_ECDSA = 3  # RFC 5246 SignatureAlgorithm.ecdsa


def _u24(n: int) -> bytes:
    if n >= 1 << 24:
        raise KeylessError("certificate too large for an SCT (2^24 bytes)")
    return n.to_bytes(3, "big")


def precert_signed_data(
    timestamp_ms: int, issuer_key_hash: bytes, tbs_precert: bytes, extensions: bytes = b""
) -> bytes:
    """The ``digitally-signed`` input of an SCT for a precertificate entry (RFC 6962 §3.2)."""
    if len(issuer_key_hash) != 32:
        raise KeylessError("issuer_key_hash must be the 32-byte SHA-256 of the issuer's SubjectPublicKeyInfo")
    return (
        struct.pack("!BBQH", _SCT_VERSION_V1, _SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP, timestamp_ms, _ENTRY_TYPE_PRECERT)
        + issuer_key_hash
        + _u24(len(tbs_precert))
        + tbs_precert
        + struct.pack("!H", len(extensions))
        + extensions
    )


class CTLog:
    """A CT log identified by SHA-256 of its public key (RFC 6962 §3.2 ``LogID``)."""

    def __init__(self, key: SigningKey, *, base_url: str = "http://ctlog.labkit.invalid") -> None:
        self.key = key
        self.base_url = base_url

    @property
    def public_key(self) -> VerifyingKey:
        """The key verifiers find in the trusted root's ``ctlogs``."""
        return self.key.public_key()

    @property
    def log_id(self) -> bytes:
        """SHA-256 of the DER SubjectPublicKeyInfo."""
        return self.public_key.key_id()

    def sign_precert(self, tbs_precert: bytes, issuer_spki_der: bytes, when: _dt.datetime) -> bytes:
        """Return one TLS-encoded ``SignedCertificateTimestamp`` (RFC 6962 §3.2) for the precert TBS."""
        timestamp_ms = int(when.timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(issuer_spki_der).digest()
        signature = self.key.sign(precert_signed_data(timestamp_ms, issuer_key_hash, tbs_precert))
        return (
            struct.pack("!B", _SCT_VERSION_V1)
            + self.log_id
            + struct.pack("!QH", timestamp_ms, 0)
            + struct.pack("!BBH", _HASH_SHA256, _SIG_ECDSA, len(signature))
            + signature
        )


def encode_sct_list_extension(scts: list[bytes]) -> bytes:
    """The extension value: DER OCTET STRING wrapping a TLS ``SignedCertificateTimestampList`` (RFC 6962 §3.3)."""
    body = b"".join(struct.pack("!H", len(s)) + s for s in scts)
    tls = struct.pack("!H", len(body)) + body
    return _der_octet_string(tls)


def _der_octet_string(data: bytes) -> bytes:
    return b"\x04" + _der_length(len(data)) + data


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw
