"""`labkit generate-key-pair` and `labkit public-key`, run in process."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyfile import inspect_key_file, load_private_key


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")


def test_generate_key_pair_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "cosign"
    assert main(["generate-key-pair", "--output-key-prefix", str(prefix)]) == 0
    out = capsys.readouterr().out
    assert "Private key written to" in out and "Public key written to" in out
    key_file, pub_file = tmp_path / "cosign.key", tmp_path / "cosign.pub"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    info = inspect_key_file(key_file.read_bytes())
    assert info.pem_type == "ENCRYPTED SIGSTORE PRIVATE KEY" and info.n == 65536 and not info.lab
    key = load_private_key(key_file, "pw")
    assert key.algorithm.value == "ecdsa-p256"
    assert pub_file.read_bytes() == key.public_key().pem()


def test_refuses_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = str(tmp_path / "k")
    assert main(["generate-key-pair", "--output-key-prefix", prefix, "--key-algorithm", "ed25519"]) == 0
    before = (tmp_path / "k.key").read_bytes()
    assert main(["generate-key-pair", "--output-key-prefix", prefix]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "k.key").read_bytes() == before
    assert main(["generate-key-pair", "--output-key-prefix", prefix, "--force"]) == 0
    assert (tmp_path / "k.key").read_bytes() != before


def test_lab_seed_is_reproducible_and_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for d in ("a", "b"):
        assert main(["generate-key-pair", "--lab-seed", "s", "--key-algorithm", "ed25519",
                     "--output-key-prefix", str(tmp_path / d / "cosign")]) == 0
    assert "LAB key" in capsys.readouterr().err
    assert (tmp_path / "a" / "cosign.key").read_bytes() == (tmp_path / "b" / "cosign.key").read_bytes()
    assert load_private_key(tmp_path / "a" / "cosign.key", "pw").lab


def test_unknown_algorithm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-key-pair", "--key-algorithm", "dsa", "--output-key-prefix", str(tmp_path / "x")]) == 1
    assert "unknown key algorithm" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_public_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = tmp_path / "cosign"
    main(["generate-key-pair", "--output-key-prefix", str(prefix)])
    capsys.readouterr()
    assert main(["public-key", "--key", str(tmp_path / "cosign.key")]) == 0
    assert capsys.readouterr().out.encode() == (tmp_path / "cosign.pub").read_bytes()
    assert main(["public-key", "--key", str(tmp_path / "cosign.key"), "--outfile", str(tmp_path / "out.pub")]) == 0
    assert (tmp_path / "out.pub").read_bytes() == (tmp_path / "cosign.pub").read_bytes()
    monkeypatch.setenv("COSIGN_PASSWORD", "wrong")
    assert main(["public-key", "--key", str(tmp_path / "cosign.key")]) == 1
    assert "wrong password" in capsys.readouterr().err


def test_public_key_of_cosign_vector(shared_dir: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "hello")
    vectors = shared_dir / "vectors" / "cosign-keys"
    assert main(["public-key", "--key", str(vectors / "pemcosignkey.pem")]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")
    assert main(["-v", "public-key", "--key", str(vectors / "pemcosigneckey.pem")]) == 1
    err = capsys.readouterr().err
    assert "not PKCS#8" in err and "Traceback" not in err


def test_no_password_without_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD")
    with open(os.devnull) as devnull:
        monkeypatch.setattr("sys.stdin", devnull)
        assert main(["generate-key-pair", "--output-key-prefix", str(tmp_path / "k")]) == 1
    assert "COSIGN_PASSWORD" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
