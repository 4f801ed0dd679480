"""Atomic file writes and inter-process locks shared by every store.

Writes go to a temporary file in the destination directory, are fsynced,
then renamed over the target, so a reader sees the old bytes or the new
bytes and never a half-written file, and a crash leaves no partial file.
`atomic_write_all` does the same for several files that belong together (a
key pair): all are written, or none is changed.

Every OS error on a write (a read-only directory, a target that is a
directory, a parent that is missing or a file) becomes one `InputError`
naming the path and the reason; `os_error_message` words it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from labkit.errors import InputError

__all__ = ["atomic_write", "atomic_write_all", "file_lock", "open_for_reading", "os_error_message", "read_bytes"]

_REFUSE_HINT = "Pass --force (or overwrite=True) to replace it."


def os_error_message(exc: OSError) -> str:
    """One line for an OS error: the path it concerns and the reason (``ro/out: Permission denied``)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    name = exc.filename if exc.filename is not None else ""
    return f"{os.fsdecode(name)}: {reason}" if name != "" else reason


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """Turn an OS error while writing `target` into an `InputError` naming it and the reason."""
    try:
        yield
    except InputError:
        raise
    except IsADirectoryError:
        raise InputError(f"cannot write {target}: it is a directory", details={"path": target}) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        culprit = os.fsdecode(exc.filename) if exc.filename is not None else ""
        # Name the component the OS complained about when it is not the file or its temporary twin.
        same_place = culprit and Path(os.path.abspath(culprit)).parent == Path(os.path.abspath(target)).parent
        where = f" ({culprit})" if culprit and not same_place else ""
        raise InputError(f"cannot write {target}: {reason}{where}", details={"path": target, "reason": reason},
                         hint="Check that the directory exists (or can be created), is writable and that the "
                         "path is not a directory.") from None


def _directory_of(target: Path) -> Path:
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot write {target}: a parent path is not a directory",
                         details={"path": target}) from None
    return directory


def _stage(target: Path, data: bytes, mode: int) -> str:
    """Write `data` to a fsynced temporary file beside `target`; returns its path."""
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a directory", details={"path": target})
    directory = _directory_of(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _commit(tmp: str, target: Path, overwrite: bool) -> None:
    """Put the staged file in place; without `overwrite` a race-free refusal of an existing name (hard link)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise InputError(f"{target} already exists; refusing to overwrite it", hint=_REFUSE_HINT,
                         details={"path": target}) from None
    os.unlink(tmp)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644, overwrite: bool = True) -> Path:
    """Write `data` to `path` atomically with permissions `mode`.

    With ``overwrite=False`` an existing file is refused (`InputError`) and
    the refusal is race-free: the final step is a hard link, which fails if
    the name already exists. Any OS error is an `InputError` naming `path`.
    """
    target = Path(path)
    tmp = ""
    with _writing(target):
        try:
            tmp = _stage(target, data, mode)
            _commit(tmp, target, overwrite)
        finally:
            if tmp:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        _fsync_dir(target.parent if str(target.parent) else Path("."))
    return target


def atomic_write_all(files: Sequence[tuple[str | os.PathLike[str], bytes, int]], *, overwrite: bool = False) -> None:
    """Write several ``(path, data, mode)`` files as one: all of them land, or none is changed.

    Each file is staged first; then each is put in place. If one cannot be,
    the ones already placed are rolled back: a replaced file gets its old
    bytes back (kept as a hard-linked backup until the end), a new one is removed.
    """
    staged: list[tuple[str, Path]] = []
    placed: list[tuple[Path, str | None]] = []
    try:
        for path, data, mode in files:
            target = Path(path)
            with _writing(target):
                staged.append((_stage(target, data, mode), target))
        for tmp, target in staged:
            with _writing(target):
                backup = _backup(target) if overwrite else None
                try:
                    _commit(tmp, target, overwrite)
                except BaseException:
                    if backup is not None:
                        os.unlink(backup)
                    raise
                placed.append((target, backup))
    except BaseException:
        for target, backup in reversed(placed):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
        placed.clear()
        raise
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for _, backup in placed:
            if backup is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backup)
    for directory in {t.parent if str(t.parent) else Path(".") for _, t in staged}:
        _fsync_dir(directory)


def _backup(target: Path) -> str | None:
    """A hard link to the current `target` (None if there is none), to restore it on rollback."""
    if not target.exists():
        return None
    backup = target.with_name(f".{target.name}.{secrets.token_hex(6)}.bak")
    os.link(target, backup)
    return str(backup)


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
    # Unbuffered: the raw file's readall() is what a buffered read() of everything calls, without the buffer's
    # set-up (an isatty ioctl and a size probe per file).
    with open_for_reading(path, what, buffering=0) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
