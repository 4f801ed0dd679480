"""labkit.tuf.client: refresh through ngclient; every bad input is one TufError naming the role and version."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Timestamp

from labkit.lab import FixedClock, Lab, SystemClock, utc
from labkit.tuf.client import MAX_TARGET_BYTES, cache_dir_for, refresh
from labkit.tuf.errors import TufError
from labkit.tuf.repository import TufRepository
from labkit.tuf.simulator import TamperingRepository, attacker_signer

TARGETS = {"trusted_root.json": b'{"a": 1}\n', "signing_config.v0.2.json": b'{"b": 2}\n'}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[TamperingRepository, str]]:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS, lab=Lab(seed="client"))
    sim = TamperingRepository(repo)
    server = sim.serve()
    try:
        yield sim, server.url
    finally:
        server.stop()


def test_refresh_delivers_the_targets_and_caches_per_url(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    s, url = sim
    got = refresh(url, bootstrap_root=s.repo.root_bytes(), cache=tmp_path / "c")
    assert got.trusted_root == TARGETS["trusted_root.json"] and got.versions["timestamp"] == 1
    assert (cache_dir_for(url, tmp_path / "c") / "metadata" / "root.json").exists()
    s.repo.publish({"trusted_root.json": b'{"a": 2}\n'})
    s.capture()
    again = refresh(url, cache=tmp_path / "c")  # no bootstrap needed any more
    assert again.trusted_root == b'{"a": 2}\n' and again.versions["targets"] == 2


def test_a_no_op_refresh_fetches_only_the_next_root_and_the_timestamp(sim: tuple[TamperingRepository, str],
                                                                      tmp_path: Path) -> None:
    """What ngclient requires of an unchanged repository (TUF spec 5.3, 5.4): no snapshot, targets or target again."""
    s, url = sim
    refresh(url, bootstrap_root=s.repo.root_bytes(), cache=tmp_path / "c")
    trace: list[tuple[str, bool]] = []
    got = refresh(url, cache=tmp_path / "c", trace=trace)
    assert got.trusted_root == TARGETS["trusted_root.json"]
    assert [(u.rsplit("/", 1)[-1], found) for u, found in trace] == [("2.root.json", False), ("timestamp.json", True)]


def test_the_client_does_not_import_the_repository_writer() -> None:
    """A cold ``verify-bundle --instance URL`` imports the client only: not the signers and key files of the writer."""
    code = "import sys, labkit.tuf.client; print('labkit.tuf.repository' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_a_directory_works_as_well_as_http(tmp_path: Path) -> None:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS)
    got = refresh(str(tmp_path / "tuf"), bootstrap_root=repo.root_bytes(), cache=tmp_path / "c")
    assert got.signing_config == TARGETS["signing_config.v0.2.json"]


def test_remote_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TufError, match="loopback"):
        refresh("https://tuf-repo-cdn.sigstore.dev", bootstrap_root=b"{}", cache=tmp_path)


def _expect(url: str, root: bytes, tmp_path: Path, kind: str, what: str) -> None:
    with pytest.raises(TufError) as err:
        refresh(url, bootstrap_root=root, cache=tmp_path / "c")
    assert err.value.reason == f"tuf.{kind}", err.value.message
    assert f"failed at {what}" in err.value.message, err.value.message
    assert not list((cache_dir_for(url, tmp_path / "c") / "targets").iterdir())  # nothing unverified kept


def test_expired_timestamp(tmp_path: Path) -> None:
    repo = TufRepository.create(tmp_path / "tuf", TARGETS, clock=FixedClock(utc(SystemClock().now())
                                                                             - dt.timedelta(days=2)))
    sim = TamperingRepository(repo)
    server = sim.serve()
    try:
        _expect(server.url, repo.root_bytes(), tmp_path, "ExpiredMetadataError", "timestamp version 1")
    finally:
        server.stop()


def test_unsigned_and_wrongly_signed_timestamp(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    s, url = sim
    ts = Metadata[Timestamp].from_bytes(s.files["/timestamp.json"])
    ts.signed.version = 2
    s.put("/timestamp.json", ts, [])
    _expect(url, s.repo.root_bytes(), tmp_path, "UnsignedMetadataError", "timestamp version 2")
    s.put("/timestamp.json", ts, [attacker_signer(Lab(seed="x"), "ts")])
    _expect(url, s.repo.root_bytes(), tmp_path, "UnsignedMetadataError", "timestamp version 2")


def test_oversized_metadata(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    s, url = sim
    s.files["/timestamp.json"] = b" " * (64 * 1024)
    _expect(url, s.repo.root_bytes(), tmp_path, "DownloadLengthMismatchError", "timestamp")


def test_target_hash_mismatch(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    s, url = sim
    name = next(n for n in s.files if n.endswith(".trusted_root.json"))
    s.files[name] = b'{"a": 9}\n'  # same length, other bytes
    _expect(url, s.repo.root_bytes(), tmp_path, "LengthOrHashMismatchError", "target trusted_root.json")


def test_no_bootstrap_root(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    with pytest.raises(TufError, match="no trusted TUF root"):
        refresh(sim[1], cache=tmp_path / "c")


def test_max_target_size_is_bounded() -> None:
    assert MAX_TARGET_BYTES <= 4 * 1024 * 1024


def test_a_right_root_rotation_is_followed(sim: tuple[TamperingRepository, str], tmp_path: Path) -> None:
    s, url = sim
    boot = s.repo.root_bytes()
    refresh(url, bootstrap_root=boot, cache=tmp_path / "c")
    s.repo.rotate_root(keys=3, threshold=2, roles=["timestamp", "snapshot"])
    s.capture()
    got = refresh(url, cache=tmp_path / "c")
    assert got.versions["root"] == 2 and got.versions["timestamp"] == 2
