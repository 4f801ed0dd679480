"""Cosignatures on checkpoints (C2SP tlog-cosignature) and signed-note verifier keys (vkeys).

A cosignature is a note signature line ``— <name> base64(key ID ‖ timestamped_signature)``
where ``timestamped_signature = u64 big-endian POSIX time ‖ signature`` and:

* Ed25519 (signature type 0x04): key ID ``SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]``, signed message
  ``"cosignature/v1\\ntime <t>\\n"`` followed by the whole checkpoint body;
* ML-DSA-44 (type 0x06, 1312-byte key, 2420-byte signature): key ID with 0x06, signed message the
  ``cosigned_message`` struct (``"subtree/v1\\n\\0"``, cosigner name, timestamp, origin, start 0,
  end = size, root hash); extension lines are not covered.

A vkey (C2SP signed-note "verifier keys") is ``<name>+<hex key ID>+<base64(type ‖ key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit.errors import CheckpointError
from labkit.tlog.checkpoint import Checkpoint, NoteSignature, key_hint_ed25519

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import mldsa  # cryptography >= 46 only: imported where used

__all__ = ["Cosigner", "log_vkey", "mldsa44_support", "parse_vkey"]

ED25519 = 0x01  # signed-note Ed25519 (a log's checkpoint key)
_ED25519_COSIGNATURE = 0x04
_MLDSA44_COSIGNATURE = 0x06
_MLDSA44_KEY = 1312
_MLDSA44_SIG = 2420
_MAX_TIME = (1 << 63) - 1
_SPEC = "C2SP tlog-cosignature"


def mldsa44_support() -> tuple[bool, str]:
    """Whether the installed cryptography and OpenSSL sign ML-DSA-44, and if not, why."""
    try:
        from cryptography.hazmat.primitives.asymmetric import mldsa
    except ImportError:
        import cryptography

        return False, f"cryptography {cryptography.__version__} has no ML-DSA (needs a release with mldsa)"
    try:
        key = mldsa.MLDSA44PrivateKey.generate()
        key.public_key().verify(key.sign(b"probe"), b"probe")
    except (UnsupportedAlgorithm, InvalidSignature) as exc:
        from cryptography.hazmat.backends.openssl.backend import backend

        return False, f"{backend.openssl_version_text()} does not support ML-DSA-44: {exc}"
    return True, ""


def _key_id(name: str, sig_type: int, raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + raw).digest()[:4]


def cosigned_message(name: str, timestamp: int, checkpoint: Checkpoint) -> bytes:
    """The ML-DSA-44 ``cosigned_message`` for a checkpoint (start 0, end = size)."""
    n, o = name.encode(), checkpoint.origin.encode()
    if not 1 <= len(n) <= 255 or not 1 <= len(o) <= 255:
        raise CheckpointError("cosigner name and log origin must be 1..255 bytes (C2SP tlog-cosignature)")
    return (b"subtree/v1\n\x00" + bytes([len(n)]) + n + struct.pack(">Q", timestamp) + bytes([len(o)]) + o
            + struct.pack(">QQ", 0, checkpoint.size) + checkpoint.root_hash)


def _ed25519_message(timestamp: int, checkpoint: Checkpoint) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint.body()


@dataclass(frozen=True)
class CosignerKey:
    """A cosigner's public key: name, cosignature type (0x04 Ed25519, 0x06 ML-DSA-44), raw key bytes."""

    name: str
    sig_type: int
    raw: bytes

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name) or "+" in self.name:
            raise CheckpointError(f"cosigner name {self.name!r} must be non-empty, without spaces or '+'")
        want = {_ED25519_COSIGNATURE: 32, _MLDSA44_COSIGNATURE: _MLDSA44_KEY}.get(self.sig_type)
        if want is None:
            raise CheckpointError(f"cosignature type 0x{self.sig_type:02x} is not Ed25519 (0x04) or ML-DSA-44 (0x06)")
        if len(self.raw) != want:
            raise CheckpointError(f"a type 0x{self.sig_type:02x} cosigner key is {want} bytes, got {len(self.raw)}")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID its signature lines carry."""
        return _key_id(self.name, self.sig_type, self.raw)

    @property
    def algorithm(self) -> str:
        """The signature algorithm's name."""
        return "Ed25519" if self.sig_type == _ED25519_COSIGNATURE else "ML-DSA-44"

    def vkey(self) -> str:
        """``name+hexid+base64(type ‖ key)``."""
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([self.sig_type]) + self.raw).decode()}"

    def verify(self, sig: NoteSignature, checkpoint: Checkpoint) -> int:
        """Verify one signature line as this cosigner's cosignature on `checkpoint`; returns its timestamp."""
        if sig.name != self.name or sig.key_hint != self.key_id:
            raise CheckpointError(f"signature line is not by cosigner {self.name} {self.key_id.hex()}")
        size = 8 + (64 if self.sig_type == _ED25519_COSIGNATURE else _MLDSA44_SIG)
        if len(sig.signature) != size:
            raise CheckpointError(f"{self.algorithm} cosignature of {self.name} is {len(sig.signature)} bytes, "
                                  f"expected {size}")
        (timestamp,) = struct.unpack(">Q", sig.signature[:8])
        if timestamp > _MAX_TIME:
            raise CheckpointError(f"cosignature timestamp {timestamp} exceeds 2^63-1")
        try:
            if self.sig_type == _ED25519_COSIGNATURE:
                ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(
                    sig.signature[8:], _ed25519_message(timestamp, checkpoint))
            else:
                from cryptography.hazmat.primitives.asymmetric import mldsa

                mldsa.MLDSA44PublicKey.from_public_bytes(self.raw).verify(
                    sig.signature[8:], cosigned_message(self.name, timestamp, checkpoint))
        except InvalidSignature:
            raise CheckpointError(f"the {self.algorithm} cosignature of {self.name} does not verify") from None
        except (ImportError, UnsupportedAlgorithm):
            raise CheckpointError(f"cannot verify the ML-DSA-44 cosignature of {self.name}: "
                                  + mldsa44_support()[1]) from None
        return int(timestamp)


class Cosigner:
    """A cosigner's private key (Ed25519 or ML-DSA-44): signs timestamped cosignatures."""

    def __init__(self, name: str, private: ed25519.Ed25519PrivateKey | mldsa.MLDSA44PrivateKey) -> None:
        if isinstance(private, ed25519.Ed25519PrivateKey):
            raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.public = CosignerKey(name, _ED25519_COSIGNATURE, raw)
        else:
            from cryptography.hazmat.primitives.asymmetric import mldsa

            if not isinstance(private, mldsa.MLDSA44PrivateKey):
                raise CheckpointError("a cosigner key is Ed25519 or ML-DSA-44")
            self.public = CosignerKey(name, _MLDSA44_COSIGNATURE, private.public_key().public_bytes_raw())
        self.name = name
        self._private = private

    @classmethod
    def ed25519(cls, name: str, seed: bytes | None = None) -> Cosigner:
        """An Ed25519 cosigner; `seed` (32 bytes, LAB: public, deterministic) or a random key."""
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed) if seed else ed25519.Ed25519PrivateKey.generate()
        return cls(name, key)

    @classmethod
    def mldsa44(cls, name: str, seed: bytes | None = None) -> Cosigner:
        """An ML-DSA-44 cosigner; raises `CheckpointError` (with the reason) where it is unsupported."""
        ok, why = mldsa44_support()
        if not ok:
            raise CheckpointError(f"ML-DSA-44 cosigning is unavailable: {why}")
        from cryptography.hazmat.primitives.asymmetric import mldsa

        key = mldsa.MLDSA44PrivateKey.from_seed_bytes(seed) if seed else mldsa.MLDSA44PrivateKey.generate()
        return cls(name, key)

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> NoteSignature:
        """The cosignature line on `checkpoint` at POSIX time `timestamp`."""
        if not 0 <= timestamp <= _MAX_TIME:
            raise CheckpointError(f"cosignature timestamp must be in 0..2^63-1, got {timestamp}")
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            sig = self._private.sign(_ed25519_message(timestamp, checkpoint))
        else:
            sig = self._private.sign(cosigned_message(self.name, timestamp, checkpoint))
        return NoteSignature(self.name, self.public.key_id, struct.pack(">Q", timestamp) + bytes(sig))


@dataclass(frozen=True)
class VKey:
    """A parsed verifier key: name, signature type, raw key (C2SP signed-note)."""

    name: str
    sig_type: int
    raw: bytes

    def cosigner(self) -> CosignerKey:
        """As a witness key. A type 0x01 Ed25519 vkey (as rekor-tiles writes witness keys) cosigns as 0x04."""
        sig_type = _ED25519_COSIGNATURE if self.sig_type == ED25519 else self.sig_type
        return CosignerKey(self.name, sig_type, self.raw)

    def log_key_hint(self) -> bytes:
        """As a log key (Ed25519, type 0x01): its note key hint."""
        if self.sig_type != ED25519:
            raise CheckpointError(
                f"log key {self.name} is type 0x{self.sig_type:02x}; a tile log signs with Ed25519 (0x01)"
            )
        return key_hint_ed25519(self.name, self.raw)


def parse_vkey(text: str) -> VKey:
    """Parse ``name+hexid+base64(type ‖ key)``, checking the key ID; raises `CheckpointError`."""
    parts = text.strip().split("+", 2)  # names and hex IDs hold no "+"; base64 may
    if len(parts) != 3 or not parts[0]:
        raise CheckpointError(f"not a vkey (name+keyid+base64key): {text[:80]!r}")
    name, hex_id, b64 = parts
    try:
        key_id = bytes.fromhex(hex_id)
        blob = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise CheckpointError(f"vkey of {name!r}: key ID must be hex and the key base64") from None
    if len(key_id) != 4 or len(blob) < 2:
        raise CheckpointError(f"vkey of {name!r}: a 4-byte key ID and a typed key are required")
    if _key_id(name, blob[0], blob[1:]) != key_id:
        raise CheckpointError(f"vkey of {name!r}: key ID {hex_id} does not match the key")
    return VKey(name, blob[0], blob[1:])


def log_vkey(name: str, raw: bytes) -> str:
    """A log's Ed25519 checkpoint key as a vkey (type 0x01)."""
    return f"{name}+{_key_id(name, ED25519, raw).hex()}+{base64.b64encode(bytes([ED25519]) + raw).decode()}"
