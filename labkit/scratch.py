"""Scratch folders: a fresh private folder for one notebook's (or one session's) files, gone when Python exits.

A notebook that writes keys, logs, layouts and instances needs somewhere to put them that no other run shares and
that does not pile up in the temporary folder, run after run, on a laptop or a room server with many learners.
`scratch_folder` makes one (``labkit-<name>-XXXXXXXX``, mode 0700, in the system's temporary folder) and removes it
with everything in it when the interpreter exits normally (a kernel restart or shutdown included).
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path

from labkit.errors import InputError

__all__ = ["scratch_folder"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def scratch_folder(name: str) -> Path:
    """A new empty folder ``labkit-<name>-XXXXXXXX`` that is removed, with its contents, when Python exits."""
    if not _NAME.fullmatch(name):
        raise InputError(f"scratch folder name {name!r} must be 1-40 letters, digits, '.', '_' or '-'")
    path = Path(tempfile.mkdtemp(prefix=f"labkit-{name}-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
