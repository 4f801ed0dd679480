"""Scratch folders are fresh, private, and gone when the process that made them exits or was killed."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.errors import InputError
from labkit.scratch import scratch_folder

MAKE = ("from labkit.scratch import scratch_folder\np = scratch_folder({name!r})\n(p / 'k.pem').write_text('x')\n"
        "print(p)\n")


def test_each_folder_is_new_empty_and_private() -> None:
    a, b = scratch_folder("test"), scratch_folder("test")
    assert a != b and a.name.startswith(f"labkit-test-{os.getpid()}-")
    assert list(a.iterdir()) == []
    assert stat.S_IMODE(a.stat().st_mode) == 0o700


def test_the_folder_and_its_contents_go_when_python_exits() -> None:
    code = MAKE.format(name="exit") + "(p / 'sub').mkdir()\n(p / 'sub' / 'key.pem').write_text('x')\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    made = Path(out.stdout.strip())
    assert made.name.startswith("labkit-exit-") and not made.exists()


def test_a_killed_process_folder_goes_with_the_next_one_of_its_name(
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    code = MAKE.format(name="killed") + "import sys, time\nsys.stdout.flush()\ntime.sleep(60)\n"
    proc = spawn([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    orphan = Path(proc.stdout.readline().strip())
    other_name = scratch_folder("killed-other")  # another name never sweeps it
    assert orphan.exists() and other_name.exists()
    live = scratch_folder("killed")  # its process still runs: kept
    assert orphan.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert orphan.exists()  # no exit handler ran
    scratch_folder("killed")
    assert not orphan.exists() and live.exists()


def test_folders_that_are_not_scratch_folders_are_left_alone() -> None:
    tmp = Path(tempfile.gettempdir())
    odd = [Path(tempfile.mkdtemp(prefix="labkit-sweep-notapid-", dir=tmp)),
           Path(tempfile.mkdtemp(prefix="labkit-sweep-", dir=tmp))]
    scratch_folder("sweep")
    assert all(p.exists() for p in odd)
    for p in odd:
        p.rmdir()


@pytest.mark.parametrize("name", ["", "../up", "a/b", "x" * 41, " space", "-leading", "a*"])
def test_names_that_are_not_plain_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="scratch folder name"):
        scratch_folder(name)
