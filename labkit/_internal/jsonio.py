"""Bounded JSON reading: one parser for every JSON document labkit takes in.

Every document from a file, a registry, a layout or a request goes through
`loads`: it caps the size, refuses nesting deeper than `MAX_DEPTH`, bare
`NaN`/`Infinity` (not JSON, RFC 8259 §6), invalid UTF-8 and lone surrogates,
and optionally duplicate object keys. A refusal is ``error(message)``, the
caller's own labkit error class, so the user sees one clear line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

from labkit.errors import InputError, LabkitError

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "JSONValue", "JSONWritable", "check_depth", "loads", "read_json_file"]

JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"
"""A parsed JSON value: dict, list, str, int, float, bool or None (recursive)."""

JSONWritable: TypeAlias = "Mapping[str, JSONWritable] | Sequence[JSONWritable] | str | int | float | bool | None"
"""A value labkit writes as JSON: `JSONValue` with read-only (covariant) containers, so a ``dict[str, str]``
or a ``list[dict[str, str]]`` built in code fits where a ``dict[str, JSONValue]`` would not."""

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (Sigstore documents need about 10)."""

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""Default size cap: the OCI distribution spec's 4 MiB manifest guidance."""

ErrorFactory = Callable[[str], LabkitError]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A `\\uD800`-`\\uDFFF` escape: only then can a parsed string hold a lone surrogate."""


class _Refused(ValueError):
    """Raised inside the decoder hooks; turned into the caller's error."""


def _no_constant(name: str) -> float:
    raise _Refused(f"{name} is not a JSON value")


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) == len(pairs):  # no key repeated: the common case, without a Python-level loop
        return out
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Refused(f"duplicate key {key!r}")
        seen.add(key)
    return out  # not reached: dict() kept fewer pairs only because a key repeats


#: One decoder per duplicate-key setting, built once: ``json.loads`` with hooks builds a `JSONDecoder` (and its
#: scanner) on every call. The decoders keep no state between documents (the scanner clears its key memo).
_DECODERS = {
    False: json.JSONDecoder(parse_constant=_no_constant),
    True: json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_pairs_without_duplicates),
}


def _decode(text: str, reject_duplicate_keys: bool) -> JSONValue:
    """``json.loads(text, parse_constant=..., object_pairs_hook=...)`` through the prebuilt decoder.

    Text starting with a BOM (and anything that is not a `str`) takes ``json.loads`` itself, which refuses or
    decodes it; any other `str` is what ``json.loads`` hands its decoder unchanged.
    """
    if not isinstance(text, str) or text.startswith("\ufeff"):
        hook = _pairs_without_duplicates if reject_duplicate_keys else None
        value: JSONValue = json.loads(text, parse_constant=_no_constant, object_pairs_hook=hook)
        return value
    decoded: JSONValue = _DECODERS[bool(reject_duplicate_keys)].decode(text)
    return decoded


def loads(
    data: bytes | str,
    *,
    what: str = "JSON document",
    error: ErrorFactory = InputError,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
    reject_duplicate_keys: bool = False,
) -> JSONValue:
    """Parse `data` as strict, bounded JSON or raise ``error(message)`` naming `what`."""
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise error(f"{what} is {size} bytes, over the {max_bytes}-byte limit")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise error(f"{what} is not UTF-8") from None
    else:
        text = data
    try:
        value: JSONValue = _decode(text, reject_duplicate_keys)
    except RecursionError:
        raise error(f"{what} is nested more than {max_depth} levels deep") from None
    except _Refused as exc:
        raise error(f"{what} is not valid JSON: {exc}") from None
    except ValueError as exc:
        raise error(f"{what} is not valid JSON: {exc}") from None
    if text.count("[") + text.count("{") > max_depth:
        check_depth(value, max_depth=max_depth, what=what, error=error)
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):  # no "\u" at all: no escape to look at (a fast scan)
        _check_strings(value, what=what, error=error)
    return value


def check_depth(value: JSONValue, *, max_depth: int = MAX_DEPTH, what: str = "JSON document",
                error: ErrorFactory = InputError) -> None:
    """Refuse `value` if its arrays and objects nest deeper than `max_depth` (iterative walk)."""
    stack: list[tuple[JSONValue, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[JSONValue] = list(node.values())
        elif isinstance(node, list):
            children = list(node)
        else:
            continue
        if depth > max_depth:
            raise error(f"{what} is nested more than {max_depth} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _check_strings(value: JSONValue, *, what: str, error: ErrorFactory) -> None:
    """Refuse lone surrogates (`\\ud800` escapes): they are not Unicode text."""
    stack: list[JSONValue] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            _require_text(node, what, error)
        elif isinstance(node, dict):
            for key, child in node.items():
                _require_text(key, what, error)
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)


def _require_text(text: str, what: str, error: ErrorFactory) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise error(f"{what} holds a lone UTF-16 surrogate, which is not text") from None


def read_json_file(
    path: str | Path,
    *,
    what: str | None = None,
    error: ErrorFactory = InputError,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    reject_duplicate_keys: bool = False,
) -> JSONValue:
    """Read and parse a JSON file, reading at most `max_bytes` + 1 bytes from disk."""
    target = Path(path)
    label = what or str(target)
    try:
        with target.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{label}: no such file") from None
    except IsADirectoryError:
        raise error(f"{label} is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{label} cannot be read: {exc.strerror or exc}") from None
    return loads(data, what=label, error=error, max_bytes=max_bytes, reject_duplicate_keys=reject_duplicate_keys)
