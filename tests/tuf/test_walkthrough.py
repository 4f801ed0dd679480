"""The teaching views of notebook 16: role and target rows, and the step-by-step refresh trace."""

from __future__ import annotations

from pathlib import Path

from labkit.attacks.tuf import run_tuf_scenario
from labkit.tuf.repository import TufRepository
from labkit.tuf.walkthrough import LAB_TUF_TIME, attack_rows, lab_for_tuf, refresh_trace, role_rows, target_rows

TARGETS = {"trusted_root.json": b"{}\n", "signing_config.v0.2.json": b"{ }\n"}


def _repo(tmp_path: Path) -> TufRepository:
    lab = lab_for_tuf("walkthrough-test")
    return TufRepository.create(tmp_path / "tuf", TARGETS, clock=lab.clock, lab=lab)


def test_role_rows_name_each_role_with_its_threshold_and_expiry(tmp_path: Path) -> None:
    rows = role_rows(_repo(tmp_path))
    assert [r["role"] for r in rows] == ["root", "targets", "snapshot", "timestamp"]
    assert rows[0]["threshold"] == "2 of 2" and rows[0]["signatures"] == 2
    assert rows[3]["expires"] == "2036-01-02 12:00 UTC"
    assert LAB_TUF_TIME.year == 2036


def test_target_rows_show_hashes_not_paths(tmp_path: Path) -> None:
    rows = target_rows(_repo(tmp_path))
    assert [r["target"] for r in rows] == ["signing_config.v0.2.json", "trusted_root.json"]
    assert all(str(tmp_path) not in str(r) for r in rows)


def test_the_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    assert role_rows(_repo(tmp_path / "a")) == role_rows(_repo(tmp_path / "b"))


def test_refresh_trace_walks_root_timestamp_snapshot_targets_in_order(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    delivered, rows = refresh_trace(str(repo.path), bootstrap_root=repo.root_bytes(), cache=tmp_path / "cache")
    assert delivered.trusted_root == TARGETS["trusted_root.json"]
    assert [r["file"] for r in rows] == ["2.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json",
                                         "targets/<sha256>.trusted_root.json",
                                         "targets/<sha256>.signing_config.v0.2.json"]
    assert rows[0]["found"] == "no (404)"
    assert all(str(tmp_path) not in str(r) for r in rows)


def test_refresh_trace_follows_a_root_rotation(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    refresh_trace(str(repo.path), bootstrap_root=repo.root_bytes(), cache=tmp_path / "cache")
    repo.rotate_root(keys=3, threshold=2)
    delivered, rows = refresh_trace(str(repo.path), cache=tmp_path / "cache")
    assert delivered.versions["root"] == 2
    assert [(r["file"], r["found"]) for r in rows[:2]] == [("2.root.json", "yes"), ("3.root.json", "no (404)")]


def test_attack_rows_give_each_client_verdict_and_the_error_class() -> None:
    (row,) = attack_rows([run_tuf_scenario("tuf-freeze")])
    assert row == {"attack": "tuf-freeze", "naive-tuf-client": "accepted", "labkit": "rejected",
                   "refused with": "tuf.ExpiredMetadataError"}
