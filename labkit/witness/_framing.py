"""The text framing two C2SP witness formats share: header lines, an empty line, then a signed note.

A ``.tlog-proof`` (C2SP tlog-proof) and the add-checkpoint request body (C2SP tlog-witness) both put decimal
numbers and base64 hashes on lines before an empty line and a checkpoint. One reader for each part, so both
formats refuse the same malformations; each caller names its format (`what`) in the error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from labkit.errors import LogError
from labkit.tlog import merkle


def text_of(data: str | bytes, what: str) -> str:
    """`data` as text; raises `LogError` when bytes are not UTF-8."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LogError(f"{what} is not UTF-8") from None


def split_note(text: str, what: str) -> tuple[list[str], str]:
    """(header lines, signed note text); raises `LogError` when no empty line separates them."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise LogError(f"{what} has no empty line before the checkpoint")
    return head.split("\n"), note


def is_uint64(s: str) -> bool:
    """True for a canonical decimal below 2**64 (no sign, no leading zero, ASCII digits only)."""
    return s.isascii() and s.isdigit() and not (len(s) > 1 and s[0] == "0") and int(s) < 1 << 64


def hash_lines(lines: Iterable[str], what: str) -> list[bytes]:
    """Each line as one base64 Merkle hash; raises `LogError` naming the first bad line."""
    hashes: list[bytes] = []
    for line in lines:
        try:
            h = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise LogError(f"{what} is not base64: {line[:60]!r}") from None
        if len(h) != merkle.HASH_SIZE:
            raise LogError(f"{what} is {len(h)} bytes, expected {merkle.HASH_SIZE}")
        hashes.append(h)
    return hashes
