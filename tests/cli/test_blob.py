"""`labkit sign-blob` / `labkit verify-blob`, in process, plus one subprocess smoke test."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.bundle import Bundle
from labkit.cli import main
from labkit.lab import Lab


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    assert main(["generate-key-pair", "--lab-seed", "cli", "--output-key-prefix", str(tmp_path / "cosign")]) == 0
    (tmp_path / "a.txt").write_bytes(b"artifact\n")
    return tmp_path


def test_sign_and_verify_without_log(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    bundle = keys / "a.sigstore.json"
    assert main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(bundle),
                 "--output-signature", str(keys / "a.sig"), "--tlog-upload=false", str(keys / "a.txt")]) == 0
    out = capsys.readouterr()
    sig_b64 = out.out.strip()
    assert (keys / "a.sig").read_text() == sig_b64
    parsed = Bundle.from_json(bundle.read_bytes())
    assert parsed.message_signature is not None
    assert base64.b64encode(parsed.message_signature.signature).decode() == sig_b64
    assert json.loads(bundle.read_text())["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"

    # like cosign: no log entry -> refused unless --insecure-ignore-tlog
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), str(keys / "a.txt")]) == 1
    assert "no transparency-log entry" in capsys.readouterr().err
    for flag in (["--insecure-ignore-tlog"], ["--insecure-ignore-tlog=true"]):
        assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), *flag,
                     str(keys / "a.txt")]) == 0
        assert capsys.readouterr().out.strip() == "Verified OK"
    # the bare flag placed before other options also works
    assert main(["verify-blob", "--insecure-ignore-tlog", "--key", str(keys / "cosign.key"), "--bundle", str(bundle),
                 str(keys / "a.txt")]) == 0


def test_tampered_artifact_rejected(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = keys / "a.sigstore.json"
    main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(bundle), "--tlog-upload=false",
          str(keys / "a.txt")])
    (keys / "a.txt").write_bytes(b"artifacT\n")
    capsys.readouterr()
    assert main(["-v", "verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle),
                 "--insecure-ignore-tlog", str(keys / "a.txt")]) == 1
    err = capsys.readouterr().err
    assert "Reason code: artifact.digest" in err and "Traceback" not in err


def test_sign_blob_needs_a_log_or_the_flag(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(keys / "b.json"),
                 str(keys / "a.txt")]) == 1
    assert "--tlog-upload=false" in capsys.readouterr().err
    assert not (keys / "b.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sign-blob", "--key", "{d}/missing.key", "--tlog-upload=false", "{d}/a.txt"], "not found"),
        (["sign-blob", "--key", "{d}/cosign.key", "--tlog-upload=false", "{d}/missing.txt"], "not found"),
        (["sign-blob", "--key", "{d}/cosign.pub", "--tlog-upload=false", "{d}/a.txt"], "unsupported PEM type"),
        (["sign-blob", "--key", "{d}/cosign.key", "--tlog-upload=false"], "missing the FILE"),
        (["verify-blob", "--key", "{d}/cosign.pub", "--bundle", "{d}/missing.json", "{d}/a.txt"], "not found"),
        (["verify-blob", "--key", "{d}/a.txt", "--bundle", "{d}/a.txt", "{d}/a.txt"], "not a public key"),
    ],
)
def test_errors_are_one_line(keys: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    capsys.readouterr()
    assert main([a.format(d=keys) for a in argv]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_truncated_bundle(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = keys / "a.json"
    main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(bundle), "--tlog-upload=false",
          str(keys / "a.txt")])
    bundle.write_bytes(bundle.read_bytes()[:50])
    capsys.readouterr()
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), "--insecure-ignore-tlog",
                 str(keys / "a.txt")]) == 1
    assert "bundle" in capsys.readouterr().err


def _trusted_root(log_id: bytes, key_der: bytes, name: str) -> str:
    return json.dumps({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": f"https://{name}",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": base64.b64encode(key_der).decode(), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                          "validFor": {"start": "2020-01-01T00:00:00Z"}},
            "logId": {"keyId": base64.b64encode(log_id).decode()},
        }],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [],
    })


def test_sign_with_log_server_and_verify(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from labkit.tlog.server import LogServer
    from labkit.tlog.store import TransparencyLog

    log = TransparencyLog.open(keys / "log", lab=Lab(seed="cli-log"))
    server = LogServer(log).start()
    try:
        bundle = keys / "a.sigstore.json"
        assert main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(bundle),
                     "--rekor-url", server.url, str(keys / "a.txt")]) == 0
    finally:
        server.stop()
        log.close()
    parsed = Bundle.from_json(bundle.read_bytes())
    assert len(parsed.verification_material.tlog_entries) == 1
    root = keys / "root.json"
    root.write_text(_trusted_root(log.log_id, log.public_key.der(), log.name))
    capsys.readouterr()
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle),
                 "--trusted-root", str(root), str(keys / "a.txt")]) == 0
    assert capsys.readouterr().out.strip() == "Verified OK"
    # without the log's root the entry cannot be trusted
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), str(keys / "a.txt")]) == 1
    assert "trusted root" in capsys.readouterr().err


def test_subprocess_smoke(tmp_path: Path) -> None:
    env = dict(os.environ, COSIGN_PASSWORD="pw")
    run = [sys.executable, "-m", "labkit.cli"]
    r = subprocess.run([*run, "generate-key-pair", "--output-key-prefix", str(tmp_path / "k")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (tmp_path / "f").write_bytes(b"data")
    r = subprocess.run(
        [
            *run,
            "sign-blob",
            "--key",
            str(tmp_path / "k.key"),
            "--bundle",
            str(tmp_path / "b.json"),
            "--tlog-upload=false",
            str(tmp_path / "f"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*run, "verify-blob", "--key", str(tmp_path / "k.pub"), "--bundle", str(tmp_path / "b.json"),
                        "--insecure-ignore-tlog", str(tmp_path / "f")], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "Verified OK", r.stderr
    r = subprocess.run([*run, "verify-blob", "--key", str(tmp_path / "k.pub"), "--bundle", str(tmp_path / "f"),
                        str(tmp_path / "f")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_stdin(keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    class Stdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

    bundle = keys / "s.json"
    monkeypatch.setattr("sys.stdin", Stdin(b"artifact\n"))
    assert main(["sign-blob", "--key", str(keys / "cosign.key"), "--bundle", str(bundle), "--tlog-upload=false",
                 "-"]) == 0
    capsys.readouterr()
    # the same bytes as a.txt, so the file verifies against the stdin bundle and vice versa
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), "--insecure-ignore-tlog",
                 str(keys / "a.txt")]) == 0
    monkeypatch.setattr("sys.stdin", Stdin(b"artifact\n"))
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), "--insecure-ignore-tlog",
                 "-"]) == 0
    monkeypatch.setattr("sys.stdin", Stdin(b"other\n"))
    assert main(["verify-blob", "--key", str(keys / "cosign.pub"), "--bundle", str(bundle), "--insecure-ignore-tlog",
                 "-"]) == 1
