"""The one recogniser in front of the bundle reader: bundles, PEP 740 objects, npm attestation responses.

Bundles reach analysts in wrappers. This module turns each wrapper's parsed
JSON into the protobuf-JSON form of the Sigstore bundle(s) it carries, so the
strict bundle reader (`labkit.bundle.Bundle.from_dict`) judges them all:

* a Sigstore bundle (any object with a bundle field such as ``mediaType``): itself;
* a PEP 740 attestation object (PyPI; ``{version: 1, verification_material{certificate,
  transparency_entries}, envelope{statement, signature}}``, PEP 740 "Attestation objects"):
  a v0.3 bundle with the certificate, the entries and a DSSE envelope of in-toto type;
* a PEP 740 provenance object (``{version: 1, attestation_bundles[{publisher, attestations[]}]}``,
  PEP 740 "Provenance objects"): each attestation, as above;
* an npm registry attestation response (``GET /-/npm/v1/attestations/<name>@<version>``:
  ``{attestations: [{predicateType, bundle}]}``): each bundle.

Nothing here verifies; a malformed wrapper raises one `BundleFormatError` naming the wrapper and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labkit._internal.jsonio import JSONValue
from labkit.errors import BundleFormatError

__all__ = ["unwrap_one"]

NOT_A_BUNDLE = "not a Sigstore bundle, PEP 740 attestation or npm attestation response"
_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
_INTOTO = "application/vnd.in-toto+json"
#: Top-level fields of a bundle in proto3 JSON (camelCase or proto names): any one marks a document as a bundle.
_BUNDLE_FIELDS = frozenset({
    "mediaType", "media_type", "verificationMaterial", "messageSignature",
    "message_signature", "dsseEnvelope", "dsse_envelope",
})
PEP740 = "PEP 740 attestation"
PEP740_PROVENANCE = "PEP 740 provenance"
NPM = "npm attestation response"


@dataclass(frozen=True)
class Unwrapped:
    """One bundle found in the input: where it came from (`label`), its wrapper kind and its bundle JSON."""

    label: str
    wrapper: str
    doc: dict[str, Any]
    predicate_type: str = ""


def _fail(wrapper: str, where: str, problem: str) -> BundleFormatError:
    return BundleFormatError(f"{wrapper}: {where} {problem}", details={"wrapper": wrapper, "field": where})


def _field(obj: JSONValue, key: str, wrapper: str, where: str, kind: type) -> Any:
    if not isinstance(obj, dict):
        raise _fail(wrapper, where, "is not a JSON object")
    if key not in obj:
        raise _fail(wrapper, f"{where}.{key}" if where else key, "is missing")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _fail(wrapper, f"{where}.{key}" if where else key, f"is not a {kind.__name__}: {type(value).__name__}")
    return value


def _describe(doc: JSONValue) -> str:
    if isinstance(doc, dict):
        keys = sorted(str(k) for k in doc)[:8]
        return f"a JSON object with keys {keys}" if keys else "an empty JSON object"
    if isinstance(doc, list):
        return f"a JSON array of {len(doc)} item(s)"
    return f"a JSON {type(doc).__name__} ({str(doc)[:40]!r})"


def _pep740(att: JSONValue, where: str) -> dict[str, Any]:
    """A PEP 740 attestation object as a v0.3 bundle document."""
    w = PEP740
    version = _field(att, "version", w, where, int)
    if version != 1:
        raise _fail(w, f"{where}.version" if where else "version", f"is {version}; only version 1 is defined")
    vm = _field(att, "verification_material", w, where, dict)
    vm_where = f"{where}.verification_material" if where else "verification_material"
    cert = _field(vm, "certificate", w, vm_where, str)
    entries = _field(vm, "transparency_entries", w, vm_where, list)
    env = _field(att, "envelope", w, where, dict)
    env_where = f"{where}.envelope" if where else "envelope"
    statement = _field(env, "statement", w, env_where, str)
    signature = _field(env, "signature", w, env_where, str)
    return {
        "mediaType": _V03,
        "verificationMaterial": {"certificate": {"rawBytes": cert}, "tlogEntries": entries},
        "dsseEnvelope": {"payload": statement, "payloadType": _INTOTO, "signatures": [{"sig": signature}]},
    }


def _provenance(doc: dict[str, Any]) -> list[Unwrapped]:
    w = PEP740_PROVENANCE
    version = _field(doc, "version", w, "", int)
    if version != 1:
        raise _fail(w, "version", f"is {version}; only version 1 is defined")
    out: list[Unwrapped] = []
    for i, ab in enumerate(_field(doc, "attestation_bundles", w, "", list)):
        where = f"attestation_bundles[{i}]"
        publisher = _field(ab, "publisher", w, where, dict)
        who = " ".join(str(publisher.get(k)) for k in ("kind", "repository", "workflow") if publisher.get(k))
        for j, att in enumerate(_field(ab, "attestations", w, where, list)):
            at = f"{where}.attestations[{j}]"
            try:
                bundle = _pep740(att, at)
            except BundleFormatError as exc:
                raise _fail(w, at, f"is not a PEP 740 attestation: {exc.message}") from None
            out.append(Unwrapped(f"{w} {at} (publisher {who or '?'})", w, bundle))
    if not out:
        raise _fail(w, "attestation_bundles", "holds no attestation")
    return out


def _npm(doc: dict[str, Any]) -> list[Unwrapped]:
    out: list[Unwrapped] = []
    items = _field(doc, "attestations", NPM, "", list)
    for i, item in enumerate(items):
        where = f"attestations[{i}]"
        ptype = _field(item, "predicateType", NPM, where, str)
        bundle = _field(item, "bundle", NPM, where, dict)
        out.append(Unwrapped(f"{NPM} {where} ({ptype})", NPM, bundle, ptype))
    if not out:
        raise _fail(NPM, "attestations", "is empty")
    return out


def unwrap(doc: JSONValue) -> list[Unwrapped]:
    """Every bundle the parsed JSON `doc` carries, recognised by shape; raises `BundleFormatError` otherwise."""
    if isinstance(doc, dict):
        if _BUNDLE_FIELDS & doc.keys():
            return [Unwrapped("Sigstore bundle", "bundle", doc)]
        if "attestation_bundles" in doc:
            return _provenance(doc)
        if "verification_material" in doc or "envelope" in doc:
            return [Unwrapped(PEP740, PEP740, _pep740(doc, ""))]
        if "attestations" in doc:
            return _npm(doc)
        if "rekorBundle" in doc or "base64Signature" in doc:
            raise BundleFormatError(
                f"{NOT_A_BUNDLE}: found a legacy cosign bundle (base64Signature, cert, rekorBundle); "
                "make a Sigstore bundle of it with `labkit bundle create --rekor-bundle FILE`",
                details={"actual": _describe(doc)},
            )
    raise BundleFormatError(
        f"{NOT_A_BUNDLE}: found {_describe(doc)}",
        details={"expected": "a bundle (mediaType, verificationMaterial, ...), a PEP 740 attestation or provenance "
                             "object, or an npm {attestations: [...]} response", "actual": _describe(doc)},
    )


def unwrap_one(doc: JSONValue) -> dict[str, Any]:
    """The one bundle `doc` carries; a wrapper holding several is refused with their labels."""
    found = unwrap(doc)
    if len(found) != 1:
        labels = "; ".join(f"[{i}] {u.label}" for i, u in enumerate(found))
        raise BundleFormatError(
            f"the {found[0].wrapper} holds {len(found)} bundles; pick one with `labkit bundle convert --index N`",
            details={"bundles": labels},
        )
    return found[0].doc
