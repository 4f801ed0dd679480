"""Lab mode: a seed, a clock and deterministic randomness.

Real use draws keys and nonces from the operating system and reads the
system clock. Lab mode derives every secret from a public seed and reads an
injected clock, so that a notebook produces the same bytes on every run.

The two are never mixed silently: everything derived from a `Lab` carries
`lab=True`, shows ``LAB`` in its repr, and labkit refuses to write lab keys
where a real key is expected unless told to (`LabModeError`).

    >>> lab = Lab(seed="workshop")
    >>> lab.clock.now().isoformat()
    '2026-01-01T12:00:00+00:00'
    >>> lab.random_bytes("nonce", 4) == Lab(seed="workshop").random_bytes("nonce", 4)
    True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "DEFAULT_LAB_TIME", "DEFAULT_SEEDS", "Clock", "Entropy", "FixedClock", "Lab", "SystemClock", "SystemEntropy", "utc",
]

#: The instant every lab clock starts at unless told otherwise.
DEFAULT_LAB_TIME = _dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=_dt.timezone.utc)


#: Seeds labkit itself uses (the `Lab` default, ``labkit demo``, the docs and workshop, the notebooks):
#: keys derived from them are public, so `labkit.keys.lab_key_origin` recognises them by their public key
#: even when the file that carried them lost its ``Labkit-Lab`` marker.
DEFAULT_SEEDS: tuple[str, ...] = (
    "labkit", "demo", "docs", "workshop", "start-here", "analyst", "another lab",
    *(f"notebook-{n:02d}" for n in range(20)), "notebook-09-scenario", "notebook-10-blob", "notebook-13-private",
    "someone-else",
)

#: The word every output a user might trust carries when lab (seeded, public) material is in play.
_LAB_MARK = "LAB"


def utc(value: _dt.datetime) -> _dt.datetime:
    """Return `value` as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the time as an aware UTC datetime."""

    def now(self) -> _dt.datetime:
        """The current instant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> _dt.datetime:
        """The current UTC time, whole seconds."""
        return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A lab clock: starts at `start` and moves only when told (`advance`, `set`).

    With `tick` set, every call to `now()` first advances by `tick`, which
    gives distinct but reproducible timestamps to consecutive events.
    """

    def __init__(
        self,
        start: _dt.datetime = DEFAULT_LAB_TIME,
        *,
        tick: _dt.timedelta = _dt.timedelta(0),
    ) -> None:
        self._now = utc(start)
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> _dt.datetime:
        """The next tick after the fixed start time."""
        with self._lock:
            self._now += self._tick
            return self._now

    def advance(self, delta: _dt.timedelta | float) -> _dt.datetime:
        """Move forward by `delta` (seconds or a timedelta) and return the new time."""
        if not isinstance(delta, _dt.timedelta):
            delta = _dt.timedelta(seconds=delta)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: _dt.datetime) -> None:
        """Jump to `when`."""
        with self._lock:
            self._now = utc(when)

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


class Entropy(Protocol):
    """A source of random bytes; `label` names what they are for."""

    lab: bool

    def random_bytes(self, label: str, n: int) -> bytes:
        """Return `n` bytes for the purpose named by `label`."""
        ...

    def numbered_bytes(self, label: str, number: int, n: int) -> bytes:
        """Return `n` bytes for the `number`-th use of `label`, numbered by the caller (e.g. a persisted counter)."""
        ...


class SystemEntropy:
    """Real randomness from the operating system. `label` is ignored."""

    lab = False

    def random_bytes(self, label: str, n: int) -> bytes:
        """`n` random bytes from the OS (`label` is ignored)."""
        return os.urandom(n)

    def numbered_bytes(self, label: str, number: int, n: int) -> bytes:
        """`n` random bytes from the OS (`label` and `number` are ignored)."""
        return os.urandom(n)

    def __repr__(self) -> str:
        return "SystemEntropy()"


class SeededEntropy:
    """Deterministic bytes: HMAC-SHA256(seed, label ‖ counter) in counter mode.

    The same label asked twice returns different bytes (a per-label counter
    advances), and the same sequence of requests always returns the same bytes.
    Use `derive` for bytes that must not depend on how often a label was used.
    """

    lab = True

    def __init__(self, seed: str | bytes) -> None:
        self.seed = seed.encode() if isinstance(seed, str) else bytes(seed)
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def derive(self, label: str, n: int) -> bytes:
        """`n` bytes fixed by (seed, label) alone."""
        out = b""
        block = 0
        while len(out) < n:
            out += hmac.new(self.seed, f"{label}\x00{block}".encode(), hashlib.sha256).digest()
            block += 1
        return out[:n]

    def random_bytes(self, label: str, n: int) -> bytes:
        """`n` bytes derived from the seed, `label` and a per-label counter."""
        with self._lock:
            count = self._counters.get(label, 0)
            self._counters[label] = count + 1
        return self.derive(f"{label}#{count}", n)

    def numbered_bytes(self, label: str, number: int, n: int) -> bytes:
        """What `random_bytes` gives on its `number`-th call for `label`, whatever this object's counters say."""
        return self.derive(f"{label}#{number}", n)

    def __repr__(self) -> str:
        return f"SeededEntropy(LAB seed={self.seed!r})"


@dataclass
class Lab:
    """A lab session: a public seed, a clock, and deterministic randomness.

    Pass a `Lab` to labkit functions that take `lab=` to make them
    reproducible. `Lab.real()` is the explicit non-lab choice.
    """

    seed: str = "labkit"
    clock: Clock = field(default_factory=FixedClock)
    entropy: Entropy = field(init=False)

    def __post_init__(self) -> None:
        self.entropy = SeededEntropy(self.seed)

    @property
    def lab(self) -> bool:
        """Always True: material from a `Lab` is for teaching only."""
        return True

    def random_bytes(self, label: str, n: int) -> bytes:
        """Deterministic bytes for `label` (see `SeededEntropy.random_bytes`)."""
        return self.entropy.random_bytes(label, n)

    def derive(self, label: str, n: int) -> bytes:
        """Bytes fixed by the seed and `label` alone."""
        assert isinstance(self.entropy, SeededEntropy)
        return self.entropy.derive(label, n)

    def __repr__(self) -> str:
        return f"Lab(LAB seed={self.seed!r}, clock={self.clock!r})"
