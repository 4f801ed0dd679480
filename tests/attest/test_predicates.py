"""Predicate types: built-in schemas, the registry, and a plug-in registered through an entry point."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.attest import predicates as P
from labkit.errors import AttestationError
from labkit.lab import Lab

PLUGIN_DIR = Path(__file__).parent / "plugin_pkg"

GOOD: dict[str, dict[str, Any]] = {
    "slsaprovenance1": {
        "buildDefinition": {"buildType": "https://example/b/v1", "externalParameters": {},
                            "resolvedDependencies": [{"uri": "git+https://x", "digest": {"sha1": "ab"}}]},
        "runDetails": {"builder": {"id": "https://example/builder"},
                       "metadata": {"startedOn": "2026-01-01T12:00:00Z"}},
    },
    "cyclonedx": {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                  "components": [{"type": "library", "name": "x", "version": "1"}]},
    "spdxjson": {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
                 "name": "x", "documentNamespace": "https://example/x",
                 "creationInfo": {"created": "2026-01-01T12:00:00Z", "creators": ["Tool: x"]}},
    "vuln": {"scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.50", "result": {}},
             "metadata": {"scanStartedOn": "2026-01-01T12:00:00Z", "scanFinishedOn": "2026-01-01T12:01:00Z"}},
    "custom": {"Data": "anything", "Timestamp": "2026-01-01T12:00:00Z"},
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "slsaprovenance1": ({"buildDefinition": {"buildType": "x"}, "runDetails": {"builder": {"id": "y"}}},
                        "externalParameters"),
    "cyclonedx": ({"bomFormat": "SPDX", "specVersion": "1.5"}, "bomFormat"),
    "spdxjson": ({"spdxVersion": "SPDX-2.3"}, "dataLicense"),
    "vuln": ({"scanner": {"uri": "x", "version": "1", "result": {}},
              "metadata": {"scanStartedOn": "yesterday", "scanFinishedOn": "2026-01-01T12:00:00Z"}}, "scanStartedOn"),
    "custom": ({"Data": "x"}, "Timestamp"),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_builtin_accepts_valid(name: str) -> None:
    t = P.get_predicate_type(name)
    assert t.builtin
    assert t.check(GOOD[name]) == GOOD[name]
    assert P.get_predicate_type(t.uri) is t


@pytest.mark.parametrize("name", sorted(BAD))
def test_builtin_refuses_invalid(name: str) -> None:
    predicate, where = BAD[name]
    t = P.get_predicate_type(name)
    result = t.check_steps(predicate)
    assert not result.verified and result.failed_step is not None and result.failed_step.id == "schema"
    with pytest.raises(AttestationError) as err:
        t.check(predicate)
    assert where in err.value.message
    assert isinstance(err.value, P.PredicateError) and err.value.step == err.value.reason == "schema"


def test_cosign_names() -> None:
    assert P.get_predicate_type("spdx").uri == P.get_predicate_type("spdxjson").uri == "https://spdx.dev/Document"
    assert P.get_predicate_type("vuln").uri == "https://cosign.sigstore.dev/attestation/vuln/v1"
    assert P.get_predicate_type("custom").uri == "https://cosign.sigstore.dev/attestation/v1"
    with pytest.raises(AttestationError, match="unknown predicate type"):
        P.get_predicate_type("nope")


def test_make_predicate_custom_wraps_text() -> None:
    lab = Lab(seed="p")
    p = P.make_predicate("custom", b"free text\n", clock=lab.clock)
    assert p == {"Data": "free text\n", "Timestamp": "2026-01-01T12:00:00Z"}


def test_make_predicate_refuses_non_json() -> None:
    with pytest.raises(AttestationError, match="not valid JSON"):
        P.make_predicate("cyclonedx", b"{not json")
    with pytest.raises(AttestationError, match="JSON object"):
        P.make_predicate("cyclonedx", b"[1, 2]")


def test_unregistered_uri_is_ad_hoc() -> None:
    t = P.resolve_predicate_type("https://example.org/anything/v1")
    assert t.check({"a": 1}) == {"a": 1}
    with pytest.raises(AttestationError):
        t.check([1])


def test_register_schema_parse_policy() -> None:
    uri = "https://example.org/score/v1"
    try:
        t = P.register_predicate_type(
            uri, name="score",
            schema={"type": "object", "required": ["score"], "properties": {"score": {"type": "integer"}}},
            parse=lambda p: p["score"],
            policy=lambda s: s >= 5 or f"score {s} below 5",
        )
        assert P.get_predicate_type("score") is t
        assert t.check({"score": 7}) == 7
        r = t.check_steps({"score": 2})
        assert (
            not r.verified
            and r.failed_step is not None
            and r.failed_step.id == "policy"
            and "below 5" in r.failed_step.detail
        )
        assert t.check_steps({"score": "x"}).failed_step.id == "schema"  # type: ignore[union-attr]
        with pytest.raises(AttestationError, match="already registered"):
            P.register_predicate_type(uri, name="score")
        P.register_predicate_type(uri, name="score", replace=True)
    finally:
        P.unregister_predicate_type(uri)
    with pytest.raises(AttestationError):
        P.get_predicate_type("score")


def test_register_parse_function_errors_are_steps() -> None:
    uri = "https://example.org/parse-only/v1"

    def parse(p: Any) -> Any:
        if "x" not in p:
            raise ValueError("needs x")
        return p

    try:
        t = P.register_predicate_type(uri, name="parse-only", parse=parse)
        r = t.check_steps({})
        assert r.failed_step is not None and r.failed_step.id == "parse" and "needs x" in r.failed_step.detail
    finally:
        P.unregister_predicate_type(uri)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"uri": "not a uri", "name": "x"}, "not an absolute URI"),
        ({"uri": "https://e/x", "name": "bad name"}, "must be letters"),
        ({"uri": "https://e/x", "name": "x", "schema": {"type": 12}}, "not a valid JSON Schema"),
        ({"uri": "https://e/x", "name": "cyclonedx"}, "built-in"),
        ({"uri": P.CYCLONEDX_URI, "name": "mine", "replace": True}, "built-in"),
    ],
)
def test_register_refusals(kwargs: dict[str, Any], message: str) -> None:
    uri = kwargs.pop("uri")
    with pytest.raises(AttestationError, match=message):
        P.register_predicate_type(uri, **kwargs)


@pytest.fixture
def plugin_on_path(tmp_path: Path) -> Iterator[Path]:
    """Make the test package importable and visible to importlib.metadata, without pip."""
    dist = tmp_path / "labkit_review_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: labkit-review-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[labkit.predicate_types]\ncode-review = labkit_review_plugin:predicate_type\n"
    )
    sys.path[:0] = [str(tmp_path), str(PLUGIN_DIR)]
    importlib.invalidate_caches()
    try:
        yield tmp_path
    finally:
        for p in (str(tmp_path), str(PLUGIN_DIR)):
            sys.path.remove(p)
        sys.modules.pop("labkit_review_plugin", None)
        P.unregister_predicate_type("https://plugin.example/code-review/v1")
        importlib.invalidate_caches()


def test_entry_point_plugin(plugin_on_path: Path) -> None:
    added = P.load_entry_points()
    assert [t.name for t in added] == ["code-review"]
    t = P.get_predicate_type("code-review")
    assert t.uri == "https://plugin.example/code-review/v1"
    assert t.check({"reviewers": ["a", "b"], "approved": True})
    r = t.check_steps({"reviewers": ["a"], "approved": True})
    assert r.failed_step is not None and r.failed_step.detail == "fewer than two reviewers"
    assert "code-review" in [x.name for x in P.predicate_types()]
    assert P.load_entry_points() == []  # idempotent


def test_broken_plugin_is_an_error(plugin_on_path: Path) -> None:
    (plugin_on_path / "labkit_review_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[labkit.predicate_types]\nbroken = labkit_review_plugin:does_not_exist\n"
    )
    with pytest.raises(AttestationError, match="failed to load"):
        P.load_entry_points()
