"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from labkit import systools
from labkit.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
#: Public test data (conformance cases, trust roots, Merkle vectors, cosign keys), vendored unmodified:
#: see tests/vendor/README.md. A fresh clone has it; nothing beside the project is read.
VENDOR = ROOT / "tests" / "vendor"
#: The name tests used when this data was read from ../shared; the same layout, now the vendored copy.
SHARED = VENDOR


def require_tool(name: str, why: str) -> str:
    """Return the path of system tool `name` (declared in `labkit.systools.TOOLS`), or skip / fail without it.

    Skips with the reason and what to install; `.ci/run` sets
    LABKIT_REQUIRE_SYSTEM_TOOLS=1, so a missing tool there is a failure,
    never a silent skip.
    """
    path = systools.find(name)
    if path:
        return path
    message = f"{systools.missing_message(name, why)}. Install it: " + systools.install_hint(name).replace("\n", "; ")
    if os.environ.get(systools.REQUIRE_ENV) == "1":
        pytest.fail(message)
    pytest.skip(message)


def stop_process(proc: subprocess.Popen[Any], *, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
    """Stop `proc` for good: `sig` (to its whole process group when it leads one), SIGKILL after `grace` s.

    A no-op for a process that has already exited. Every process a test
    starts is stopped through here, in a finalizer (`spawn`, or a fixture's
    ``finally``), whatever the test's outcome.
    """
    if proc.poll() is not None:
        return
    group = hasattr(os, "killpg") and _leads_its_group(proc.pid)
    for current in (sig, signal.SIGKILL):
        _send(proc.pid, current, group)
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    if group:
        _send(proc.pid, signal.SIGKILL, group)  # members that ignored `sig` and outlived their leader


def _send(pid: int, sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _leads_its_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[Any]]]:
    """``spawn(args, **popen_kwargs)``: start a process that is stopped when the test ends, whatever the outcome."""
    started: list[subprocess.Popen[Any]] = []

    def start(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(args, **kwargs)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            stop_process(proc)


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """The vendored public test data (`tests/vendor`: conformance cases, vectors, cosign keys)."""
    return VENDOR


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The fixture's name from when the data was read from ../shared: the vendored copy (`vendor_dir`)."""
    return VENDOR


@pytest.fixture
def lab() -> Lab:
    """A fresh deterministic lab (seed 'test', fixed clock)."""
    return Lab(seed="test")
