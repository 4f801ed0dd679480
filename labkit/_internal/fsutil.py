"""Atomic file writes and inter-process locks shared by every store.

Writes go to a temporary file in the destination directory, are fsynced,
then renamed over the target, so a reader sees the old bytes or the new
bytes and never a half-written file, and a crash leaves no partial file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from labkit.errors import InputError

__all__ = ["atomic_write", "file_lock", "open_for_reading", "read_bytes"]


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644, overwrite: bool = True) -> Path:
    """Write `data` to `path` atomically with permissions `mode`.

    With ``overwrite=False`` an existing file is refused (`InputError`) and
    the refusal is race-free: the final step is a hard link, which fails if
    the name already exists.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise InputError(
                    f"{target} already exists; refusing to overwrite it",
                    hint="Pass --force (or overwrite=True) to replace it.",
                ) from None
            os.unlink(tmp)
        _fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing) for the block."""
    lock_path = Path(path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def open_for_reading(path: str | os.PathLike[str], what: str = "file", *, buffering: int = -1) -> BinaryIO:
    """Open a file for binary reading, turning OS errors into a labkit `InputError`."""
    try:
        return open(path, "rb", buffering=buffering)  # noqa: SIM115 (the caller closes it)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, not a file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None


def read_bytes(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """Read a whole file, turning OS errors into a labkit `InputError`."""
    with open_for_reading(path, what) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
