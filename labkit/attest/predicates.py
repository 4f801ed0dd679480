"""Predicate types: URIs, schema checks and the registry researchers extend.

An in-toto Statement names its predicate by URI (``predicateType``). labkit
knows the types cosign users attest with (``slsaprovenance1``, ``cyclonedx``,
``spdx``/``spdxjson``, ``vuln``, ``custom``) and lets anyone add one::

    >>> def check(p):  # a policy: return False or a reason string to refuse
    ...     return p["score"] >= 5 or "score below 5"
    >>> t = register_predicate_type(
    ...     "https://example.org/review/v1", name="review",
    ...     schema={"type": "object", "required": ["score"],
    ...             "properties": {"score": {"type": "integer"}}},
    ...     policy=check, replace=True)
    >>> get_predicate_type("review").check({"score": 7})
    {'score': 7}
    >>> unregister_predicate_type("https://example.org/review/v1")

A separate package registers types through the entry-point group
``labkit.predicate_types``: each entry point loads to a `PredicateType`, an
iterable of them, or a callable returning either (called with no arguments).

Every check exists twice: `PredicateType.check_steps` returns ordered steps
and never raises; `PredicateType.check` raises `AttestationError` naming the
failed step.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import jsonschema

from labkit._internal import jsonio
from labkit._internal.jsonio import JSONValue
from labkit.checks import CheckResult, Recorder, Step, StepTable
from labkit.errors import AttestationError, LabkitError
from labkit.lab import Clock, SystemClock

__all__ = ["predicate_types", "register_predicate_type", "resolve_predicate_type"]

#: Entry-point group a separate package uses to add predicate types.
ENTRY_POINT_GROUP = "labkit.predicate_types"

# URIs as cosign spells them (cosign pkg/cosign/attestation, `--type` values).
SLSA_PROVENANCE_V1_URI = "https://slsa.dev/provenance/v1"
CYCLONEDX_URI = "https://cyclonedx.org/bom"
SPDX_URI = "https://spdx.dev/Document"
VULN_URI = "https://cosign.sigstore.dev/attestation/vuln/v1"
CUSTOM_URI = "https://cosign.sigstore.dev/attestation/v1"

PolicyFn = Callable[[Any], Any]
ParseFn = Callable[[Any], Any]


class PredicateError(AttestationError):
    """A predicate does not satisfy its type; `step` and `reason` name the failed check."""

    def __init__(self, message: str, *, step: str, reason: str = "", details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.step = step
        self.reason = reason or step


#: The checks `PredicateType.check_steps` makes, in order: id -> (title, spec); ``{name}`` is the type's name,
#: ``{uri}`` its URI.
PREDICATE_STEPS: StepTable = {
    "schema": ("predicate matches the {name} schema", "predicate type {uri}"),
    "parse": ("predicate parses as {name}", "predicate type {uri}"),
    "shape": ("predicate is a JSON object", "predicate type {uri}"),
    "policy": ("{name} policy accepts the predicate", "predicate type {uri}"),
}


@dataclass
class PredicateCheck(CheckResult):
    """The ordered result of checking one predicate against its type (`subject` is the type's URI)."""

    #: The type's short name.
    name: str = ""
    #: The parsed predicate (what the type's ``parse`` returned) once every step passed.
    value: Any = None

    @property
    def predicate_type(self) -> str:
        """The predicate type URI."""
        return self.subject

    def error(self, step: Step | None) -> LabkitError:
        """`PredicateError` naming the failed step."""
        step_id, detail = (step.id, step.detail) if step is not None else (self.incomplete_reason, "no check ran")
        return PredicateError(
            f"predicate is not a valid {self.name or self.subject} ({step_id}): {detail}",
            step=step_id,
            details={"predicateType": self.subject, "step": step_id},
        )


def _schema_error_text(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"at {where}: {error.message}"


@dataclass(frozen=True)
class PredicateType:
    """A predicate type: its URI, a short name, and how to check a predicate.

    `schema` is a JSON Schema (checked with `jsonschema`); `parse` turns the
    JSON value into whatever the type's users want (and raises on bad input);
    `policy` inspects the parsed value and returns True/None to accept, or
    False / a reason string to refuse.
    """

    uri: str
    name: str
    schema: Mapping[str, Any] | None = None
    parse: ParseFn | None = None
    policy: PolicyFn | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    builtin: bool = False
    _validator: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.schema is not None:
            try:
                cls = jsonschema.validators.validator_for(self.schema)
                cls.check_schema(dict(self.schema))
            except jsonschema.SchemaError as exc:
                raise AttestationError(
                    f"the schema for predicate type {self.uri} is not a valid JSON Schema: {exc.message}"
                ) from None
            object.__setattr__(self, "_validator", cls(self.schema))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this type answers to (URI, name, aliases)."""
        return (self.uri, self.name, *self.aliases)

    def check_steps(self, predicate: JSONValue) -> PredicateCheck:
        """Check `predicate` step by step (schema, parse, policy); never raises."""
        table = {step_id: (title, spec.format(uri=self.uri)) for step_id, (title, spec) in PREDICATE_STEPS.items()}
        run = Recorder(PredicateCheck(self.uri, name=self.name), table, title_args={"name": self.name})
        result = run.result
        value: Any = predicate
        if self._validator is not None:
            errors = sorted(self._validator.iter_errors(predicate), key=lambda e: list(e.absolute_path))
            if not run.record("schema", not errors, _schema_error_text(errors[0]) if errors else ""):
                return result
        if self.parse is not None:
            try:
                value = self.parse(predicate)
            except Exception as exc:  # a researcher's parse function may raise anything
                text = exc.message if isinstance(exc, LabkitError) else f"{type(exc).__name__}: {exc}"
                run.record("parse", False, text)
                return result
            run.passed("parse")
        if self._validator is None and self.parse is None:
            ok = isinstance(predicate, dict)
            if not run.record("shape", ok, "" if ok else f"got {type(predicate).__name__}"):
                return result
        if self.policy is not None:
            try:
                verdict = self.policy(value)
            except Exception as exc:
                text = exc.message if isinstance(exc, LabkitError) else f"{type(exc).__name__}: {exc}"
                verdict = text or "policy raised"
            if verdict is None or verdict is True:
                run.passed("policy")
            else:
                run.record("policy", False, verdict if isinstance(verdict, str) else "policy returned False")
        result.value = value
        return result

    def check(self, predicate: JSONValue) -> Any:
        """Return the parsed predicate, or raise `PredicateError` (an `AttestationError`) naming the failed step."""
        result = self.check_steps(predicate)
        result.raise_for_failure()
        return result.value


# --- built-in schemas -------------------------------------------------------------------------
# Compact schemas written for labkit from the specifications; they check the fields the specs
# mark REQUIRED and the types of the common optional ones, and allow extensions.

_DIGEST_SET = {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-fA-F]+$"}}

# in-toto attestation framework, ResourceDescriptor v1: at least one of uri, digest, content.
_RESOURCE_DESCRIPTOR = {
    "type": "object",
    "properties": {
        "uri": {"type": "string"},
        "digest": _DIGEST_SET,
        "content": {"type": "string"},
        "name": {"type": "string"},
        "downloadLocation": {"type": "string"},
        "mediaType": {"type": "string"},
        "annotations": {"type": "object"},
    },
    "anyOf": [{"required": ["uri"]}, {"required": ["digest"]}, {"required": ["content"]}],
}

_TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"}

# SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance): buildDefinition.buildType,
# buildDefinition.externalParameters and runDetails.builder.id are REQUIRED.
SLSA_PROVENANCE_V1_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["buildDefinition", "runDetails"],
    "properties": {
        "buildDefinition": {
            "type": "object",
            "required": ["buildType", "externalParameters"],
            "properties": {
                "buildType": {"type": "string", "minLength": 1},
                "externalParameters": {"type": "object"},
                "internalParameters": {"type": "object"},
                "resolvedDependencies": {"type": "array", "items": _RESOURCE_DESCRIPTOR},
            },
        },
        "runDetails": {
            "type": "object",
            "required": ["builder"],
            "properties": {
                "builder": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1},
                        "version": {"type": "object", "additionalProperties": {"type": "string"}},
                        "builderDependencies": {"type": "array", "items": _RESOURCE_DESCRIPTOR},
                    },
                },
                "metadata": {
                    "type": "object",
                    "properties": {
                        "invocationId": {"type": "string"},
                        "startedOn": _TIMESTAMP,
                        "finishedOn": _TIMESTAMP,
                    },
                },
                "byproducts": {"type": "array", "items": _RESOURCE_DESCRIPTOR},
            },
        },
    },
}

# CycloneDX 1.4-1.6 JSON (https://cyclonedx.org/docs/1.6/json/): bomFormat and specVersion are required.
CYCLONEDX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["bomFormat", "specVersion"],
    "properties": {
        "bomFormat": {"const": "CycloneDX"},
        "specVersion": {"type": "string", "pattern": r"^1\.\d+$"},
        "serialNumber": {"type": "string", "pattern": r"^urn:uuid:[0-9a-fA-F-]{36}$"},
        "version": {"type": "integer", "minimum": 1},
        "metadata": {"type": "object"},
        "components": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {
                    "type": {"type": "string", "enum": [
                        "application", "framework", "library", "container", "platform",
                        "operating-system", "device", "device-driver", "firmware", "file",
                        "machine-learning-model", "data", "cryptographic-asset"]},
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                    "purl": {"type": "string"},
                    "bom-ref": {"type": "string"},
                    "hashes": {"type": "array", "items": {
                        "type": "object", "required": ["alg", "content"],
                        "properties": {"alg": {"type": "string"}, "content": {"type": "string"}}}},
                },
            },
        },
    },
}

# SPDX 2.2/2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/document-creation-information/).
SPDX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo"],
    "properties": {
        "spdxVersion": {"type": "string", "pattern": r"^SPDX-2\.\d$"},
        "dataLicense": {"const": "CC0-1.0"},
        "SPDXID": {"const": "SPDXRef-DOCUMENT"},
        "name": {"type": "string"},
        "documentNamespace": {"type": "string", "minLength": 1},
        "creationInfo": {
            "type": "object",
            "required": ["created", "creators"],
            "properties": {"created": _TIMESTAMP,
                           "creators": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
        },
        "packages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["SPDXID", "name", "downloadLocation"],
                "properties": {
                    "SPDXID": {"type": "string", "pattern": r"^SPDXRef-[A-Za-z0-9.\-]+$"},
                    "name": {"type": "string"},
                    "downloadLocation": {"type": "string"},
                    "checksums": {"type": "array", "items": {
                        "type": "object", "required": ["algorithm", "checksumValue"]}},
                },
            },
        },
        "relationships": {
            "type": "array",
            "items": {"type": "object",
                      "required": ["spdxElementId", "relationshipType", "relatedSpdxElement"]},
        },
    },
}

# cosign's vulnerability-scan predicate (cosign specs/COSIGN_VULN_ATTESTATION_SPEC.md).
VULN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["scanner", "metadata"],
    "properties": {
        "invocation": {
            "type": "object",
            "properties": {"parameters": {}, "uri": {"type": "string"},
                           "event_id": {"type": "string"}, "builder.id": {"type": "string"}},
        },
        "scanner": {
            "type": "object",
            "required": ["uri", "version", "result"],
            "properties": {
                "uri": {"type": "string"},
                "version": {"type": "string"},
                "db": {"type": "object", "properties": {"uri": {"type": "string"}, "version": {"type": "string"}}},
                "result": {},
            },
        },
        "metadata": {
            "type": "object",
            "required": ["scanStartedOn", "scanFinishedOn"],
            "properties": {"scanStartedOn": _TIMESTAMP, "scanFinishedOn": _TIMESTAMP},
        },
    },
}

# cosign's generic predicate for `--type custom`: the file's text under "Data", plus "Timestamp".
CUSTOM_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["Data", "Timestamp"],
    "properties": {"Data": {}, "Timestamp": _TIMESTAMP},
}

_BUILTINS = (
    PredicateType(SLSA_PROVENANCE_V1_URI, "slsaprovenance1", SLSA_PROVENANCE_V1_SCHEMA,
                  aliases=("slsa-provenance-v1", "provenance"),
                  description="SLSA build provenance v1", builtin=True),
    PredicateType(CYCLONEDX_URI, "cyclonedx", CYCLONEDX_SCHEMA,
                  description="CycloneDX software bill of materials", builtin=True),
    PredicateType(SPDX_URI, "spdxjson", SPDX_SCHEMA, aliases=("spdx",),
                  description="SPDX software bill of materials (JSON)", builtin=True),
    PredicateType(VULN_URI, "vuln", VULN_SCHEMA,
                  description="cosign vulnerability scan result", builtin=True),
    PredicateType(CUSTOM_URI, "custom", CUSTOM_SCHEMA,
                  description="cosign generic predicate (text under Data)", builtin=True),
)

_lock = threading.RLock()
_registry: dict[str, PredicateType] = {t.uri: t for t in _BUILTINS}
_entry_points_loaded = False

_URI_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _by_name(name: str) -> PredicateType | None:
    for t in _registry.values():
        if name in t.names:
            return t
    return None


def register_predicate_type(
    uri: str,
    *,
    name: str,
    schema: Mapping[str, Any] | None = None,
    parse: ParseFn | None = None,
    policy: PolicyFn | None = None,
    aliases: Iterable[str] = (),
    description: str = "",
    replace: bool = False,
) -> PredicateType:
    """Register a predicate type; from then on it is attested and verified like a built-in.

    `uri` is the ``predicateType`` written in statements; `name` is what
    ``--type`` accepts. Refuses (`AttestationError`) a malformed URI or name,
    a schema that is not a JSON Schema, or a name/URI already taken (unless
    `replace`; built-ins are never replaced).
    """
    if not isinstance(uri, str) or not _URI_RE.match(uri):
        raise AttestationError(f"predicate type URI {uri!r} is not an absolute URI")
    alias_list = tuple(aliases)
    for n in (name, *alias_list):
        if not isinstance(n, str) or not _NAME_RE.match(n):
            raise AttestationError(f"predicate type name {n!r} must be letters, digits, '-', '_' or '.'")
    if schema is not None and not isinstance(schema, Mapping):
        raise AttestationError("schema must be a JSON Schema object (a mapping)")
    ptype = PredicateType(uri, name, dict(schema) if schema is not None else None, parse, policy,
                          alias_list, description)
    with _lock:
        for n in ptype.names:
            taken = _by_name(n)
            if taken is None:
                continue
            if taken.builtin:
                raise AttestationError(f"{n!r} is a built-in predicate type and cannot be replaced")
            if not replace:
                raise AttestationError(
                    f"predicate type {n!r} is already registered (as {taken.uri}); pass replace=True",
                )
        if replace:
            for n in ptype.names:
                taken = _by_name(n)
                if taken is not None:
                    del _registry[taken.uri]
        _registry[uri] = ptype
    return ptype


def unregister_predicate_type(uri: str) -> None:
    """Remove a registered (non built-in) type; unknown URIs are ignored."""
    with _lock:
        t = _registry.get(uri)
        if t is not None and t.builtin:
            raise AttestationError(f"{uri} is a built-in predicate type and cannot be removed")
        _registry.pop(uri, None)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[PredicateType]:
    """Register the types advertised in entry-point `group`; returns those newly added.

    A broken plug-in raises `AttestationError` naming it rather than being skipped silently.
    """
    added: list[PredicateType] = []
    for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, PredicateType):
                obj = obj()
        except LabkitError:
            raise
        except Exception as exc:
            raise AttestationError(
                f"predicate-type plug-in {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from None
        items = [obj] if isinstance(obj, PredicateType) else list(obj) if isinstance(obj, (list, tuple)) else None
        if items is None or not all(isinstance(i, PredicateType) for i in items):
            raise AttestationError(f"predicate-type plug-in {ep.name!r} did not give PredicateType objects")
        with _lock:
            for item in items:
                existing = _registry.get(item.uri)
                if existing is not None and existing == item:
                    continue
                if existing is None and all(_by_name(n) is None for n in item.names):
                    _registry[item.uri] = item
                    added.append(item)
                else:
                    raise AttestationError(
                        f"predicate-type plug-in {ep.name!r} registers {item.uri}, which is already taken"
                    )
    return added


def _ensure_entry_points() -> None:
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
    load_entry_points()


def get_predicate_type(name_or_uri: str) -> PredicateType:
    """The registered type for a ``--type`` value or URI, or `AttestationError`.

    Entry points are loaded on first use.
    """
    with _lock:
        found = _by_name(name_or_uri)
    if found is None:
        _ensure_entry_points()
        with _lock:
            found = _by_name(name_or_uri)
    if found is None:
        known = ", ".join(sorted(t.name for t in predicate_types()))
        raise AttestationError(
            f"unknown predicate type {name_or_uri!r}",
            hint=f"Use one of: {known}, or register it with labkit.attest.register_predicate_type.",
        )
    return found


def resolve_predicate_type(name_or_uri: str) -> PredicateType:
    """Like `get_predicate_type`, but an unregistered absolute URI gives an ad-hoc type.

    cosign accepts any URI as ``--type``; the predicate must then be a JSON
    object and nothing more is checked.
    """
    try:
        return get_predicate_type(name_or_uri)
    except AttestationError:
        if _URI_RE.match(name_or_uri) and "://" in name_or_uri:
            return PredicateType(name_or_uri, name_or_uri, description="unregistered URI")
        raise


def predicate_types() -> list[PredicateType]:
    """Every registered type, built-ins first, then by name."""
    _ensure_entry_points()
    with _lock:
        return sorted(_registry.values(), key=lambda t: (not t.builtin, t.name))


def make_predicate(type_name: str, raw: bytes, *, clock: Clock | None = None) -> dict[str, Any]:
    """Turn the bytes of a ``--predicate`` file into the predicate object for `type_name`.

    As cosign does: ``custom`` wraps the file's text as ``{"Data", "Timestamp"}``;
    every other type reads the file as a JSON object. The result is checked
    against the type (`AttestationError` if it does not fit).
    """
    ptype = resolve_predicate_type(type_name)
    if ptype.uri == CUSTOM_URI:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AttestationError("a custom predicate must be UTF-8 text") from None
        now = (clock or SystemClock()).now().astimezone(_dt.timezone.utc).replace(microsecond=0)
        predicate: Any = {"Data": text, "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    else:
        predicate = jsonio.loads(raw, what=f"the {ptype.name} predicate", error=AttestationError)
        if not isinstance(predicate, dict):
            raise AttestationError(f"the {ptype.name} predicate must be a JSON object")
    ptype.check(predicate)
    return dict(predicate)
