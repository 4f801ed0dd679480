"""labkit.tuf.repository: roles, keys, versions, consistent snapshots, root rotation."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Root

from labkit.lab import Lab
from labkit.tuf.errors import TufError
from labkit.tuf.repository import TufRepository

TARGETS = {"trusted_root.json": b'{"a": 1}\n', "signing_config.v0.2.json": b'{"b": 2}\n'}


def test_create_publishes_every_role_with_its_own_keys(tmp_path: Path) -> None:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS)
    root = repo.root.signed
    assert root.consistent_snapshot and root.roles["root"].threshold == 2 and len(root.roles["root"].keyids) == 2
    keyids = [set(root.roles[r].keyids) for r in ("root", "targets", "snapshot", "timestamp")]
    assert all(a.isdisjoint(b) for i, a in enumerate(keyids) for b in keyids[i + 1:])
    names = {p.name for p in repo.repo_dir.iterdir()}
    assert {"1.root.json", "1.targets.json", "1.snapshot.json", "timestamp.json", "targets"} <= names
    assert len(list((repo.repo_dir / "targets").iterdir())) == 2
    assert stat.S_IMODE(repo.keys_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in repo.keys_dir.iterdir())


def test_keys_are_random_unless_lab(tmp_path: Path) -> None:
    a = TufRepository.create(tmp_path / "a", TARGETS).root.signed.keys
    b = TufRepository.create(tmp_path / "b", TARGETS).root.signed.keys
    assert set(a).isdisjoint(b)
    c = TufRepository.create(tmp_path / "c", TARGETS, lab=Lab(seed="s")).root.signed.keys
    d = TufRepository.create(tmp_path / "d", TARGETS, lab=Lab(seed="s")).root.signed.keys
    assert set(c) == set(d)


def test_publish_bumps_targets_only_when_a_target_changed(tmp_path: Path) -> None:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS)
    same = repo.publish(TARGETS)
    assert same.changed_targets == () and "targets" not in same.versions and same.versions["timestamp"] == 2
    changed = repo.publish({"trusted_root.json": b"{}"})
    assert changed.changed_targets == ("trusted_root.json",) and changed.versions == {
        "targets": 2, "snapshot": 3, "timestamp": 3}
    with pytest.raises(TufError, match="unknown target"):
        repo.publish({"evil.json": b"{}"})


def test_rotate_root_is_signed_by_old_and_new_keys(tmp_path: Path) -> None:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS)
    old = Metadata[Root].from_bytes(repo.root_bytes(1))
    assert repo.rotate_root(keys=3, threshold=2, roles=["timestamp"]) == 2
    new = Metadata[Root].from_bytes(repo.root_bytes(2))
    old.verify_delegate("root", new)
    new.verify_delegate("root", new)
    assert set(new.signed.roles["root"].keyids).isdisjoint(old.signed.roles["root"].keyids)
    assert new.signed.roles["timestamp"].keyids != old.signed.roles["timestamp"].keyids
    assert len(new.signatures) == 5  # two old root keys, three new
    assert json.loads(repo.root_bytes())["signed"]["version"] == 2


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    TufRepository.create(tmp_path / "tuf", TARGETS)
    with pytest.raises(TufError, match="already exists"):
        TufRepository.create(tmp_path / "tuf", TARGETS)
