"""``--instance URL`` on attest, attest-blob and keyless sign: signed through the signing config the URL delivered
over TUF (its CA, log and TSA), verified with labkit's verify commands against the same URL, and the DSSE blob
attestation judged by unmodified sigstore-python (``sigstore --instance URL verify identity``)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from tests.tuf.serving import SIGSTORE, run, serve

pytestmark = pytest.mark.slow

ME = "dana@example.com"


@pytest.fixture(params=[1, 2], ids=["rekor1", "rekor2"])
def env(request: pytest.FixtureRequest, tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]],
        monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A served instance (Rekor v1 or v2), labkit bootstrapped from its root, a token, an image, a blob."""
    url = serve(spawn, tmp_path, "--rekor-api", str(request.param))
    monkeypatch.setenv("LABKIT_TUF_CACHE", str(tmp_path / "labkit-tuf"))
    with Instance.open(tmp_path / "inst") as inst:
        token, issuer = inst.issuer.mint(ME), inst.issuer.url
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "absent"))  # nothing may read the instance directory
    assert main(["trust", "update", "--instance", url, "--root", str(tmp_path / "root.json")]) == 0
    build_image(OCILayout.init(tmp_path / "oci"), {"hello.txt": "hi\n"}, tag="v1")
    (tmp_path / "notes.txt").write_text("reviewed\n")
    (tmp_path / "blob.txt").write_text("artifact\n")
    return {"dir": str(tmp_path), "url": url, "token": token, "issuer": issuer, "image": f"oci:{tmp_path}/oci:v1",
            "rekor": str(request.param)}


def _sign_args(env: dict[str, str]) -> list[str]:
    return ["--instance", env["url"], "--identity-token", env["token"]]


def _verify_args(env: dict[str, str]) -> list[str]:
    return ["--instance", env["url"], "--certificate-identity", ME, "--certificate-oidc-issuer", env["issuer"]]


def _entries(bundle: dict[str, object]) -> list[dict[str, object]]:
    material = bundle["verificationMaterial"]
    assert isinstance(material, dict)
    entries: list[dict[str, object]] = material["tlogEntries"]
    return entries


def test_attest_blob_through_the_delivered_config(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    d = env["dir"]
    att = ["--type", "custom", "--predicate", f"{d}/notes.txt"]
    assert main(["attest-blob", *att, *_sign_args(env), "--bundle", f"{d}/att.json", f"{d}/blob.txt"]) == 0
    bundle = json.loads(Path(f"{d}/att.json").read_text())
    assert "dsseEnvelope" in bundle
    [entry] = _entries(bundle)  # Rekor v1: a dsse entry with a SET; Rekor v2: a hashedrekord over PAE, no SET
    assert entry["kindVersion"] == ({"kind": "dsse", "version": "0.0.1"} if env["rekor"] == "1"
                                    else {"kind": "hashedrekord", "version": "0.0.2"})
    assert ("inclusionPromise" in entry) == (env["rekor"] == "1")
    capsys.readouterr()
    assert main(["verify-blob-attestation", "--type", "custom", *_verify_args(env), "--bundle", f"{d}/att.json",
                 f"{d}/blob.txt"]) == 0, capsys.readouterr().err
    assert main(["verify-blob-attestation", "--type", "slsaprovenance1", *_verify_args(env), "--bundle",
                 f"{d}/att.json", f"{d}/blob.txt"]) != 0
    # the real judge: sigstore-python, bootstrapped from the same root, verifies the DSSE bundle over TUF
    run([*SIGSTORE, "--instance", env["url"], "trust-instance", f"{d}/root.json"], Path(d))
    run([*SIGSTORE, "--instance", env["url"], "verify", "identity", "--bundle", f"{d}/att.json", "--cert-identity",
         ME, "--cert-oidc-issuer", env["issuer"], f"{d}/blob.txt"], Path(d))


def test_attest_image_through_the_delivered_config(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    d = env["dir"]
    att = ["--type", "custom", "--predicate", f"{d}/notes.txt", "-a", "team=lab"]
    assert main(["attest", *att, *_sign_args(env), env["image"]]) == 0
    capsys.readouterr()
    assert main(["verify-attestation", "--type", "custom", "-a", "team=lab", *_verify_args(env),
                 env["image"]]) == 0, capsys.readouterr().err
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"


def test_sign_image_through_the_delivered_config(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign", *_sign_args(env), "--new-bundle-format", env["image"]]) == 0
    assert "Pushing bundle referrer" in capsys.readouterr().err
    assert main(["verify", *_verify_args(env), env["image"]]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["verify", "--instance", env["url"], "--certificate-identity", "mallory@example.com",
                 "--certificate-oidc-issuer", env["issuer"], env["image"]]) != 0


@pytest.mark.parametrize("command", ["attest", "attest-blob", "sign", "sign-no-bundle", "attest-identity", "attest-key",
                                     "sign-blob-other-identity"])
def test_instance_url_signing_refuses_clearly(env: dict[str, str], command: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """No token, a key, a token for someone else, or the legacy .sig format that has no room for the config's
    timestamps: one error, nothing written."""
    d = env["dir"]
    att = ["--type", "custom", "--predicate", f"{d}/notes.txt", "--instance", env["url"]]
    argv, says = {
        "attest": (["attest", *att, env["image"]], "give --identity-token"),
        "attest-identity": (["attest", *att, "--identity", ME, env["image"]], "give --identity-token"),
        "attest-blob": (["attest-blob", *att, "--bundle", f"{d}/new.json", f"{d}/blob.txt"], "give --identity-token"),
        "sign": (["sign", "--instance", env["url"], "--new-bundle-format", env["image"]], "--identity-token"),
        "sign-no-bundle": (["sign", *_sign_args(env), env["image"]], "add --new-bundle-format"),
        "attest-key": (["attest", *att, "--key", f"{d}/cosign.key", env["image"]], "drop --key"),
        "sign-blob-other-identity": (["sign-blob", *_sign_args(env), "--identity", "mallory@example.com", "--bundle",
                                      f"{d}/new.json", f"{d}/blob.txt"], "does not match the identity token"),
    }[command]
    capsys.readouterr()
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and says in err, err
    assert not Path(f"{d}/new.json").exists()
