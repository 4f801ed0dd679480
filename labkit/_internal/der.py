"""A minimal, strict DER encoder and decoder (ITU-T X.690) for the structures labkit builds itself.

The timestamp authority (`labkit.tsa`) needs to read TimeStampReq and write
TSTInfo, CMS SignedData and TimeStampResp, which `cryptography` cannot build.
Only what those structures use is here: single-byte tags, definite minimal
lengths, INTEGER, BOOLEAN, NULL, OID, OCTET/BIT STRING, UTF8String,
GeneralizedTime, SEQUENCE and SET OF. The decoder refuses anything that is not
DER (indefinite or non-minimal lengths, trailing bytes, high tag numbers,
non-minimal integers) with `DERError`; it reads one level at a time, so a
deeply nested input cannot exhaust the stack. See docs/adr/0001-tsa-asn1.md.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BOOLEAN", "INTEGER", "NULL", "OCTET_STRING", "OID", "SEQUENCE", "SET",
    "DERError", "Element", "bit_string", "boolean", "children", "context", "decode_integer", "decode_oid",
    "generalized_time", "integer", "null", "octet_string", "oid", "parse", "sequence", "set_of", "tlv", "utf8_string",
]

BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
UTF8_STRING, GENERALIZED_TIME, SEQUENCE, SET = 0x0C, 0x18, 0x30, 0x31


class DERError(ValueError):
    """The bytes are not the DER this module expects."""


# -- encoding ---------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    """One item: tag byte, DER length, content."""
    return bytes([tag]) + _length(len(content)) + content


def sequence(*items: bytes) -> bytes:
    """SEQUENCE of already-encoded items, in order."""
    return tlv(SEQUENCE, b"".join(items))


def set_of(items: Iterable[bytes]) -> bytes:
    """SET OF: X.690 §11.6 orders the encodings as octet strings."""
    return tlv(SET, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    """INTEGER, two's complement in the fewest octets."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def boolean(value: bool) -> bytes:
    """BOOLEAN (DER: TRUE is 0xFF)."""
    return tlv(BOOLEAN, b"\xff" if value else b"\x00")


def null() -> bytes:
    """NULL."""
    return b"\x05\x00"


def octet_string(value: bytes) -> bytes:
    """OCTET STRING."""
    return tlv(OCTET_STRING, value)


def utf8_string(value: str) -> bytes:
    """UTF8String."""
    return tlv(UTF8_STRING, value.encode())


def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise DERError(f"not an object identifier: {dotted}")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(OID, bytes(out))


def bit_string(bits: Iterable[int]) -> bytes:
    """A named-bit BIT STRING with the given bits set (bit 0 is the first, most significant one).

    DER (X.690 §11.2.2) drops trailing zero bits, so the length follows the highest bit set.
    """
    chosen = sorted(set(bits))
    if not chosen:
        return tlv(BIT_STRING, b"\x00")
    top = chosen[-1]
    raw = bytearray(top // 8 + 1)
    for bit in chosen:
        raw[bit // 8] |= 0x80 >> (bit % 8)
    return tlv(BIT_STRING, bytes([7 - top % 8]) + bytes(raw))


def generalized_time(when: _dt.datetime) -> bytes:
    """GeneralizedTime in UTC, ``YYYYMMDDHHMMSS[.f]Z`` with no trailing zeros in the fraction (RFC 3161 §2.4.2)."""
    if when.tzinfo is None:
        raise DERError("GeneralizedTime needs an aware datetime")
    when = when.astimezone(_dt.timezone.utc)
    text = when.strftime("%Y%m%d%H%M%S")
    if when.microsecond:
        text += "." + f"{when.microsecond:06d}".rstrip("0")
    return tlv(GENERALIZED_TIME, (text + "Z").encode())


def context(number: int, content: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific tag ``[number]`` around `content` (EXPLICIT when `content` is a whole item)."""
    if not 0 <= number < 31:
        raise DERError("only low tag numbers are supported")
    return tlv((0xA0 if constructed else 0x80) | number, content)


# -- decoding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One decoded item: its tag, its content octets, and its whole encoding."""

    tag: int
    content: bytes
    raw: bytes


def _read(data: bytes, pos: int) -> tuple[Element, int]:
    """The item at `pos` and the position after it."""
    if pos + 2 > len(data):
        raise DERError("truncated item")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise DERError("high tag numbers are not supported")
    start = pos + 2
    if first == 0x80:
        raise DERError("indefinite length is not DER")
    if first & 0x80:
        n = first & 0x7F
        if n > 4 or start + n > len(data):
            raise DERError("bad length")
        length = int.from_bytes(data[start : start + n], "big")
        if length < 0x80 or data[start] == 0:
            raise DERError("length is not in its shortest form")
        start += n
    else:
        length = first
    end = start + length
    if end > len(data):
        raise DERError("item runs past the end of its parent")
    return Element(tag, data[start:end], data[pos:end]), end


def parse(data: bytes) -> Element:
    """The single item `data` holds; trailing bytes are an error."""
    element, end = _read(data, 0)
    if end != len(data):
        raise DERError(f"{len(data) - end} bytes after the item")
    return element


def children(element: Element, limit: int = 64) -> list[Element]:
    """The items inside a constructed `element` (at most `limit` of them)."""
    if not element.tag & 0x20:
        raise DERError(f"tag 0x{element.tag:02x} is not constructed")
    out: list[Element] = []
    pos = 0
    while pos < len(element.content):
        if len(out) == limit:
            raise DERError(f"more than {limit} items")
        item, pos = _read(element.content, pos)
        out.append(item)
    return out


def decode_integer(element: Element) -> int:
    """An INTEGER's value (minimal two's complement required)."""
    raw = element.content
    if element.tag != INTEGER or not raw:
        raise DERError("not an INTEGER")
    if len(raw) > 1 and ((raw[0] == 0 and raw[1] < 0x80) or (raw[0] == 0xFF and raw[1] >= 0x80)):
        raise DERError("INTEGER is not in its shortest form")
    return int.from_bytes(raw, "big", signed=True)


def decode_oid(element: Element) -> str:
    """An OBJECT IDENTIFIER's dotted form."""
    raw = element.content
    if element.tag != OID or not raw or raw[-1] & 0x80:
        raise DERError("not an OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for i, byte in enumerate(raw):
        if value == 0 and byte == 0x80 and (i == 0 or not raw[i - 1] & 0x80):
            raise DERError("OBJECT IDENTIFIER arc is not in its shortest form")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    head = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [head, arcs[0] - 40 * head, *arcs[1:]])
