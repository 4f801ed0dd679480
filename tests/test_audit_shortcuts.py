"""ADR 0008: the per-bundle shortcuts of the audit round give the answers of the readings they replace.

Each test runs the shortcut and the general reading it stands for over the same inputs (good and bad) and
asserts the same value, or the same exception type and message.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from labkit._internal import jsonio
from labkit.checks import CheckResult, Step, StepStatus
from labkit.tlog import checkpoint, merkle

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
