"""protobuf-specs service selection, one table per rule (labkit.signingconfig.select_services)."""

from __future__ import annotations

import datetime as dt

import pytest

from labkit.signingconfig import (
    Selector,
    Service,
    ServiceConfiguration,
    SigningConfigError,
    parse_selector,
    parse_service_spec,
    select_services,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
NOW = T0 + dt.timedelta(days=10)
ANY, ALL = ServiceConfiguration(Selector.ANY), ServiceConfiguration(Selector.ALL)


def svc(name: str, version: int = 1, start: int = 0, end: int | None = None, operator: str = "") -> Service:
    """A service named `name`, valid from T0+start days to T0+end days."""
    return Service(f"https://{name}", version, T0 + dt.timedelta(days=start),
                   None if end is None else T0 + dt.timedelta(days=end), operator)


def urls(found: list[Service]) -> list[str]:
    return [s.url.removeprefix("https://") for s in found]


# Rule 1: the highest API version the client supports (per operator, highest first).
@pytest.mark.parametrize(("services", "supported", "want"), [
    ([svc("a", 1, operator="x"), svc("b", 2, operator="x")], (1, 2), ["b"]),
    ([svc("a", 1, operator="x"), svc("b", 2, operator="x")], (1,), ["a"]),
    ([svc("a", 2, operator="x"), svc("b", 3, operator="x")], (1, 2), ["a"]),
    ([svc("a", 1, operator="x"), svc("b", 2, operator="x"), svc("c", 1, operator="y")], (1, 2), ["b", "c"]),
    ([svc("a", 1, operator="x"), svc("b", 2, operator="y")], (1, 2), ["b", "a"]),
])
def test_rule_version(services: list[Service], supported: tuple[int, ...], want: list[str]) -> None:
    assert urls(select_services(services, ALL, now=NOW, supported=supported)) == want


# Rule 2: validity windows, both ends inclusive.
@pytest.mark.parametrize(("services", "want"), [
    ([svc("a", start=10)], ["a"]),                       # starts exactly now
    ([svc("a", end=10)], ["a"]),                         # ends exactly now
    ([svc("a", end=9), svc("b", start=0)], ["b"]),       # expired one dropped
    ([svc("a", start=11), svc("b")], ["b"]),             # future one dropped
    ([svc("a", 2, end=1), svc("b", 1)], ["b"]),          # a higher version out of its window does not count
])
def test_rule_window(services: list[Service], want: list[str]) -> None:
    assert urls(select_services(services, ANY, now=NOW)) == want


# Rule 3: newest start first, at most one per operator.
@pytest.mark.parametrize(("services", "want"), [
    ([svc("old", start=0, operator="x"), svc("new", start=5, operator="x")], ["new"]),
    ([svc("a", start=1, operator="x"), svc("b", start=2, operator="y")], ["b", "a"]),
    ([svc("a", operator="x"), svc("b", operator="x"), svc("c", operator="y")], ["a", "c"]),  # ties keep file order
    ([svc("a"), svc("b")], ["a", "b"]),                   # no operator: each is its own
])
def test_rule_operator(services: list[Service], want: list[str]) -> None:
    assert urls(select_services(services, ALL, now=NOW)) == want


# Rule 4: ANY, ALL, EXACT:n.
THREE = [svc("a", operator="x"), svc("b", operator="y"), svc("c", operator="z")]


@pytest.mark.parametrize(("config", "want"), [
    ("ANY", ["a"]),
    ("ALL", ["a", "b", "c"]),
    ("EXACT:2", ["a", "b"]),
    ("EXACT:3", ["a", "b", "c"]),
])
def test_rule_selector(config: str, want: list[str]) -> None:
    assert urls(select_services(THREE, parse_selector(config), now=NOW)) == want


# Too few services: the error names the rule that left too few.
@pytest.mark.parametrize(("services", "config", "supported", "rule"), [
    ([svc("a", 3)], "ANY", (1, 2), "version"),
    ([], "ALL", (1,), "version"),
    ([svc("a", end=1)], "ANY", (1,), "window"),
    ([svc("a", 2, end=1), svc("b", 1, start=11)], "ANY", (1, 2), "window"),
    ([svc("a", operator="x"), svc("b", operator="x")], "EXACT:2", (1,), "operator"),
    (THREE, "EXACT:4", (1,), "selector"),
])
def test_too_few_names_the_rule(services: list[Service], config: str, supported: tuple[int, ...], rule: str) -> None:
    with pytest.raises(SigningConfigError) as info:
        select_services(services, parse_selector(config), now=NOW, supported=supported)
    assert info.value.rule == rule and f"rule: {rule}" in info.value.message


@pytest.mark.parametrize("text", ["SOME", "EXACT:", "EXACT:0", "EXACT:-1", "EXACT:٣"])
def test_bad_selectors(text: str) -> None:
    with pytest.raises(SigningConfigError):
        parse_selector(text)


def test_service_spec() -> None:
    s = parse_service_spec("url=https://tsa.example/api/v1/timestamp,api-version=1,start-time=2026-01-01T00:00:00Z,"
                           "end-time=2027-01-01T00:00:00Z,operator=example.com")
    assert s.url == "https://tsa.example/api/v1/timestamp" and s.major_api_version == 1
    assert s.start == T0 and s.end is not None and s.end.year == 2027 and s.operator == "example.com"


@pytest.mark.parametrize("text", [
    "url=https://x,api-version=1",                                   # no start-time
    "url=https://x,api-version=one,start-time=2026-01-01T00:00:00Z",
    "url=https://x,api-version=1,start-time=yesterday",
    "url=https://x,api-version=1,start-time=2026-01-01T00:00:00",    # no zone
    "url=https://x,api-version=1,start-time=2026-01-01T00:00:00Z,end-time=2025-01-01T00:00:00Z",
    "url=https://x,api-version=1,start-time=2026-01-01T00:00:00Z,colour=blue",
    "url=https://x,url=https://y,api-version=1,start-time=2026-01-01T00:00:00Z",
])
def test_bad_service_specs(text: str) -> None:
    with pytest.raises(SigningConfigError):
        parse_service_spec(text)
