"""Scratch folders: a fresh private folder for one notebook's (or one session's) files, gone when Python exits.

A notebook that writes keys, logs, layouts and instances needs somewhere to put them that no other run shares and
that does not pile up in the temporary folder, run after run, on a laptop or a room server with many learners.
`scratch_folder` makes one (``labkit-<name>-<pid>-XXXXXXXX``, mode 0700, in the system's temporary folder) and
removes it with everything in it when the interpreter exits normally (a kernel restart or shutdown included).
A kernel killed outright runs no exit handler; the next `scratch_folder` of the same name by the same user removes
the folders whose process (the pid in their name) no longer exists.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

from labkit.errors import InputError

__all__ = ["scratch_folder"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def scratch_folder(name: str) -> Path:
    """A new empty folder ``labkit-<name>-<pid>-XXXXXXXX`` that is removed, with its contents, when Python exits."""
    if not _NAME.fullmatch(name):
        raise InputError(f"scratch folder name {name!r} must be 1-40 letters, digits, '.', '_' or '-'")
    _remove_orphans(name)
    path = Path(tempfile.mkdtemp(prefix=f"labkit-{name}-{os.getpid()}-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _remove_orphans(name: str) -> None:
    """Remove this user's earlier `name` folders whose process is gone (killed before its exit handlers ran)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no POSIX users or signals (Windows): leave them
        return
    shape = re.compile(rf"labkit-{re.escape(name)}-(\d{{1,10}})-[A-Za-z0-9_]{{8}}")
    for old in Path(tempfile.gettempdir()).glob(f"labkit-{name}-*"):
        match = shape.fullmatch(old.name)
        try:
            mine = old.is_dir() and not old.is_symlink() and old.stat().st_uid == getuid()
        except OSError:
            continue
        if match and mine and not _alive(int(match.group(1))):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    """True unless no process has this pid (another user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
