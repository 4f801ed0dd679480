"""Issue 12 item 15: a failed pull leaves nothing behind; every layout read path re-hashes manifests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import DigestError
from labkit.keyfile import save_key_pair
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import list_bundles, signature_tag


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_failed_pull_from_a_dead_registry_leaves_no_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dst = tmp_path / "a" / "b" / "layout"
    assert main(["image", "copy", f"127.0.0.1:{_dead_port()}/labkit/x:v1", f"oci:{dst}:v1"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_pull_that_fails_half_way_leaves_no_layout(hostile: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # The manifest arrives; its config blob does not match its digest, after the layout was created.
    dst = tmp_path / "layout"
    assert main(["image", "copy", f"{hostile}/labkit/fine:v1", f"oci:{dst}:v1"]) == 1
    err = capsys.readouterr().err
    assert "blob sha256:" in err and "Traceback" not in err
    assert not dst.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["image", "copy", f"{hostile}/labkit/fine:v1", f"oci:{empty}:v1"]) == 1
    assert empty.is_dir() and not any(empty.iterdir())


def test_failed_pull_keeps_an_existing_layout(hostile: str, tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    built = build_image(layout, {"a": b"1"}, tag="keep")
    assert main(["image", "copy", f"{hostile}/labkit/fine:v1", f"oci:{tmp_path / 'L'}:v1"]) == 1
    assert OCILayout.open(tmp_path / "L").resolve("keep").digest == built.digest


@pytest.fixture
def signed_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> tuple[OCILayout, str, Path]:
    lab = Lab(seed="leftovers")
    save_key_pair(generate(lab=lab, label="cosign"), tmp_path / "cosign", password="pw", allow_lab=True, lab=lab)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    layout = OCILayout.init(tmp_path / "L")
    built = build_image(layout, {"app.py": b"print(1)\n"}, tag="v1")
    assert main(["sign", "--key", str(tmp_path / "cosign.key"), "--tlog-upload=false", "--new-bundle-format",
                 f"oci:{tmp_path / 'L'}@{built.digest}"]) == 0
    assert main(["verify", "--key", str(tmp_path / "cosign.pub"), "--insecure-ignore-tlog",
                 f"oci:{tmp_path / 'L'}:v1"]) == 0
    capsys.readouterr()
    return layout, str(built.digest), tmp_path / "cosign.pub"


def _tamper(layout: OCILayout, digest: str) -> None:
    """Change the manifest's bytes in place, same length, same file name."""
    path = layout.blob_path(digest)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"schemaVersion":2', b'"schemaVersion":2 ', 1)[:-1] if data.endswith(b"}}")
                     else data[:-1] + b" ")


@pytest.mark.parametrize("which", ["image", "sig", "bundle"])
def test_verify_and_tree_refuse_a_tampered_manifest(signed_layout: tuple[OCILayout, str, Path], which: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest, pub = signed_layout
    if which == "image":
        target = digest
    elif which == "sig":
        target = str(layout.resolve(signature_tag(digest)).digest)
    else:
        target = str(list_bundles(layout, digest)[0][0].digest)
    _tamper(layout, target)
    image = f"oci:{layout.path}:v1"
    assert main(["verify", "--key", str(pub), "--insecure-ignore-tlog", image]) == 1
    err = capsys.readouterr().err
    assert "does not match" in err and "Traceback" not in err
    assert main(["tree", image]) == 1
    err = capsys.readouterr().err
    assert "does not match" in err and "Traceback" not in err


def test_every_layout_read_path_rehashes_manifests(signed_layout: tuple[OCILayout, str, Path]) -> None:
    layout, digest, _ = signed_layout
    _tamper(layout, digest)
    for read in (lambda: layout.resolve("v1"), lambda: layout.resolve(digest), lambda: layout.get_manifest("v1"),
                 lambda: layout.get_manifest(digest)):
        with pytest.raises(DigestError, match="does not match"):
            read()
