"""``--instance URL`` on the attestation and image commands: the trust root delivered over TUF, or one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout

ME = "alice@lab.test"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An instance publishing over TUF, a client bootstrapped from file://DIR, an attested and signed image."""
    inst = tmp_path / "inst"
    Instance.create(inst, seed="tuf-instance-url").close()
    monkeypatch.setenv("LABKIT_HOME", str(inst))
    monkeypatch.setenv("LABKIT_TUF_CACHE", str(tmp_path / "cache"))
    assert main(["tuf", "init", "--instance", str(inst)]) == 0
    assert main(["tuf", "root", "--instance", str(inst), "-o", str(tmp_path / "root.json")]) == 0
    url = f"file://{inst / 'tuf'}"
    assert main(["trust", "update", "--instance", url, "--root", str(tmp_path / "root.json")]) == 0
    build_image(OCILayout.init(tmp_path / "oci"), {"hello.txt": "hi\n"}, tag="v1")
    image = f"oci:{tmp_path / 'oci'}:v1"
    (tmp_path / "notes.txt").write_text("reviewed\n")
    (tmp_path / "blob.txt").write_text("artifact\n")
    att = ["--type", "custom", "--predicate", str(tmp_path / "notes.txt"), "--identity", ME]
    assert main(["attest", *att, image]) == 0
    assert main(["attest-blob", *att, "--bundle", str(tmp_path / "att.json"), str(tmp_path / "blob.txt")]) == 0
    assert main(["sign", "--identity", ME, image]) == 0
    with Instance.open(inst) as instance:
        issuer = instance.issuer.url
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "absent"))  # verification must not read the directory
    return {"dir": str(tmp_path), "url": url, "image": image, "issuer": issuer}


def _identity(env: dict[str, str]) -> list[str]:
    return ["--certificate-identity", ME, "--certificate-oidc-issuer", env["issuer"]]


def _commands(env: dict[str, str], instance: str) -> dict[str, list[str]]:
    d = env["dir"]
    return {
        "verify-blob-attestation": ["verify-blob-attestation", "--type", "custom", *_identity(env), "--instance",
                                    instance, "--bundle", f"{d}/att.json", f"{d}/blob.txt"],
        "verify-attestation": ["verify-attestation", "--type", "custom", *_identity(env), "--instance", instance,
                               env["image"]],
        "verify": ["verify", *_identity(env), "--instance", instance, env["image"]],
    }


@pytest.mark.parametrize("command", ["verify-blob-attestation", "verify-attestation", "verify"])
def test_verify_commands_use_the_delivered_trusted_root(env: dict[str, str], command: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(_commands(env, env["url"])[command]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("command", ["verify-blob-attestation", "verify-attestation", "verify", "verify-keyed"])
def test_verify_commands_refuse_a_url_that_is_not_tuf(env: dict[str, str], command: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    bad = f"file://{tmp_path / 'empty'}"
    if command == "verify-keyed":
        (tmp_path / "k.pub").write_text("unused")
        argv = ["verify", "--key", str(tmp_path / "k.pub"), "--instance", bad, env["image"]]
    else:
        argv = _commands(env, bad)[command]
    capsys.readouterr()
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error")]) == 1, err
    assert "TUF" in err
