"""Creating and opening lab instances."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from labkit.errors import InputError, KeylessError
from labkit.keyless.instance import INSTANCE_FILE, Instance, default_instance_dir


def test_layout(tmp_path: Path) -> None:
    with Instance.create(tmp_path / "i", seed="layout") as inst:
        for name in (INSTANCE_FILE, "ca/root.pem", "ca/intermediate.pem", "trusted_root.json", "oci/oci-layout",
                     "oidc/jwks.json", "oidc/openid-configuration"):
            assert (inst.path / name).is_file(), name
        assert not (inst.path / "keys").exists()  # lab keys come from the seed
        assert json.loads((inst.path / INSTANCE_FILE).read_text())["seed"] == "layout"
        assert "LAB" in repr(inst)
        assert json.loads((inst.path / "oidc" / "jwks.json").read_text()) == inst.issuer.jwks()


def test_real_instance_keeps_private_keys_private(tmp_path: Path) -> None:
    with Instance.create(tmp_path / "r") as inst:
        keys = sorted(p.name for p in (inst.path / "keys").iterdir())
        assert keys == ["ctlog.pem", "intermediate-ca.pem", "oidc.pem", "root-ca.pem", "tlog.pem", "tsa.pem"]
        for p in (inst.path / "keys").iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
        root = inst.trusted_root_json()
    with Instance.open(tmp_path / "r") as again:
        assert again.trusted_root_json() == root
        assert again.lab is None


def test_open_matches_create(tmp_path: Path) -> None:
    created = Instance.create(tmp_path / "i", seed="x")
    opened = Instance.open(tmp_path / "i")
    assert opened.trusted_root_json() == created.trusted_root_json()
    assert opened.issuer.jwks() == created.issuer.jwks()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    Instance.create(tmp_path / "i", seed="x")
    with pytest.raises(InputError):
        Instance.create(tmp_path / "i", seed="y")
    assert Instance.create(tmp_path / "i", seed="y", force=True).lab is not None


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        Instance.open(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / INSTANCE_FILE).write_text("{not json")
    with pytest.raises(KeylessError):
        Instance.open(tmp_path / "bad")
    (tmp_path / "bad" / INSTANCE_FILE).write_text('{"format": "something-else"}')
    with pytest.raises(KeylessError):
        Instance.open(tmp_path / "bad")


def test_default_dir_honours_labkit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    assert default_instance_dir() == tmp_path / "home"
    monkeypatch.delenv("LABKIT_HOME")
    monkeypatch.chdir(tmp_path)
    assert default_instance_dir() == tmp_path / ".labkit"


def test_instance_secrets_are_private_whatever_the_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0)
    try:
        with Instance.create(tmp_path / "r"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "r" / "keys").stat().st_mode) == 0o700
    for p in (tmp_path / "r" / "keys").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
