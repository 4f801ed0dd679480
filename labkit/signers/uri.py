"""Key URIs as cosign spells them: ``pkcs11:`` (RFC 7512) and the KMS schemes.

- ``pkcs11:token=T;object=O;id=%01?module-path=/x.so&pin-value=1234`` (or
  ``pin-source=FILE``): path attributes separated by ``;``, query
  attributes by ``&``, values percent-encoded. As cosign requires: a
  ``token`` or ``slot-id``, an ``object`` or ``id``, and a ``module-path``
  (or ``COSIGN_PKCS11_MODULE_PATH``).
- ``awskms://[ENDPOINT]/[ID|ALIAS|ARN]`` with the four forms cosign
  (sigstore ``pkg/signature/kms/aws``) accepts: key ID, key ARN, alias
  name, alias ARN. labkit reaches only a loopback ENDPOINT (the lab's
  local stand-in); an empty ENDPOINT means AWS itself and is refused.
- ``gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/versions/V]``,
  ``azurekms://VAULT/KEY[/VERSION]``, ``hashivault://KEY``,
  ``k8s://NAMESPACE/SECRET``: validated with cosign's grammar, then refused
  with the service they need (labkit has no stand-in for them).

Every failure is a `KeyURIError` naming the part of the URI at fault.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes

from labkit.signers.base import KeyURIError

__all__ = ["parse_awskms"]

#: What each refused scheme needs, for the error message.
_SERVICES = {
    "gcpkms": "Google Cloud KMS",
    "azurekms": "Azure Key Vault",
    "hashivault": "HashiCorp Vault's transit secrets engine",
    "k8s": "a Kubernetes cluster (the key pair is kept in a Secret)",
}
_KMS_SCHEMES = ("awskms", *_SERVICES)

_MAX_URI = 4096
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://")

_PATH_ATTRS = {"token", "slot-id", "object", "id", "type", "manufacturer", "model", "serial",
               "slot-description", "slot-manufacturer", "library-manufacturer", "library-description",
               "library-version"}
_QUERY_ATTRS = {"module-path", "module-name", "pin-value", "pin-source"}
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

# cosign's awskms grammar (sigstore pkg/signature/kms/aws): key ID, key ARN, alias name, alias ARN.
_UUID = r"m?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}"
_ARN = r"arn:(?:aws|aws-us-gov):kms:[a-z0-9-]+:\d{12}:"
_AWS_FORMS = (
    re.compile(rf"^awskms://([^/]*)/({_UUID})$"),
    re.compile(rf"^awskms://([^/]*)/({_ARN}key/{_UUID})$"),
    re.compile(r"^awskms://([^/]*)/((alias/.*))$"),
    re.compile(rf"^awskms://([^/]*)/({_ARN}(alias/.*))$"),
)
_OTHER_FORMS = {
    "gcpkms": (re.compile(r"^gcpkms://projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)/cryptoKeys/([^/]+)"
                          r"(?:/versions/([^/]+))?$"),
               "gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY[/versions/VERSION]"),
    "azurekms": (re.compile(r"^azurekms://([^/]+)/([^/]+)(/[a-z0-9]*)?$"), "azurekms://VAULT/KEY[/VERSION]"),
    "hashivault": (re.compile(r"^hashivault://(\w(?:[\w.-]*\w)?)$", re.ASCII), "hashivault://KEY"),
}


@dataclass(frozen=True)
class Pkcs11URI:
    """A parsed ``pkcs11:`` URI (only what labkit uses; `text` is the URI as given)."""

    text: str
    module_path: str
    token: str | None = None
    slot_id: int | None = None
    object_label: str | None = None
    object_id: bytes | None = None
    pin_value: str | None = None
    pin_source: str | None = None

    def describe(self) -> str:
        """Token and object, for outputs (never the PIN)."""
        where = f"token {self.token!r}" if self.token is not None else f"slot {self.slot_id}"
        key_id = self.object_id.hex() if self.object_id else ""
        what = f"object {self.object_label!r}" if self.object_label else f"id {key_id}"
        return f"PKCS#11 {where} ({self.module_path}), {what}"


@dataclass(frozen=True)
class AwsKmsURI:
    """A parsed ``awskms://`` URI: endpoint (host:port), key reference (ID, ARN or alias), alias when one."""

    text: str
    endpoint: str
    key: str
    alias: str | None

    @property
    def endpoint_url(self) -> str:
        """The stand-in's URL (plain HTTP: it listens on loopback only)."""
        return f"http://{self.endpoint}"


@dataclass(frozen=True)
class UnsupportedKmsURI:
    """A valid URI of a KMS labkit has no stand-in for."""

    text: str
    scheme: str
    service: str


def is_key_uri(ref: str) -> bool:
    """True for ``pkcs11:…`` and ``scheme://…`` (a key URI, not a file path)."""
    return ref.startswith("pkcs11:") or _SCHEME_RE.match(ref) is not None


def parse_key_uri(ref: str) -> Pkcs11URI | AwsKmsURI | UnsupportedKmsURI:
    """Parse any key URI; a `KeyURIError` naming the part at fault otherwise."""
    _check_text(ref)
    if ref.startswith("pkcs11:"):
        return _parse_pkcs11(ref)
    m = _SCHEME_RE.match(ref)
    scheme = m.group(1) if m else ""
    if scheme == "awskms":
        return parse_awskms(ref)
    if scheme == "k8s":
        parts = ref[len("k8s://"):].split("/")
        if len(parts) != 2:
            raise KeyURIError("a k8s key reference is k8s://NAMESPACE/SECRET", uri=ref, part="NAMESPACE/SECRET")
    elif scheme in _OTHER_FORMS:
        regex, form = _OTHER_FORMS[scheme]
        if not regex.match(ref):
            raise KeyURIError(f"a {scheme} key reference is {form}", uri=ref, part="key path")
    else:
        known = ", ".join(f"{s}://" for s in _KMS_SCHEMES)
        raise KeyURIError(f"unknown key URI scheme {scheme + '://'!r}; labkit knows pkcs11: and {known}",
                          uri=ref, part="scheme")
    return UnsupportedKmsURI(ref, scheme, _SERVICES[scheme])


def _check_text(ref: str) -> None:
    if len(ref) > _MAX_URI:
        raise KeyURIError(f"key URI is longer than {_MAX_URI} characters", uri=ref[:64] + "…", part="length")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in ref):
        raise KeyURIError("key URI contains whitespace or control characters", uri=ref, part="characters")


def parse_awskms(ref: str) -> AwsKmsURI:
    """``awskms://[ENDPOINT]/[ID|ALIAS|ARN]`` with cosign's four forms; a loopback ENDPOINT only."""
    for regex in _AWS_FORMS:
        m = regex.match(ref)
        if m:
            alias = m.group(3) if regex.groups == 3 else None
            return AwsKmsURI(ref, _loopback_endpoint(m.group(1), ref), m.group(2), alias)
    part = "ENDPOINT/" if "/" not in ref[len("awskms://"):] else "key (ID, alias/NAME or ARN)"
    raise KeyURIError("an awskms key reference is awskms://[ENDPOINT]/[ID|ALIAS|ARN] (a key ID, key ARN, "
                      "alias/NAME or alias ARN)", uri=ref, part=part)


def _loopback_endpoint(endpoint: str, ref: str) -> str:
    if not endpoint:
        raise KeyURIError(
            "awskms:/// without an ENDPOINT means AWS itself; labkit talks only to a local stand-in",
            uri=ref, part="ENDPOINT",
            hint="Start the lab's stand-in (labkit.signers.kmsserver.start_local_kms) and use "
            "awskms://127.0.0.1:PORT/alias/NAME.",
        )
    m = re.match(r"^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$", endpoint)
    if m is None or (m.group(2) is not None and not 0 < int(m.group(2)) < 65536):
        raise KeyURIError(f"endpoint {endpoint!r} is not HOST[:PORT]", uri=ref, part="ENDPOINT")
    host = m.group(1).strip("[]")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise KeyURIError(f"endpoint {endpoint!r} is not on loopback; labkit reaches only a local KMS stand-in",
                              uri=ref, part="ENDPOINT",
                              hint="Use 127.0.0.1:PORT of the stand-in labkit starts (never a real AWS endpoint).")
    return endpoint


def _parse_pkcs11(ref: str) -> Pkcs11URI:
    """An RFC 7512 ``pkcs11:`` URI with cosign's requirements (see the module docstring)."""
    body = ref[len("pkcs11:"):]
    if "#" in body:
        raise KeyURIError("a pkcs11 URI has no fragment ('#')", uri=ref, part="fragment")
    path, _, query = body.partition("?")
    attrs = _attributes(path.replace(";", "&"), _PATH_ATTRS, ref, "path")
    qattrs = _attributes(query, _QUERY_ATTRS, ref, "query")
    token, slot = attrs.get("token"), attrs.get("slot-id")
    if token is None and slot is None:
        raise KeyURIError("a pkcs11 URI names its token: token=LABEL or slot-id=N", uri=ref, part="token")
    slot_id = None
    if slot is not None:
        if not slot.isdigit():
            raise KeyURIError(f"slot-id {slot!r} is not a number", uri=ref, part="slot-id")
        slot_id = int(slot)
    label, raw_id = attrs.get("object"), _id_bytes(path, ref)
    if not label and not raw_id:
        raise KeyURIError("a pkcs11 URI names its key: object=LABEL or id=%XX…", uri=ref, part="object")
    if attrs.get("type", "private") not in ("private", "public"):
        raise KeyURIError("type must be 'private' (or 'public' to read the public key)", uri=ref, part="type")
    module = qattrs.get("module-path") or os.environ.get("COSIGN_PKCS11_MODULE_PATH", "")
    if not module:
        raise KeyURIError("a pkcs11 URI needs module-path=/ABSOLUTE/PATH.so (or COSIGN_PKCS11_MODULE_PATH)",
                          uri=ref, part="module-path")
    if not module.startswith("/"):
        raise KeyURIError(f"module-path {module!r} is not an absolute path", uri=ref, part="module-path")
    if "pin-value" in qattrs and "pin-source" in qattrs:
        raise KeyURIError("give pin-value or pin-source, not both", uri=ref, part="pin-source")
    return Pkcs11URI(ref, module, token, slot_id, label or None, raw_id or None,
                     qattrs.get("pin-value"), qattrs.get("pin-source"))


def _attributes(text: str, known: set[str], ref: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split("&") if text else []:
        if not item:
            continue
        name, eq, value = item.partition("=")
        if not eq:
            raise KeyURIError(f"{where} attribute {name!r} has no '='", uri=ref, part=name or where)
        if name not in known:
            raise KeyURIError(f"unknown pkcs11 {where} attribute {name!r}", uri=ref, part=name)
        if name in out:
            raise KeyURIError(f"pkcs11 attribute {name!r} appears twice", uri=ref, part=name)
        if _BAD_ESCAPE.search(value):
            raise KeyURIError(f"attribute {name!r} has a malformed percent-escape", uri=ref, part=name)
        if name != "id":
            try:
                value = unquote(value, errors="strict")
            except UnicodeDecodeError:
                raise KeyURIError(f"attribute {name!r} is not UTF-8 once decoded", uri=ref, part=name) from None
        out[name] = value
    return out


def _id_bytes(path: str, ref: str) -> bytes:
    for item in path.replace(";", "&").split("&"):
        name, _, value = item.partition("=")
        if name == "id":
            return unquote_to_bytes(value)
    return b""
