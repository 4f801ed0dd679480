"""The palette of labkit's HTML and the hash span, under their public name.

The definitions live in `labkit._internal.theme` (below `labkit.checks`, whose checklist markup uses
them); every renderer in `labkit.display` and the attack matrix import them from there or from here.

    >>> "title=" in short_hash("sha256:" + "ab" * 32)
    True
"""

from __future__ import annotations

from labkit._internal.theme import (
    BG,
    BORDER,
    BRAND,
    CODE_BG,
    ERROR,
    FG,
    HEAD_BG,
    LINE,
    MONO,
    MUTED,
    PURPLE,
    RAISED,
    SANS,
    SUCCESS,
    SYNTAX,
    WARN,
    hash_spans,
    ink,
    short_hash,
    tint,
)

__all__ = [
    "BG",
    "BORDER",
    "BRAND",
    "CODE_BG",
    "ERROR",
    "FG",
    "HEAD_BG",
    "LINE",
    "MONO",
    "MUTED",
    "PURPLE",
    "RAISED",
    "SANS",
    "SUCCESS",
    "SYNTAX",
    "WARN",
    "hash_spans",
    "ink",
    "short_hash",
    "tint",
]
