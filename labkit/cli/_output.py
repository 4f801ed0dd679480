"""The one way a command writes a file the user named: atomic, never over an existing file without ``--force``.

    add_force_option(p)                             # --force, on every command with an output file
    refuse_existing([args.bundle], force=args.force)  # first, before work with side effects (a log entry)
    write_output(args.bundle, data, force=args.force)

A refusal, a read-only directory, a path that is a directory or a parent
that cannot be created is one `InputError` (one ``error:`` line), from
`labkit._internal.fsutil.atomic_write`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from labkit._internal.fsutil import atomic_write
from labkit.errors import InputError

__all__ = ["add_force_option", "refuse_existing", "write_output"]

_REFUSE_HINT = "Pass --force to replace it, or choose another path."


def add_force_option(p: argparse.ArgumentParser, what: str = "the output file") -> None:
    """Add ``--force``: replace `what` if it exists (refused otherwise)."""
    p.add_argument("--force", action="store_true", help=f"overwrite {what} if it exists (refused otherwise)")


def write_output(path: str | os.PathLike[str], data: bytes, *, force: bool, mode: int = 0o644) -> Path:
    """Write `data` to `path` atomically; an existing file is refused unless `force`."""
    return atomic_write(path, data, mode=mode, overwrite=force)


def refuse_existing(paths: list[str], *, force: bool) -> None:
    """Refuse up front, before any work with side effects (a log entry), an output that exists without `force`
    or that is a directory.

    The write itself refuses again, race-free; this only makes the refusal come first.
    """
    for path in paths:
        if os.path.isdir(path):
            raise InputError(f"cannot write {path}: it is a directory", details={"path": path})
        if not force and os.path.lexists(path):
            raise InputError(f"{path} already exists; refusing to overwrite it", hint=_REFUSE_HINT,
                             details={"path": path})
