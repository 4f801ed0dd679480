"""Strict base64 for every JSON format labkit reads.

`base64.urlsafe_b64decode` and non-validating `b64decode` silently drop
characters outside the alphabet, so a corrupted field could decode to other
bytes instead of being refused. Every reader goes through `b64decode_field`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

__all__ = ["b64decode_field", "b64encode"]


def b64encode(data: bytes) -> str:
    """Standard base64 text with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode_field(value: Any, what: str, error: Callable[[str], Exception], *, urlsafe: bool = True) -> bytes:
    """Decode `value` (a JSON string) or raise ``error(message)`` naming `what`.

    With `urlsafe` the URL-safe alphabet and missing padding are accepted too, as
    the proto3 JSON mapping and DSSE allow; every character is still validated.
    """
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string")
    text = value
    if urlsafe:
        text = text.replace("-", "+").replace("_", "/")
        if "=" not in text:
            text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64") from None
