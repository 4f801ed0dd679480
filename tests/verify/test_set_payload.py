"""The SET payload written directly is `set_payload`'s RFC 8785 bytes (ADR 0006, differential gate)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labkit.bundle import Bundle
from labkit.errors import LabkitError
from labkit.tlog.entries import set_payload
from labkit.verify import tlog

CASES = Path(__file__).resolve().parent.parent / "vendor" / "conformance" / "bundle-verify"


def _both(body: bytes, t: int, log_id_hex: str, index: int) -> tuple[bytes | str, bytes | str]:
    def general() -> bytes | str:
        try:
            return set_payload(body, t, log_id_hex, index)
        except LabkitError as exc:
            return f"error: {exc.message}"

    try:
        fast: bytes | str = tlog._set_payload(body, t, log_id_hex, index)
    except LabkitError as exc:
        fast = f"error: {exc.message}"
    return fast, general()


def test_conformance_entries() -> None:
    seen = 0
    for path in sorted(CASES.glob("*/bundle.sigstore.json")):
        try:
            bundle = Bundle.from_json(path.read_bytes())
        except LabkitError:
            continue
        for e in bundle.verification_material.tlog_entries:
            fast, general = _both(e.canonicalized_body, e.integrated_time or 0, e.log_id.hex(), e.log_index)
            assert fast == general, path.parent.name
            seen += 1
    assert seen > 50


@pytest.mark.parametrize("t", [0, 1, 1_700_000_000, 2**53 - 1, 2**53, 2**63 - 1, -1, -(2**53) + 1, -(2**53)])
@pytest.mark.parametrize("log_id_hex", ["", "00ff", "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d",
                                        "C0D2", "é1", "\"", "0g"])
def test_edges(t: int, log_id_hex: str) -> None:
    for body in (b"", b"\x00", os.urandom(1), os.urandom(2), os.urandom(3), os.urandom(4100), b'{"a":"/\\"}'):
        fast, general = _both(body, t, log_id_hex, t)
        assert fast == general
        fast, general = _both(body, 5, log_id_hex, t)
        assert fast == general


def test_shortcut_off_is_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlog, "SET_FASTPATH", False)
    assert tlog._set_payload(b"x", 1, "ab", 2) == set_payload(b"x", 1, "ab", 2)
