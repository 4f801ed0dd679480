"""Scratch folders are fresh, private, and gone when the process that made them exits."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.errors import InputError
from labkit.scratch import scratch_folder


def test_each_folder_is_new_empty_and_private() -> None:
    a, b = scratch_folder("test"), scratch_folder("test")
    assert a != b and a.name.startswith("labkit-test-")
    assert list(a.iterdir()) == []
    assert stat.S_IMODE(a.stat().st_mode) == 0o700


def test_the_folder_and_its_contents_go_when_python_exits() -> None:
    code = ("from labkit.scratch import scratch_folder\n"
            "p = scratch_folder('exit')\n(p / 'sub').mkdir()\n(p / 'sub' / 'key.pem').write_text('x')\nprint(p)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    made = Path(out.stdout.strip())
    assert made.name.startswith("labkit-exit-") and not made.exists()


@pytest.mark.parametrize("name", ["", "../up", "a/b", "x" * 41, " space", "-leading"])
def test_names_that_are_not_plain_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="scratch folder name"):
        scratch_folder(name)
