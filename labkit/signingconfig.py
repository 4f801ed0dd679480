"""Sigstore signing configs (``signingconfig.v0.2``) and the rules that choose services from them.

A signing config (protobuf-specs ``sigstore_trustroot.proto``, ``message
SigningConfig``) names the services a signer uses: CAs (``caUrls``), OIDC
providers (``oidcUrls``), transparency logs (``rekorTlogUrls``) and timestamp
authorities (``tsaUrls``), each a ``Service{url, majorApiVersion, validFor,
operator}``, plus how many logs and TSAs to use (``rekorTlogConfig`` /
``tsaConfig``: ``ServiceConfiguration{selector: ALL|ANY|EXACT, count}``).

`select_services` applies the proto's selection rules, in this order, each
with its own name in the error when too few services survive it:

1. ``version``: keep the services whose ``majorApiVersion`` the client
   supports;
2. ``window``: keep those whose ``validFor`` holds the signing time (both ends
   inclusive; no end means open);
3. ``operator``: at most one per operator: its highest API version, then its
   newest ``validFor.start`` (ties keep file order); the order of the result
   is the same (highest version, newest start first);
4. ``selector``: ANY takes the first, ALL takes every one, EXACT:n takes the
   first n and needs n.

The module does no IO: `SigningConfig.from_json` reads bytes through the
strict proto3 JSON reader, `to_json` writes stable bytes.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit._internal import protojson
from labkit._internal.jsonio import JSONValue
from labkit.errors import InputError

__all__ = ["Service", "SigningConfig", "SigningConfigError", "parse_selector", "parse_service_spec", "select_services"]

SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"


class SigningConfigError(InputError):
    """A signing config does not parse, or no service in it satisfies a selection rule."""

    hint = "Check the signing config's services: API versions, validity windows, operators and the selector."

    def __init__(self, message: str, *, rule: str = "parse", hint: str | None = None,
                 details: Mapping[str, object] | None = None) -> None:
        super().__init__(message, hint=hint, details=details)
        self.rule = rule


def _error(message: str) -> SigningConfigError:
    return SigningConfigError(message)


class Selector(str, enum.Enum):
    """``ServiceSelector``: how many of the qualifying services to use."""

    ALL = "ALL"
    ANY = "ANY"
    EXACT = "EXACT"


_SELECTOR = protojson.Enum("ServiceSelector", {"SERVICE_SELECTOR_UNDEFINED": 0, "ALL": 1, "ANY": 2, "EXACT": 3})


def _utc(when: _dt.datetime) -> _dt.datetime:
    if when.tzinfo is None:
        raise SigningConfigError("signing-config times must be timezone-aware")
    return when.astimezone(_dt.timezone.utc)


def _rfc3339(when: _dt.datetime) -> str:
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str, where: str) -> _dt.datetime:
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SigningConfigError(f"{where} is not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise SigningConfigError(f"{where} has no time zone: {value!r}")
    return _utc(parsed)


@dataclass(frozen=True)
class Service:
    """One service: where it is, which API major version it speaks, when it may be used, who runs it."""

    url: str
    major_api_version: int
    start: _dt.datetime
    end: _dt.datetime | None = None
    operator: str = ""

    def valid_at(self, when: _dt.datetime) -> bool:
        """True when `when` lies in ``validFor`` (both ends inclusive)."""
        return self.start <= when and (self.end is None or when <= self.end)

    def to_dict(self) -> dict[str, Any]:
        """The service as protobuf-JSON."""
        valid: dict[str, str] = {"start": _rfc3339(self.start)}
        if self.end is not None:
            valid["end"] = _rfc3339(self.end)
        out: dict[str, Any] = {"url": self.url, "majorApiVersion": self.major_api_version, "validFor": valid}
        if self.operator:
            out["operator"] = self.operator
        return out

    @classmethod
    def from_message(cls, m: protojson.Message) -> Service:
        """Parse a protobuf-JSON service."""
        url = m.string("url", required=True)
        version = m.int64("majorApiVersion", required=True, minimum=1)
        valid = m.message("validFor")
        start = _parse_time(valid.string("start", required=True), f"{valid.where}.start")
        end_text = valid.string("end")
        end = _parse_time(end_text, f"{valid.where}.end") if end_text else None
        if end is not None and end < start:
            raise SigningConfigError(f"{valid.where} ends before it starts")
        return cls(url, version, start, end, m.string("operator"))


@dataclass(frozen=True)
class ServiceConfiguration:
    """``ServiceConfiguration``: the selector and, for EXACT, the count."""

    selector: Selector = Selector.ANY
    count: int = 0

    def __post_init__(self) -> None:
        if self.selector is Selector.EXACT and self.count < 1:
            raise SigningConfigError("EXACT needs a count of at least 1 (EXACT:n)")

    def to_dict(self) -> dict[str, Any]:
        """The selector as protobuf-JSON."""
        out: dict[str, Any] = {"selector": self.selector.value}
        if self.selector is Selector.EXACT:
            out["count"] = self.count
        return out

    def __str__(self) -> str:
        return f"EXACT:{self.count}" if self.selector is Selector.EXACT else self.selector.value

    @classmethod
    def from_message(cls, m: protojson.Message | None) -> ServiceConfiguration:
        """Parse a protobuf-JSON service configuration (default when absent)."""
        if m is None:
            return cls()
        name = m.enum("selector", _SELECTOR)
        if name in ("", "SERVICE_SELECTOR_UNDEFINED"):
            raise SigningConfigError(f"{m.where}.selector must be ALL, ANY or EXACT")
        count = m.int64("count", minimum=0)
        if count > 2**32 - 1:
            raise SigningConfigError(f"{m.where}.count is out of range: {count}")
        return cls(Selector(name), count)


def parse_selector(text: str) -> ServiceConfiguration:
    """cosign's ``--rekor-config`` / ``--tsa-config`` value: ``ANY``, ``ALL`` or ``EXACT:n``."""
    value = text.strip().upper()
    if value in ("ANY", "ALL"):
        return ServiceConfiguration(Selector(value))
    if value.startswith("EXACT:") and value[6:].isdigit() and value[6:].isascii():
        return ServiceConfiguration(Selector.EXACT, int(value[6:]))
    raise SigningConfigError(f"not a service selector: {text!r} (use ANY, ALL or EXACT:n)")


_SPEC_KEYS = ("url", "api-version", "start-time", "end-time", "operator")


def parse_service_spec(text: str) -> Service:
    """cosign's ``--fulcio/--rekor/--tsa/--oidc-provider`` value.

    The form is ``url=…,api-version=…,start-time=…[,end-time=…][,operator=…]``.
    """
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _SPEC_KEYS:
            raise SigningConfigError(f"bad service spec part {part!r}: use keys {', '.join(_SPEC_KEYS)}")
        if key in fields:
            raise SigningConfigError(f"service spec gives {key} twice")
        fields[key] = value.strip()
    for required in ("url", "api-version", "start-time"):
        if not fields.get(required):
            raise SigningConfigError(f"service spec {text!r} lacks {required}=")
    version = fields["api-version"]
    if not version.isascii() or not version.isdigit() or not 1 <= int(version) <= 2**32 - 1:
        raise SigningConfigError(f"api-version must be a positive integer, not {version!r}")
    end = _parse_time(fields["end-time"], "end-time") if fields.get("end-time") else None
    start = _parse_time(fields["start-time"], "start-time")
    if end is not None and end < start:
        raise SigningConfigError(f"service {fields['url']}: end-time is before start-time")
    return Service(fields["url"], int(version), start, end, fields.get("operator", ""))


def select_services(
    services: Sequence[Service],
    config: ServiceConfiguration,
    *,
    now: _dt.datetime,
    supported: Sequence[int] = (1,),
    kind: str = "service",
) -> list[Service]:
    """The services to use at `now`, by the rules of the module docstring; `SigningConfigError` naming the rule."""
    when = _utc(now)

    def need(found: Sequence[Service], rule: str, why: str, *, final: bool = False) -> None:
        wanted = config.count if final and config.selector is Selector.EXACT else 1
        if len(found) < wanted:
            raise SigningConfigError(
                f"signing config: {len(found)} {kind} URL(s) {why}; {config} needs {max(wanted, config.count)}"
                f" (rule: {rule})",
                rule=rule, details={"services": [s.url for s in services], "at": _rfc3339(when)},
            )

    usable = [s for s in services if s.major_api_version in supported]
    need(usable, "version", f"speak an API version this client supports ({', '.join(map(str, supported))})")
    current = [s for s in usable if s.valid_at(when)]
    need(current, "window", f"are valid at {_rfc3339(when)}")
    chosen: dict[str, Service] = {}
    ranked = sorted(enumerate(current), key=lambda p: (-p[1].major_api_version, -p[1].start.timestamp(), p[0]))
    for _, service in ranked:
        # A service without an operator counts as its own operator (its URL).
        chosen.setdefault(service.operator or f"url:{service.url}", service)
    distinct = list(chosen.values())
    need(distinct, "operator" if len(distinct) < len(current) else "selector",
         f"remain ({len(current)} valid, at most one per operator)", final=True)
    if config.selector is Selector.ANY:
        return distinct[:1]
    if config.selector is Selector.EXACT:
        return distinct[: config.count]
    return distinct


def _services(m: protojson.Message, name: str) -> tuple[Service, ...]:
    return tuple(Service.from_message(x) for x in m.messages(name))


@dataclass(frozen=True)
class SigningConfig:
    """A ``SigningConfig`` v0.2: services by kind and the log and TSA selectors."""

    ca_urls: tuple[Service, ...] = ()
    oidc_urls: tuple[Service, ...] = ()
    rekor_tlog_urls: tuple[Service, ...] = ()
    tsa_urls: tuple[Service, ...] = ()
    rekor_tlog_config: ServiceConfiguration = field(default_factory=ServiceConfiguration)
    tsa_config: ServiceConfiguration = field(default_factory=ServiceConfiguration)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, in the public-good file's key order."""
        return {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [s.to_dict() for s in self.ca_urls],
            "oidcUrls": [s.to_dict() for s in self.oidc_urls],
            "rekorTlogUrls": [s.to_dict() for s in self.rekor_tlog_urls],
            "rekorTlogConfig": self.rekor_tlog_config.to_dict(),
            "tsaUrls": [s.to_dict() for s in self.tsa_urls],
            "tsaConfig": self.tsa_config.to_dict(),
        }

    def to_json(self) -> bytes:
        """Stable bytes: two-space indent, final newline."""
        return (json.dumps(self.to_dict(), indent=2) + "\n").encode()

    @classmethod
    def from_dict(cls, doc: JSONValue, where: str = "signingConfig") -> SigningConfig:
        """Read a parsed JSON object; `SigningConfigError` names the field that is wrong."""
        m = protojson.Message(doc, where, _error)
        media = m.string("mediaType", required=True)
        if media != SIGNING_CONFIG_MEDIA_TYPE:
            raise SigningConfigError(f"{where}.mediaType is {media!r}; labkit reads {SIGNING_CONFIG_MEDIA_TYPE}")
        return cls(
            ca_urls=_services(m, "caUrls"),
            oidc_urls=_services(m, "oidcUrls"),
            rekor_tlog_urls=_services(m, "rekorTlogUrls"),
            tsa_urls=_services(m, "tsaUrls"),
            rekor_tlog_config=ServiceConfiguration.from_message(m.optional_message("rekorTlogConfig")),
            tsa_config=ServiceConfiguration.from_message(m.optional_message("tsaConfig")),
        )

    @classmethod
    def from_json(cls, data: bytes | str, what: str = "signing config") -> SigningConfig:
        """Parse signing-config JSON, or a ClientTrustConfig's ``signingConfig``."""
        doc = protojson.loads(data, what=what, error=_error)
        if isinstance(doc, dict) and "signingConfig" in doc:
            return cls.from_dict(doc["signingConfig"], "clientTrustConfig.signingConfig")
        return cls.from_dict(doc)

    # -- selection ----------------------------------------------------------------------------

    def _one(self, services: Sequence[Service], kind: str, now: _dt.datetime, supported: Sequence[int]) -> Service:
        return select_services(services, ServiceConfiguration(), now=now, supported=supported, kind=kind)[0]

    def ca(self, now: _dt.datetime, supported: Sequence[int] = (1,)) -> Service:
        """The CA to ask for a certificate (labkit speaks Fulcio's v2 API as major version 1, as cosign writes)."""
        return self._one(self.ca_urls, "CA", now, supported)

    def oidc(self, now: _dt.datetime, supported: Sequence[int] = (1,)) -> Service:
        """The OIDC provider."""
        return self._one(self.oidc_urls, "OIDC", now, supported)

    def tlogs(self, now: _dt.datetime, supported: Sequence[int] = (1,)) -> list[Service]:
        """The logs to upload to (none when the config lists none)."""
        if not self.rekor_tlog_urls:
            return []
        return select_services(self.rekor_tlog_urls, self.rekor_tlog_config, now=now, supported=supported,
                               kind="transparency log")

    def tsas(self, now: _dt.datetime, supported: Sequence[int] = (1,)) -> list[Service]:
        """The TSAs to ask for timestamps (none when the config lists none)."""
        if not self.tsa_urls:
            return []
        return select_services(self.tsa_urls, self.tsa_config, now=now, supported=supported, kind="TSA")

