"""Lab mode: seeded entropy, fixed clock, clear marking."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from labkit.keyfile import decrypt_private_key, encrypt_private_key
from labkit.keys import generate, lab_key_origin
from labkit.lab import (
    DEFAULT_LAB_TIME,
    DEFAULT_SEEDS,
    FixedClock,
    Lab,
    SeededEntropy,
    SystemClock,
    SystemEntropy,
    utc,
)


def test_seeded_entropy_is_reproducible() -> None:
    a, b = SeededEntropy("s"), SeededEntropy(b"s")
    assert [a.random_bytes("x", 8) for _ in range(3)] == [b.random_bytes("x", 8) for _ in range(3)]
    c = SeededEntropy("s")
    first, second = c.random_bytes("x", 8), c.random_bytes("x", 8)
    assert first != second
    assert c.derive("x", 100) == SeededEntropy("s").derive("x", 100)
    assert len(c.derive("x", 100)) == 100
    assert SeededEntropy("t").derive("x", 16) != c.derive("x", 16)
    assert "LAB" in repr(c)


def test_system_entropy_is_not_lab() -> None:
    e = SystemEntropy()
    assert not e.lab
    assert e.random_bytes("x", 16) != e.random_bytes("x", 16)


def test_fixed_clock() -> None:
    clock = FixedClock()
    assert clock.now() == DEFAULT_LAB_TIME
    assert clock.advance(30) == DEFAULT_LAB_TIME + dt.timedelta(seconds=30)
    clock.set(dt.datetime(2030, 1, 1))
    assert clock.now().tzinfo is not None
    ticking = FixedClock(tick=dt.timedelta(seconds=1))
    assert ticking.now() < ticking.now()
    assert "FixedClock(" in repr(clock)


def test_system_clock_is_utc() -> None:
    assert SystemClock().now().tzinfo is not None


def test_utc() -> None:
    naive = dt.datetime(2026, 1, 1, 12)
    assert utc(naive).tzinfo == dt.timezone.utc
    plus_one = dt.datetime(2026, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert utc(plus_one) == utc(naive)


def test_lab_session() -> None:
    lab = Lab(seed="workshop")
    assert lab.lab
    assert "LAB" in repr(lab)
    assert lab.random_bytes("n", 4) == Lab(seed="workshop").random_bytes("n", 4)
    assert lab.derive("k", 8) == Lab(seed="workshop").derive("k", 8)
    assert lab.clock.now().isoformat() == "2026-01-01T12:00:00+00:00"


def _notebook_seeds() -> set[str]:
    seeds: set[str] = set()
    for nb in sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            source = "".join(cell["source"])
            seeds |= set(re.findall(r'seed\s*=\s*"([^"]+)"', source))
    return seeds


def test_every_seed_labkit_uses_by_default_is_known() -> None:
    assert {"labkit", "demo", "workshop", "docs"} | _notebook_seeds() <= set(DEFAULT_SEEDS)


@pytest.mark.parametrize(("seed", "label", "alg"), [
    ("demo", "demo-signer", "ecdsa-p256"), ("workshop", "key", "ecdsa-p256"),
    ("notebook-04", "instance/tlog", "ecdsa-p256"), ("labkit", "tlog", "ecdsa-p256"),
    ("notebook-06", "instance/root-ca", "ecdsa-p384"), ("start-here", "key", "ed25519"),
])
def test_a_lab_key_stays_recognisable_without_its_header(seed: str, label: str, alg: str) -> None:
    key = generate(alg, lab=Lab(seed=seed), label=label)
    pem = encrypt_private_key(key, "pw", allow_lab=True)
    stripped = b"\n".join(line for line in pem.split(b"\n") if not line.startswith(b"Labkit-Lab"))
    assert stripped != pem
    back = decrypt_private_key(stripped, "pw")
    assert back.lab
    assert lab_key_origin(back.public_key()) == f"lab seed {seed!r}, label {label!r}"


def test_random_keys_are_not_lab() -> None:
    key = generate("ecdsa-p256")
    assert not key.lab and lab_key_origin(key.public_key()) is None
    assert not decrypt_private_key(encrypt_private_key(key, "pw"), "pw").lab
