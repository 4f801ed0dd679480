"""labkit._internal.fsutil: atomic writes, all-or-nothing pairs, OS errors as one InputError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labkit._internal.fsutil import atomic_write, atomic_write_all, os_error_message
from labkit.errors import InputError


def test_atomic_write_refuses_an_existing_file_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(InputError, match="already exists"):
        atomic_write(target, b"new", overwrite=False)
    assert target.read_bytes() == b"old"
    atomic_write(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


@pytest.mark.parametrize("overwrite", [True, False])
def test_a_directory_target_is_an_input_error(tmp_path: Path, overwrite: bool) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        atomic_write(tmp_path / "d", b"x", overwrite=overwrite)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_a_parent_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(InputError, match="parent path is not a directory"):
        atomic_write(tmp_path / "f" / "out", b"x")


def test_any_os_error_names_the_path_and_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("labkit._internal.fsutil.tempfile.mkstemp", full)
    with pytest.raises(InputError, match=r"cannot write .*out: No space left on device") as exc:
        atomic_write(tmp_path / "out", b"x")
    assert exc.value.details["path"] == tmp_path / "out"


def test_os_error_message_is_path_then_reason() -> None:
    assert os_error_message(PermissionError(13, "Permission denied", "ro/out")) == "ro/out: Permission denied"
    assert os_error_message(OSError("odd")) == "odd"


def _pair(tmp_path: Path) -> list[tuple[str | os.PathLike[str], bytes, int]]:
    return [(tmp_path / "k.key", b"new private", 0o600), (tmp_path / "k.pub", b"new public", 0o644)]


def test_write_all_writes_every_file_with_its_mode(tmp_path: Path) -> None:
    atomic_write_all(_pair(tmp_path))
    assert (tmp_path / "k.key").read_bytes() == b"new private"
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "k.pub").read_bytes() == b"new public"


def test_write_all_without_overwrite_leaves_no_half_pair(tmp_path: Path) -> None:
    (tmp_path / "k.pub").write_bytes(b"old public")
    with pytest.raises(InputError, match="already exists"):
        atomic_write_all(_pair(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pub"]
    assert (tmp_path / "k.pub").read_bytes() == b"old public"


def test_write_all_rolls_back_when_the_second_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k.key").write_bytes(b"old private")
    (tmp_path / "k.pub").write_bytes(b"old public")
    real_replace = os.replace
    calls: list[str] = []

    def flaky(src: str, dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if Path(dst).name == "k.pub":
            raise OSError(5, "Input/output error", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr("labkit._internal.fsutil.os.replace", flaky)
    with pytest.raises(InputError, match="k.pub: Input/output error|cannot write .*k.pub"):
        atomic_write_all(_pair(tmp_path), overwrite=True)
    assert (tmp_path / "k.key").read_bytes() == b"old private"  # restored from its backup
    assert (tmp_path / "k.pub").read_bytes() == b"old public"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key", "k.pub"]  # no temporary or backup left


def test_write_all_removes_a_new_first_file_when_the_second_fails(tmp_path: Path) -> None:
    (tmp_path / "k.pub").mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        atomic_write_all(_pair(tmp_path), overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pub"]
