"""Strict base64 for every JSON format labkit reads.

`base64.urlsafe_b64decode` and non-validating `b64decode` silently drop
characters outside the alphabet, so a corrupted field could decode to other
bytes instead of being refused. Every reader goes through `b64decode_field`.

Two flavours:

* ``urlsafe=True`` (the default) reads a protobuf JSON ``bytes`` field as Go's
  protojson does, and DSSE fields as the DSSE protocol allows: the standard
  or the URL-safe alphabet (one of them, chosen by the presence of ``-`` or
  ``_``), padded or not, with CR and LF skipped (line-wrapped base64, as
  ``base64(1)`` writes it). Any other character is refused, never dropped.
* ``urlsafe=False`` reads padded standard base64 only (Rekor entry bodies,
  which Rekor itself writes that way).
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Callable

from labkit._internal.jsonio import JSONValue

__all__ = ["b64decode_field", "b64encode", "decode_padded_standard"]

_STANDARD = re.compile(r"[A-Za-z0-9+/]*")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]*")


def b64encode(data: bytes) -> str:
    """Standard base64 text with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode_field(value: JSONValue, what: str, error: Callable[[str], Exception], *,
                    urlsafe: bool = True) -> bytes:
    """Decode `value` (a JSON string) or raise ``error(message)`` naming `what`.

    With `urlsafe` the protobuf JSON mapping's reading applies (see the module
    docstring); without it only padded standard base64 is accepted.
    """
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string")
    try:
        if urlsafe:
            return _decode_protojson(value)
        padded = decode_padded_standard(value)
        return padded if padded is not None else base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64") from None


def decode_padded_standard(value: str) -> bytes | None:
    """`value` decoded when it is padded standard base64 (RFC 4648 §4, at most two ``=``), else None.

    `binascii`'s strict mode refuses every other character, misplaced padding and a bad length; the
    length and trailing-``===`` tests refuse the excess padding it would accept. Callers fall back to
    their own reading on None, so this only makes the common form cheaper (differential test:
    tests/test_encoding_fastpath.py).
    """
    if not _HAS_STRICT or len(value) % 4 or value.endswith("==="):
        return None
    try:
        return _A2B(value, strict_mode=True)  # called directly: a partial costs ~10% per field
    except (binascii.Error, ValueError):
        return None


#: `binascii.a2b_base64` has a strict mode from Python 3.11; before it callers take their general path.
_HAS_STRICT = sys.version_info >= (3, 11)
_A2B: Callable[..., bytes] = binascii.a2b_base64  # typed loosely: the project's mypy target predates strict_mode


def _decode_protojson(value: str) -> bytes:
    """Standard or URL-safe alphabet, padded or not, CR/LF skipped; `ValueError` on anything else."""
    padded = decode_padded_standard(value)
    if padded is not None:  # the common form, decoded without the alphabet scans of the general reading
        return padded
    return _decode_protojson_general(value)


def _decode_protojson_general(value: str) -> bytes:
    """`_decode_protojson` without the padded-standard shortcut (the reference its differential test uses)."""
    text = value.replace("\r", "").replace("\n", "") if ("\n" in value or "\r" in value) else value
    body = text[: len(text) - 2] + text[-2:].rstrip("=") if len(text) % 4 == 0 else text
    alphabet = _URLSAFE if ("-" in body or "_" in body) else _STANDARD
    if not alphabet.fullmatch(body) or len(body) % 4 == 1:
        raise ValueError("not base64")
    if alphabet is _URLSAFE:
        body = body.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(body + "=" * (-len(body) % 4))
