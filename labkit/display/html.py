"""Deterministic HTML for notebooks: bytes, JSON, PEM, keys, tables (checklists: `labkit.display.checks`).

Every renderer returns an `HTML` object that Jupyter shows through
``_repr_html_``. The markup uses inline styles only: no element ids, no
timestamps, no random numbers, and dict order is the data's own, so nbval
sees the same bytes on every run.

    >>> str(hexdump(b"hi")).count("68 69")
    1
"""

from __future__ import annotations

import base64
import binascii
import html as _html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from labkit._internal.jsonio import JSONValue
from labkit._internal.theme import BORDER, CODE_BG, FG, HEAD_BG, MONO, MUTED, SANS, SYNTAX, WARN, hash_spans, tint
from labkit.keys import SigningKey, VerifyingKey

__all__ = ["HTML"]

_BOX = (
    f"font-family:{MONO};font-size:12px;line-height:1.45;color:{FG};background:{CODE_BG};"
    f"border:1px solid {BORDER};border-radius:4px;padding:6px 8px;margin:4px 0;overflow-x:auto;white-space:pre"
)
_TITLE = f"font-family:{SANS};font-size:12px;font-weight:bold;color:{FG};margin:6px 0 2px 0"
_COLORS = {
    **SYNTAX,
    "offset": MUTED,
    "ascii": MUTED,
    "mark": tint(WARN, 35),
    "muted": MUTED,
}


class HTML:
    """A rendered fragment: `str()` is the markup, Jupyter shows it as HTML."""

    __slots__ = ("html", "text")

    def __init__(self, markup: str, text: str = "") -> None:
        self.html = markup
        #: A plain-text rendering (shown in terminals and as text/plain).
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text or f"<HTML {len(self.html)} chars>"

    def __add__(self, other: HTML) -> HTML:
        return HTML(self.html + other.html, "\n".join(t for t in (self.text, other.text) if t))

    def __eq__(self, other: object) -> bool:  # Any: the data model compares with any object
        return isinstance(other, HTML) and other.html == self.html

    def __hash__(self) -> int:
        return hash(self.html)


def _esc(value: str) -> str:
    return _html.escape(str(value), quote=True)


def _span(color: str, text: str) -> str:
    return f'<span style="color:{_COLORS[color]}">{_esc(text)}</span>'


def _title(title: str | None) -> str:
    return f'<div style="{_TITLE}">{_esc(title)}</div>' if title else ""


def _pre(body: str, title: str | None = None) -> str:
    return f'<div>{_title(title)}<pre style="{_BOX}">{body}</pre></div>'


# -- bytes -----------------------------------------------------------------------------------------


def hexdump(
    data: bytes,
    *,
    width: int = 16,
    limit: int = 512,
    highlight: Iterable[tuple[int, int]] = (),
    title: str | None = None,
) -> HTML:
    """A hex dump with offsets and an ASCII column.

    `highlight` marks byte ranges ``(start, end)`` (end exclusive), e.g. the
    byte a notebook flipped. At most `limit` bytes are shown; the rest is
    summarised in one line.
    """
    data = bytes(data)
    width = max(1, width)
    marked: set[int] = set()
    for start, end in highlight:
        marked.update(range(max(0, start), min(len(data), end)))
    shown = data[:limit] if limit >= 0 else data
    rows: list[str] = []
    text_rows: list[str] = []
    for off in range(0, len(shown), width):
        chunk = shown[off : off + width]
        hex_cells: list[str] = []
        asc_cells: list[str] = []
        for i, b in enumerate(chunk):
            h = f"{b:02x}"
            a = chr(b) if 0x20 <= b < 0x7F else "."
            if off + i in marked:
                style = f'background:{_COLORS["mark"]};font-weight:bold'
                hex_cells.append(f'<span style="{style}">{h}</span>')
                asc_cells.append(f'<span style="{style}">{_esc(a)}</span>')
            else:
                hex_cells.append(h)
                asc_cells.append(_esc(a))
        pad = "   " * (width - len(chunk))
        rows.append(
            f'{_span("offset", f"{off:08x}")}  {" ".join(hex_cells)}{pad}  '
            f'<span style="color:{_COLORS["ascii"]}">{"".join(asc_cells)}</span>'
        )
        text_rows.append(
            f"{off:08x}  {' '.join(f'{b:02x}' for b in chunk)}{pad}  "
            + "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        )
    if len(shown) < len(data):
        more = f"… {len(data) - len(shown)} more bytes ({len(data)} in total)"
        rows.append(_span("muted", more))
        text_rows.append(more)
    if not data:
        rows.append(_span("muted", "(0 bytes)"))
        text_rows.append("(0 bytes)")
    return HTML(_pre("\n".join(rows), title), "\n".join(text_rows))


# -- JSON ------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)


def _highlight_json(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(_esc(text[pos : m.start()]))
        kind = m.lastgroup or "string"
        out.append(_span(kind, m.group(0)))
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out)


def _shorten(value: JSONValue, limit: int) -> JSONValue:
    if isinstance(value, str) and limit > 0 and len(value) > limit:
        return f"{value[:limit]}… ({len(value)} chars)"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value]
    return value


def json_view(value: JSONValue | bytes | bytearray, *, title: str | None = None, indent: int = 2,
              shorten: int = 0) -> HTML:
    """Pretty, highlighted JSON. `value` may be JSON text/bytes or a Python value.

    Keys keep their order. `shorten` > 0 cuts long strings (base64 blobs) to
    that many characters, saying how long they were.
    """
    doc: JSONValue = bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else value
    if isinstance(doc, str):
        raw = doc
        try:
            doc = json.loads(raw)
        except ValueError:
            return HTML(_pre(_esc(raw), title), raw)
    text = json.dumps(_shorten(doc, shorten), indent=indent, ensure_ascii=False)
    return HTML(_pre(_highlight_json(text), title), text)


# -- PEM and keys ----------------------------------------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


def pem_view(pem: bytes | str, *, title: str | None = None, show_body: bool = True) -> HTML:
    """A PEM file: its BEGIN/END type in colour, headers, body, and a line on what the body holds."""
    text = pem.decode("ascii", "replace") if isinstance(pem, (bytes, bytearray)) else pem
    blocks: list[str] = []
    plain: list[str] = []
    for m in _PEM_BLOCK.finditer(text):
        kind = m.group(1)
        lines = [line.strip() for line in m.group(2).strip().splitlines()]
        headers = [line for line in lines if ":" in line]
        body = "".join(line for line in lines if line and ":" not in line)
        try:
            size = len(base64.b64decode(body, validate=True))
            about = f"{kind}: {size} bytes of base64-encoded data"
        except (binascii.Error, ValueError):
            about = f"{kind}: body is not valid base64"
        parts = [_span("key", f"-----BEGIN {kind}-----")]
        parts.extend(_span("literal", h) for h in headers)
        if headers:
            parts.append("")
        if show_body:
            parts.extend(_esc(body[i : i + 64]) for i in range(0, len(body), 64))
        else:
            parts.append(_span("muted", f"({len(body)} base64 characters)"))
        parts.append(_span("key", f"-----END {kind}-----"))
        parts.append(_span("muted", about))
        blocks.append("\n".join(parts))
        plain.append(about)
    if not blocks:
        return HTML(_pre(_esc(text), title), text)
    return HTML(_pre("\n\n".join(blocks), title), "\n".join(plain))


def key_summary(key: SigningKey | VerifyingKey, *, title: str | None = None) -> HTML:
    """A table describing a `SigningKey` or `VerifyingKey`: algorithm, size, key id, lab or real."""
    if isinstance(key, SigningKey):
        pub = key.public_key()
        rows: list[tuple[str, str]] = [("kind", "private (signing) key")]
    elif isinstance(key, VerifyingKey):
        pub = key
        rows = [("kind", "public (verifying) key")]
    else:
        raise TypeError(f"key_summary needs a SigningKey or VerifyingKey, not {type(key).__name__}")
    raw = pub.key
    size = getattr(raw, "key_size", 256)
    curve = getattr(getattr(raw, "curve", None), "name", None)
    rows.append(("algorithm", pub.algorithm.value))
    if curve:
        rows.append(("curve", curve))
    rows.append(("key size", f"{size} bits"))
    rows.append(("signs with", "the message itself (Ed25519)" if pub.algorithm.value == "ed25519"
                 else f"{pub.algorithm.hash_name} digest"))
    rows.append(("public key (DER SubjectPublicKeyInfo)", f"{len(pub.der())} bytes"))
    rows.append(("key id = sha256(DER)", pub.key_id().hex()))
    if isinstance(key, SigningKey):
        rows.append(("mode", "LAB: derived from a public seed, deterministic" if key.lab else "real: random"))
    return table(rows, headers=("field", "value"), title=title)


# -- tables -------------------------------------------------------------------------------------


def table(
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    monospace: Iterable[int] = (),
) -> HTML:
    """A plain table. Rows are sequences, or mappings (headers = first row's keys)."""
    body: list[list[Any]] = []
    for row in rows:
        if isinstance(row, Mapping):
            if headers is None:
                headers = list(row.keys())
            body.append([row.get(h, "") for h in headers])
        else:
            body.append(list(row))
    mono = set(monospace)
    cell = f"border:1px solid {BORDER};padding:3px 8px;text-align:left;vertical-align:top;font-size:12px;color:{FG}"
    mono_style = cell + f";font-family:{MONO};overflow-wrap:anywhere"
    parts = [_title(title), '<table style="border-collapse:collapse;margin:4px 0;max-width:100%">']
    if headers:
        parts.append("<thead><tr>" + "".join(
            f'<th style="{cell};background:{HEAD_BG}">{_esc(str(h))}</th>' for h in headers) + "</tr></thead>")
    parts.append("<tbody>")
    for r in body:
        parts.append("<tr>" + "".join(
            f'<td style="{mono_style if i in mono else cell}">{hash_spans(_esc(str(v)))}</td>' for i, v in enumerate(r))
            + "</tr>")
    parts.append("</tbody></table>")
    text_lines = [" | ".join(str(h) for h in headers)] if headers else []
    text_lines.extend(" | ".join(str(v) for v in r) for r in body)
    return HTML("<div>" + "".join(parts) + "</div>", "\n".join(text_lines))

