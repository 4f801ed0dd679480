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
from collections.abc import Callable

from labkit._internal.jsonio import JSONValue

__all__ = ["b64decode_field", "b64encode"]

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
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64") from None


def _decode_protojson(value: str) -> bytes:
    """Standard or URL-safe alphabet, padded or not, CR/LF skipped; `ValueError` on anything else."""
    text = value.replace("\r", "").replace("\n", "") if ("\n" in value or "\r" in value) else value
    body = text[: len(text) - 2] + text[-2:].rstrip("=") if len(text) % 4 == 0 else text
    alphabet = _URLSAFE if ("-" in body or "_" in body) else _STANDARD
    if not alphabet.fullmatch(body) or len(body) % 4 == 1:
        raise ValueError("not base64")
    if alphabet is _URLSAFE:
        body = body.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(body + "=" * (-len(body) % 4))
