"""Fixtures for the CLI tests: a workspace with a key, an instance, a log, an image; a read-only directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.keyfile import save_key_pair
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.tlog.store import TransparencyLog

LOG_SEED = "cli-tests-log"


@dataclass(frozen=True)
class Workspace:
    """Inputs every writing command needs, made once per module."""

    root: Path
    key: Path  # encrypted private key (real, password "pw")
    pub: Path
    instance: Path  # a seeded keyless instance
    log: Path  # a log directory with the seed LOG_SEED
    layout: Path  # an OCI layout with the tag v1
    file: Path  # an artifact
    predicate: Path  # a custom predicate
    digest: str  # of the image tagged v1

    @property
    def image(self) -> str:
        """The image in the layout by tag, as an IMAGE argument."""
        return f"oci:{self.layout}:v1"

    @property
    def image_by_digest(self) -> str:
        """The image in the layout by digest (signing by tag prints a warning)."""
        return f"oci:{self.layout}@{self.digest}"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A key pair, an instance, a log, an image, a file and a predicate."""
    root = tmp_path_factory.mktemp("cli-workspace")
    save_key_pair(generate("ecdsa-p256"), root / "cosign", password="pw", n=32768)
    Instance.create(root / "inst", seed="cli-tests").close()
    TransparencyLog.open(root / "log", lab=Lab(seed=LOG_SEED)).close()
    built = build_image(OCILayout.init(root / "oci"), {"hello.txt": "hi\n"}, tag="v1")
    (root / "file.txt").write_bytes(b"hello\n")
    (root / "pred.json").write_text('{"note": "hi"}')
    return Workspace(root, root / "cosign.key", root / "cosign.pub", root / "inst", root / "log", root / "oci",
                     root / "file.txt", root / "pred.json", str(built.digest))


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")


def _writable(directory: Path) -> bool:
    probe = directory / ".probe"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """An empty directory nobody can write into: mode 0555, or (as root, which ignores modes) immutable."""
    directory = tmp_path / "readonly"
    directory.mkdir()
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode == 0
    else:
        directory.chmod(0o555)
    try:
        if _writable(directory):
            pytest.skip("cannot make a read-only directory here (root without chattr +i support)")
        yield directory
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=False)
        with contextlib.suppress(OSError):
            directory.chmod(0o755)
