"""ADR 0008: the per-bundle shortcuts of the audit round give the answers of the readings they replace.

Each test runs the shortcut and the general reading it stands for over the same inputs (good and bad) and
asserts the same value, or the same exception type and message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from labkit._internal import fsutil, jsonio
from labkit.audit import AnyOf
from labkit.bundle import Bundle
from labkit.checks import CheckResult, Step, StepStatus
from labkit.errors import InputError, LabkitError
from labkit.tlog import checkpoint, merkle
from labkit.verify import TrustedRoot
from labkit.verify._certs import build_chain, verify_scts
from labkit.verify.policy import AnyIdentity, Identity, github_rules
from labkit.verify.verifier import explain_bundle

VENDOR = Path(__file__).resolve().parent / "vendor" / "conformance"

_DOCUMENTS = [
    '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "b": 1}}',
    "[NaN]",
    "-Infinity",
    '\ufeff{"a": 1}',
    '{"a": 1',
    "[" * 200 + "]" * 200,
    '"\\ud800"',
    '{"k": 1e400, "n": -0, "s": "\\u00e9"}',
    "",
    "  [1, 2]  x",
]


def _outcome(call: Callable[[], object]) -> tuple[str, str]:
    try:
        return "value", repr(call())
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("text", _DOCUMENTS)
@pytest.mark.parametrize("duplicates", [False, True])
def test_prebuilt_decoder_is_json_loads(text: str, duplicates: bool) -> None:
    """`jsonio._decode` (a decoder built once) answers as ``json.loads`` with the same hooks."""
    hook = jsonio._pairs_without_duplicates if duplicates else None
    general = _outcome(lambda: json.loads(text, parse_constant=jsonio._no_constant, object_pairs_hook=hook))
    assert _outcome(lambda: jsonio._decode(text, duplicates)) == general
    # and twice in a row: the decoder keeps nothing from one document to the next
    assert _outcome(lambda: jsonio._decode(text, duplicates)) == general


@pytest.mark.parametrize("text", ["a", "origin - 1", "a\tb", "x\x00", "\x1f", "\x7f\x80", "é\u2028", ""])
def test_control_and_space_searches_are_the_loops(text: str) -> None:
    assert checkpoint._has_control(text) == any(ord(c) < 0x20 for c in text)
    assert checkpoint._has_space(text) == any(c.isspace() for c in text)


def test_space_search_is_isspace_for_every_code_point() -> None:
    """``\\s`` of a str pattern and `str.isspace` agree on every code point (both are Py_UNICODE_ISSPACE)."""
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        assert checkpoint._has_space(c) == c.isspace(), hex(cp)
        assert checkpoint._has_control(c) == (cp < 0x20), hex(cp)


@pytest.mark.parametrize("bad", [b"\x00" * 31, b"\x00" * 33, bytearray(32), "x" * 32, None])
def test_proof_hash_check_still_names_the_hash(bad: object) -> None:
    """A proof hash that is not 32 bytes (or a bytearray, judged by the general check) gets the same answer."""
    leaf = merkle.leaf_hash(b"x")
    proof = [merkle.leaf_hash(b"y"), bad]
    try:
        merkle._check_hash(bad, "proof hash 1")  # type: ignore[arg-type]
        expected: tuple[str, str] = ("ok", "")
    except merkle.ProofError as exc:
        expected = ("error", str(exc))
    try:
        merkle.root_from_inclusion_proof(0, 4, leaf, proof)  # type: ignore[list-item]
        got: tuple[str, str] = ("ok", "")
    except merkle.ProofError as exc:
        got = ("error", str(exc))
    assert got == expected


def _steps(*statuses: StepStatus | str) -> list[Step]:
    return [Step(f"s{n}", "t", status=s) for n, s in enumerate(statuses)]  # type: ignore[arg-type]


@pytest.mark.parametrize("statuses", [
    (), (StepStatus.PASSED,), (StepStatus.PASSED, StepStatus.FAILED), (StepStatus.SKIPPED,) * 3,
    (StepStatus.PASSED, "failed"),  # a hand-built step with the plain string: not `failed` (identity), as before
])
def test_verified_is_the_step_walk(statuses: tuple[StepStatus | str, ...]) -> None:
    for complete in (True, False):
        result = CheckResult("x", _steps(*statuses), complete)
        assert result.verified == (complete and bool(result.steps) and not any(s.failed for s in result.steps))


def _leaves() -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in sorted(VENDOR.glob("bundle-verify/*/bundle.sigstore.json")):
        try:
            der = Bundle.from_json(path.read_bytes()).verification_material.leaf_certificate
            if der:
                out.append(x509.load_der_x509_certificate(der))
        except (LabkitError, ValueError):
            continue
    return out


_RULE_SETS = [
    (Identity(identity="a@example.com", issuer="https://issuer.example"),),
    (Identity(identity_regexp=".*", issuer_regexp=".*"), Identity(identity="x", issuer="y")),
    (Identity(identity="x", issuer_regexp=".*"), Identity(identity_regexp=".*", issuer_regexp="https://.*")),
    (Identity(identity_regexp=".*", issuer_regexp=".*",
              extensions=github_rules(owner="sigstore-conformance", workflow_trigger="push")),
     Identity(identity_regexp="https://.*", issuer_regexp=".*", extensions=github_rules(repo="a/b"))),
]


@pytest.mark.parametrize("rules", _RULE_SETS)
def test_any_of_reads_the_identity_once_with_the_same_verdict(rules: tuple[Identity, ...]) -> None:
    """`AnyOf.check` (identity read once for all rules) is the loop over each rule's own `check`."""
    policy = AnyOf(rules)
    for leaf in _leaves():
        first = None
        for rule in rules:
            out = rule.check(leaf)
            if out.ok:
                break
            first = first or out
        expected = out if out.ok else first
        assert policy.check(leaf) == expected


@pytest.mark.parametrize("rules", _RULE_SETS)
def test_identity_description_is_written_once_the_same(rules: tuple[Identity, ...]) -> None:
    for rule in rules:
        assert rule.describe() == rule._describe()
        assert dataclasses.replace(rule).describe() == rule._describe()
        assert rule == dataclasses.replace(rule) and "_description" not in repr(rule)


def test_trust_root_step_is_the_same_on_every_bundle_and_a_bad_root_still_fails() -> None:
    """The ``trust_root.parse`` detail is written once per root; a root whose chain fails is refused every time."""
    case = VENDOR / "bundle-verify" / "happy-path-v0.3"
    bundle, artifact = (case / "bundle.sigstore.json").read_bytes(), (case.parent / "a.txt").read_bytes()
    root_json = (VENDOR / "trust-roots" / "production_trusted_root.json").read_bytes()
    root = TrustedRoot.from_json(root_json)
    fresh = explain_bundle(bundle, artifact, TrustedRoot.from_json(root_json), AnyIdentity()).steps[0]
    assert fresh.passed
    for _ in range(3):
        assert explain_bundle(bundle, artifact, root, AnyIdentity()).steps[0] == fresh
    bad = TrustedRoot.from_json(root_json)
    ca = bad.certificate_authorities[0]
    broken = dataclasses.replace(ca, chain_der=(ca.chain_der[-1], ca.chain_der[-1] + b"x"))
    bad = dataclasses.replace(bad, certificate_authorities=(broken, *bad.certificate_authorities[1:]))
    outcomes = [explain_bundle(bundle, artifact, bad, AnyIdentity()).steps[0] for _ in range(3)]
    assert outcomes[0].failed and outcomes[0].reason in ("trust_root.chain", "trust_root.invalid")
    assert outcomes == [outcomes[0]] * 3 and bad.derived.trust_detail is None


def _read_buffered(path: Path, what: str) -> tuple[str, bytes | str]:
    """The previous reading: a buffered ``open`` and ``read()``, with `read_bytes`'s messages."""
    try:
        with open(path, "rb") as fh:
            return "bytes", fh.read()
    except FileNotFoundError:
        return "error", f"{what} not found: {path}"
    except IsADirectoryError:
        return "error", f"{what} is a directory, not a file: {path}"
    except OSError as exc:
        return "error", f"cannot read {what} {path}: {exc.strerror}"


def test_unbuffered_whole_file_read_is_the_buffered_one(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "small").write_bytes(b"abc")
    (tmp_path / "large").write_bytes(bytes(range(256)) * 40_000)
    (tmp_path / "dir").mkdir()
    for name in ("empty", "small", "large", "dir", "missing"):
        path = tmp_path / name
        try:
            got: tuple[str, bytes | str] = ("bytes", fsutil.read_bytes(path, "artifact"))
        except InputError as exc:
            got = ("error", exc.message)
        assert got == _read_buffered(path, "artifact"), name


def test_sct_issuer_key_hash_lookup_gives_the_same_answer() -> None:
    """The stored issuer key hash is used for the root's own CA certificate, an equal copy of it, or computed anew."""
    case = VENDOR / "bundle-verify" / "happy-path-v0.3"
    bundle = Bundle.from_json((case / "bundle.sigstore.json").read_bytes())
    leaf = x509.load_der_x509_certificate(bundle.verification_material.certificate or b"")
    root_json = (VENDOR / "trust-roots" / "production_trusted_root.json").read_bytes()
    when = dt.datetime.fromtimestamp(bundle.verification_material.tlog_entries[0].integrated_time or 0, dt.timezone.utc)
    first = TrustedRoot.from_json(root_json)
    issuer = build_chain(leaf, first, when).chain[1]
    copy = x509.load_der_x509_certificate(issuer.public_bytes(Encoding.DER))
    answers = {verify_scts(leaf, i, r) for r in (first, TrustedRoot.from_json(root_json)) for i in (issuer, copy, issuer)}
    assert len(answers) == 1 and next(iter(answers)).startswith("SCT from ")
    with pytest.raises(LabkitError) as other:
        verify_scts(leaf, leaf, first)  # not a CA certificate of the root: hashed anew, and the SCT fails
    assert other.value.reason == "certificate.sct"  # type: ignore[attr-defined]
