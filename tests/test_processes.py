"""Every process a test starts is stopped in a finalizer, whatever the outcome (`spawn`, `stop_process`)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, stop_process

_IGNORES_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(300)"
)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_stop_process_kills_what_ignores_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "up\n"
        stop_process(proc, grace=0.5)
        assert proc.returncode is not None
    finally:
        stop_process(proc, grace=0.5)  # already stopped: nothing to do


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_stop_process_stops_the_group_it_leads(tmp_path: Path) -> None:
    """A server started in a session of its own (as the registry is) goes with every process it started."""
    pidfile = tmp_path / "grandchild.pid"
    code = (f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', {_IGNORES_TERM!r}]); "
            f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(300)")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchild = int(pidfile.read_text())
        stop_process(proc, grace=0.5)
        assert _gone(grandchild), "the grandchild outlived stop_process"
    finally:
        stop_process(proc, grace=0.5)


def test_spawned_processes_are_stopped_when_the_test_fails(tmp_path: Path) -> None:
    """Run a failing test that spawns a server in a pytest of its own: the server is gone afterwards."""
    pidfile = tmp_path / "server.pid"
    (tmp_path / "test_inner.py").write_text(
        "import sys\n"
        "def test_fails(spawn):\n"
        f"    proc = spawn([sys.executable, '-c', {_IGNORES_TERM!r}])\n"
        f"    open({str(pidfile)!r}, 'w').write(str(proc.pid))\n"
        "    assert False, 'the test fails with its server running'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    pid = int(pidfile.read_text())
    if not _gone(pid, timeout=1):
        os.kill(pid, 9)
        pytest.fail("the spawned process outlived its failed test")


def _popen_calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "Popen"]


def _stops_in_finally(func: ast.AST) -> bool:
    for node in ast.walk(func):
        if isinstance(node, ast.Try) and node.finalbody:
            for sub in ast.walk(ast.Module(body=node.finalbody, type_ignores=[])):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "stop_process":
                    return True
    return False


def test_every_process_a_test_starts_is_stopped_in_a_finalizer() -> None:
    """The audit as a rule: start processes with `spawn`, or Popen in a function whose finally calls stop_process.

    `subprocess.run` waits for its process (with a timeout it kills it), so only Popen can outlive a test.
    """
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "conftest.py" and path.parent == ROOT / "tests" or "vendor" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for call in _popen_calls(tree):
            owner = [f for f in funcs if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)]
            if not owner or not _stops_in_finally(owner[-1]):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not offenders, f"processes started without a finalizer that stops them (use the spawn fixture): {offenders}"


def test_spawn_is_a_callable_fixture(spawn: Callable[..., subprocess.Popen[bytes]]) -> None:
    proc = spawn([sys.executable, "-c", "pass"])
    assert proc.wait(timeout=60) == 0
