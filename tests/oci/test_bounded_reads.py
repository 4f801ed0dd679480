"""Issue 12 item 3: capped documents and an overall deadline, against a real lying server on loopback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import RegistryError, StoreError
from labkit.keyfile import save_key_pair
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import build_image
from labkit.oci.descriptor import MT_MANIFEST
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.signatures import SIMPLESIGNING_MEDIA_TYPE, signature_manifest, signature_tag
from labkit.verify.image import explain_image_signatures
from tests.oci.hostile import MIB, SMALL

DEADLINE = 1.5


def _client(host: str) -> RegistryClient:
    return RegistryClient(f"http://{host}", deadline=DEADLINE)


@pytest.mark.parametrize("repo", ["huge-declared", "huge-undeclared", "fifty"])
def test_oversized_manifests_are_refused_without_reading_them(hostile: str, repo: str) -> None:
    start = time.monotonic()
    with pytest.raises(RegistryError, match="over the 4194304-byte limit"):
        _client(hostile).get_manifest(f"labkit/{repo}", "v1")
    assert time.monotonic() - start < DEADLINE + 1


def test_honest_manifest_still_reads(hostile: str) -> None:
    data, desc = _client(hostile).get_manifest("labkit/fine", "v1")
    assert data == SMALL and desc.digest == Digest.of(SMALL)


@pytest.mark.parametrize("repo", ["slow-body", "slow-headers"])
def test_a_trickle_fails_at_the_deadline(hostile: str, repo: str) -> None:
    start = time.monotonic()
    with pytest.raises(RegistryError, match="1.5-second deadline"):
        _client(hostile).get_manifest(f"labkit/{repo}", "v1")
    assert time.monotonic() - start < DEADLINE + 1


def test_json_answers_are_capped(hostile: str) -> None:
    with pytest.raises(RegistryError, match="over the 4194304-byte limit"):
        _client(hostile).list_tags("labkit/any")


def test_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "2.5")
    assert RegistryClient("http://127.0.0.1:1").deadline == 2.5
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "-1")
    with pytest.raises(RegistryError, match="LABKIT_REGISTRY_DEADLINE"):
        RegistryClient("http://127.0.0.1:1")


def test_cli_verify_against_a_stalling_registry_is_one_error(
    hostile: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab = Lab(seed="bounded")
    save_key_pair(generate(lab=lab, label="cosign"), tmp_path / "cosign", password="pw", allow_lab=True, lab=lab)
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "1")
    start = time.monotonic()
    assert main(["verify", "--key", str(tmp_path / "cosign.pub"), "--insecure-ignore-tlog",
                 f"{hostile}/labkit/slow-body:v1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "1-second deadline" in err
    assert time.monotonic() - start < 5


def test_layout_index_and_manifests_are_capped(tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    (tmp_path / "L" / "index.json").write_bytes(b'{"schemaVersion": 2, "manifests": []' + b" " * (5 * MIB) + b"}")
    with pytest.raises(StoreError, match="index.json .* over the 4194304-byte limit"):
        layout.index()
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.resolve("v1")
    (tmp_path / "L" / "oci-layout").write_bytes(b'{"imageLayoutVersion": "1.0.0"' + b" " * (5 * MIB) + b"}")
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        OCILayout.open(tmp_path / "L")


def test_layout_manifest_over_the_cap(tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    big = SMALL[:-1] + b" " * (5 * MIB) + b"}"
    desc = layout.put_blob(big, MT_MANIFEST)
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.get_manifest(desc.digest)
    layout.tag("v1", desc)
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.resolve("v1")


def test_signature_payload_over_the_cap_is_not_read(tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    built = build_image(layout, {"a": b"1"}, tag="v1")
    layer = layout.put_blob(b"{" + b" " * (5 * MIB) + b"}", SIMPLESIGNING_MEDIA_TYPE)
    manifest, config = signature_manifest([layer])
    layout.put_blob(config)
    layout.put_manifest(manifest.to_bytes(), MT_MANIFEST, tag=signature_tag(built.digest))
    key = generate(lab=Lab(seed="bounded"), label="k")
    report = explain_image_signatures(layout, built.digest, key.public_key())
    step = report.step("sig.read")
    assert step is not None and step.failed and "over the 4194304-byte limit" in (step.actual or "")
