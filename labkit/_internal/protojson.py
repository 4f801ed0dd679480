"""Reading the proto3 JSON mapping: one strict reader for bundles and trust files.

Sigstore documents (bundles, trusted roots) are protobuf messages written in
the proto3 JSON mapping (protobuf.dev "ProtoJSON Format", as Go's protojson
implements it). `loads` parses the text with the bounded reader
(`labkit._internal.jsonio`: UTF-8 only, no ``NaN``, no lone surrogates, no
duplicate keys, bounded size and depth); `Message` then reads one message
object field by field:

* a field is found under its JSON name (``payloadType``) or its proto name
  (``payload_type``), never both at once;
* ``null`` means the field is absent (its default);
* a repeated field is a JSON list (``null`` is the empty list), never an object;
* ``bytes`` are base64 as `labkit._internal.encoding.b64decode_field` reads them;
* ``int64`` is a JSON integer or a decimal string: optional ``-``, ASCII digits,
  no leading zeros, no spaces;
* an enum is one of its value names (or its number, which maps to the name).

A refusal is ``error(message)`` naming the field by its JSON path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from labkit._internal import jsonio
from labkit._internal.encoding import b64decode_field, decode_padded_standard
from labkit._internal.jsonio import JSONValue
from labkit.errors import LabkitError

__all__ = ["HASH_ALGORITHM", "PUBLIC_KEY_DETAILS", "Enum", "Message", "loads", "proto_name", "read_int64"]

ErrorFactory = Callable[[str], LabkitError]
_T = TypeVar("_T")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")


def loads(data: bytes | str, *, what: str, error: ErrorFactory,
          max_bytes: int = jsonio.MAX_DOCUMENT_BYTES) -> JSONValue:
    """Parse a proto3 JSON document strictly (duplicate keys refused)."""
    return jsonio.loads(data, what=what, error=error, max_bytes=max_bytes, reject_duplicate_keys=True)


@functools.lru_cache(maxsize=512)
def proto_name(json_name: str) -> str:
    """The proto (snake_case) name of a JSON field name: ``rfc3161Timestamps`` → ``rfc3161_timestamps``."""
    return "".join("_" + c.lower() if "A" <= c <= "Z" else c for c in json_name)


class Enum:
    """A protobuf enum: its value names and numbers."""

    def __init__(self, name: str, values: Mapping[str, int]) -> None:
        self.name = name
        self.values = dict(values)
        self._by_number = {n: v for v, n in reversed(list(values.items()))}  # first name wins for aliases

    def read(self, value: JSONValue, where: str, error: ErrorFactory) -> str:
        """The value name for `value` (a name or a number), or ``error``."""
        if isinstance(value, str) and value in self.values:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value in self._by_number:
            return self._by_number[value]
        raise error(f"{where} is not a {self.name} value: {value!r}")


#: protobuf-specs sigstore_common.proto ``HashAlgorithm``.
HASH_ALGORITHM = Enum("HashAlgorithm", {
    "HASH_ALGORITHM_UNSPECIFIED": 0, "SHA2_256": 1, "SHA2_384": 2, "SHA2_512": 3, "SHA3_256": 4, "SHA3_384": 5,
})

#: protobuf-specs sigstore_common.proto ``PublicKeyDetails``.
PUBLIC_KEY_DETAILS = Enum("PublicKeyDetails", {
    "PUBLIC_KEY_DETAILS_UNSPECIFIED": 0, "PKCS1_RSA_PKCS1V5": 1, "PKCS1_RSA_PSS": 2, "PKIX_RSA_PKCS1V5": 3,
    "PKIX_RSA_PSS": 4, "PKIX_RSA_PKCS1V15_2048_SHA256": 9, "PKIX_RSA_PKCS1V15_3072_SHA256": 10,
    "PKIX_RSA_PKCS1V15_4096_SHA256": 11, "PKIX_RSA_PSS_2048_SHA256": 16, "PKIX_RSA_PSS_3072_SHA256": 17,
    "PKIX_RSA_PSS_4096_SHA256": 18, "PKIX_ECDSA_P256_HMAC_SHA_256": 6, "PKIX_ECDSA_P256_SHA_256": 5,
    "PKIX_ECDSA_P384_SHA_384": 12, "PKIX_ECDSA_P521_SHA_512": 13, "PKIX_ED25519": 7, "PKIX_ED25519_PH": 8,
    "PKIX_ECDSA_P384_SHA_256": 19, "PKIX_ECDSA_P521_SHA_256": 20, "LMS_SHA256": 14, "LMOTS_SHA256": 15,
    "ML_DSA_44": 23, "ML_DSA_65": 21, "ML_DSA_87": 22,
})


class Message:
    """One JSON object read as a protobuf message (see the module docstring)."""

    def __init__(self, doc: JSONValue, where: str, error: ErrorFactory) -> None:
        if not isinstance(doc, dict):
            raise error(f"{where} must be a JSON object")
        self.where = where
        self.error = error
        self._fields: dict[str, JSONValue] = {}
        if "_" not in "".join(doc):  # no proto (snake_case) name: every key is its own JSON name, none repeats
            self._fields = dict(doc)
            return
        for key, value in doc.items():
            name = _json_name(key)
            if name in self._fields:
                raise error(f"{where}.{name} is given twice (as {name!r} and {proto_name(name)!r})")
            self._fields[name] = value

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}"

    def raw(self, name: str, *, required: bool = False) -> JSONValue:
        """The field's JSON value (None when absent or null)."""
        value = self._fields.get(name)
        if value is None and required:
            raise self.error(f"{self._path(name)} is missing")
        return value

    def has(self, name: str) -> bool:
        """True when the field is present and not null."""
        return self._fields.get(name) is not None

    def message(self, name: str) -> Message:
        """A required sub-message."""
        return Message(self.raw(name, required=True), self._path(name), self.error)

    def optional_message(self, name: str) -> Message | None:
        """A sub-message, or None when absent."""
        value = self.raw(name)
        return None if value is None else Message(value, self._path(name), self.error)

    def repeated(self, name: str) -> list[JSONValue]:
        """A repeated field: a JSON list (absent or null is empty)."""
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{self._path(name)} must be a list, not {_json_type(value)}")
        return value

    def messages(self, name: str) -> list[Message]:
        """A repeated message field."""
        return [Message(v, f"{self._path(name)}[{i}]", self.error) for i, v in enumerate(self.repeated(name))]

    def each(self, name: str, read: Callable[[JSONValue, str], _T]) -> list[_T]:
        """A repeated scalar field, each item read by ``read(value, where)``."""
        return [read(v, f"{self._path(name)}[{i}]") for i, v in enumerate(self.repeated(name))]

    def string(self, name: str, *, required: bool = False) -> str:
        """A string field ('' when absent and not required)."""
        value = self.raw(name, required=required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.error(f"{self._path(name)} must be a string, not {_json_type(value)}")
        return value

    def binary(self, name: str, *, required: bool = False) -> bytes:
        """A bytes field (b'' when absent and not required)."""
        value = self._fields.get(name)  # `raw` inlined: the bundle path reads ~15 bytes fields
        if value is None:
            if required:
                raise self.error(f"{self._path(name)} is missing")
            return b""
        padded = decode_padded_standard(value) if isinstance(value, str) else None
        return padded if padded is not None else self.read_bytes(value, self._path(name))

    def binaries(self, name: str) -> list[bytes]:
        """A repeated bytes field (absent or null is empty)."""
        out = []
        for i, value in enumerate(self.repeated(name)):
            padded = decode_padded_standard(value) if isinstance(value, str) else None
            out.append(padded if padded is not None else self.read_bytes(value, f"{self._path(name)}[{i}]"))
        return out

    def read_bytes(self, value: JSONValue, where: str) -> bytes:
        """Decode one base64 ``bytes`` value."""
        return b64decode_field(value, where, self.error)

    def int64(self, name: str, *, required: bool = False, minimum: int = INT64_MIN) -> int:
        """An int64 field (0 when absent and not required)."""
        value = self.raw(name, required=required)
        return 0 if value is None else read_int64(value, self._path(name), self.error, minimum=minimum)

    def enum(self, name: str, enum: Enum) -> str:
        """An enum field: its value name ('' when absent)."""
        value = self.raw(name)
        return "" if value is None else enum.read(value, self._path(name), self.error)


def read_int64(value: JSONValue, where: str, error: ErrorFactory, *, minimum: int = INT64_MIN) -> int:
    """An int64: a JSON integer or a decimal string (optional '-', ASCII digits, no leading zeros or spaces)."""
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise error(f"{where} must be a decimal integer, got {value!r}")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise error(f"{where} must be an integer, not {_json_type(value)}")
    if not minimum <= number <= INT64_MAX:
        raise error(f"{where} is out of range: {number}")
    return number


@functools.lru_cache(maxsize=512)
def _json_name(key: str) -> str:
    """The JSON name a key stands for: itself, or the lowerCamelCase name if `key` is a proto (snake_case) name."""
    if "_" not in key:
        return key
    parts = key.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return camel if proto_name(camel) == key else key


def _json_type(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    return "null"
