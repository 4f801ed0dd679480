"""A log's key: random and kept in the log directory unless a lab seed is given on purpose; readers never create.

issue 12 items 2 (publicly derivable keys used silently) and 12 (commands that read create things).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from labkit.cli import main
from labkit.errors import LogError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.server import LogServer
from labkit.tlog.store import DB_NAME, KEY_FILE, TransparencyLog


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_two_logs_opened_the_same_way_have_different_keys(tmp_path: Path) -> None:
    a = TransparencyLog.open(tmp_path / "a")
    b = TransparencyLog.open(tmp_path / "b")
    assert a.log_id != b.log_id
    assert a.lab_origin is None and not a.key.lab
    a.close()
    with TransparencyLog.open(tmp_path / "a") as again:  # the kept key is reused
        assert again.log_id == a.log_id
    b.close()


def test_the_log_key_is_private_whatever_the_umask(tmp_path: Path, umask_000: None) -> None:
    TransparencyLog.open(tmp_path / "log").close()
    assert stat.S_IMODE((tmp_path / "log" / KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "log").stat().st_mode) == 0o700


def test_a_seeded_log_is_lab_and_needs_its_seed(tmp_path: Path) -> None:
    with TransparencyLog.open(tmp_path / "log", lab=Lab(seed="labkit")) as log:
        assert log.lab_origin is not None and "labkit" in log.lab_origin
    assert not (tmp_path / "log" / KEY_FILE).exists()
    with pytest.raises(LogError) as err:
        TransparencyLog.open(tmp_path / "log", create=False)
    assert err.value.hint is not None and "LAB log" in err.value.hint and "'labkit'" in err.value.hint
    assert "--seed" in err.value.message


def test_readers_do_not_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "typo"
    assert main(["log", "info", "--dir", str(typo)]) == 1
    assert "no transparency log" in capsys.readouterr().err
    assert not typo.exists()
    with pytest.raises(LogError):
        TransparencyLog.open(typo, lab=Lab(seed="x"), create=False)
    assert not typo.exists()


def test_search_hash_grammar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    TransparencyLog.open(tmp_path / "log").close()
    for bad in ("sha256:../../x", "sha256:" + "a" * 63, "md5:" + "a" * 32, "sha384:" + "a" * 64):
        assert main(["log", "search", "--dir", str(tmp_path / "log"), "--hash", bad]) == 1, bad
        assert "not an artifact digest" in capsys.readouterr().err
    assert main(["log", "search", "--dir", str(tmp_path / "log"), "--hash", "SHA256:" + "A" * 64]) == 0


@pytest.mark.parametrize("option", [["--port", "99999"], ["--port", "-1"], ["--max-body", "-1"], ["--max-body", "0"]])
def test_serve_settings_are_checked(tmp_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["log", "serve", "--dir", str(tmp_path / "log"), *option])
    assert exit_.value.code == 2
    assert "out of range" in capsys.readouterr().err
    assert not (tmp_path / "log").exists()


def test_lab_logs_say_lab_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path / "log")
    log = TransparencyLog.open(d, lab=Lab(seed="labkit"))
    signer = generate("ecdsa-p256", lab=Lab(seed="x"), label="signer")
    digest = hashlib.sha256(b"x").digest()
    log.upload_hashedrekord(signer.sign_digest(digest), signer.public_key().pem(), digest)
    assert main(["log", "info", "--dir", d, "--seed", "labkit"]) == 0
    assert capsys.readouterr().out.startswith("LAB log")
    assert main(["log", "trusted-root", "--dir", d, "--seed", "labkit", "-o", str(tmp_path / "root.json")]) == 0
    assert "LAB" in capsys.readouterr().err
    with LogServer(log) as server:  # a client recognises a default-seed key from the key alone
        assert main(["log", "info", "--url", server.url]) == 0
        assert capsys.readouterr().out.startswith("LAB log")
    log.close()


def test_real_logs_do_not_say_lab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    TransparencyLog.open(tmp_path / "log").close()
    assert main(["log", "info", "--dir", str(tmp_path / "log")]) == 0
    assert "LAB" not in capsys.readouterr().out
    assert (tmp_path / "log" / DB_NAME).is_file()


def test_an_index_past_int64_is_a_clear_error(tmp_path: Path) -> None:
    with TransparencyLog.open(tmp_path / "log") as log, LogServer(log) as server:
        with pytest.raises(LogError, match="64-bit"):
            log.get(1 << 63)
        r = requests.get(f"{server.url}/api/v1/log/entries?logIndex={1 << 63}", timeout=30)
        assert r.status_code == 400
