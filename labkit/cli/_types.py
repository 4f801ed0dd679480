"""argparse value types shared by every command: bounded integers.

An option parsed with a plain ``type=int`` accepts any Python integer, and a
value past what the code below can hold (a log index past int64, a lifetime
past a datetime) ends in an OverflowError traceback. `bounded_int` checks the
range at the edge, so argparse prints one usage line and exits 2.

    p.add_argument("--index", type=bounded_int(0, INT64_MAX))
    p.add_argument("--port", type=PORT)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["INT64_MAX", "MAX_LIFETIME_SECONDS", "PORT", "bounded_int", "non_negative_int64"]

INT64_MAX = (1 << 63) - 1
"""Largest log index, tree size or size Rekor and protobuf int64 fields hold."""

MAX_LIFETIME_SECONDS = 10 * 366 * 24 * 3600
"""Longest lifetime (about ten years) a token or certificate option takes."""


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type=`` that accepts a decimal integer in [`low`, `high`] and refuses anything else."""

    def parse(text: str) -> int:
        value_text = text.strip()
        # int() would accept "1_000" and non-ASCII digits; an option value is plain ASCII decimal.
        digits = value_text[1:] if value_text[:1] in "+-" else value_text
        if not digits.isascii() or not digits.isdigit() or len(digits) > 40:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
        value = int(value_text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value_text} is out of range (allowed: {low} to {high})")
        return value

    parse.__name__ = "integer"  # argparse names the type in "invalid integer value" messages
    return parse


def non_negative_int64() -> Callable[[str], int]:
    """A log index, tree size or count: 0 to 2^63-1."""
    return bounded_int(0, INT64_MAX)


PORT = bounded_int(0, 65535)
"""A TCP port (0 picks a free one)."""
