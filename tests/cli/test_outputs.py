"""Every command that writes a file or a directory the user named: refusals, --force, OS errors.

Issue 12 items 9 and 10. One table of writing commands; each is run against an existing output (refused
without --force, replaced with it) and against paths that cannot be written (a read-only directory, a path
that is a directory, a parent that is missing under a read-only directory or that is a file): exit 1, one
``error:`` line on stderr, no traceback, nothing half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.cli import main
from tests.cli.conftest import LOG_SEED, Workspace
from tests.conftest import ROOT

Argv = Callable[[Workspace, str], list[str]]


@dataclass(frozen=True)
class Writer:
    """A command writing `suffix`-ed path it is given; `kind` is "file" or "dir"; `blocks` if it serves on success."""

    id: str
    argv: Argv
    kind: str = "file"
    suffix: str = ""
    blocks: bool = False


FILE_WRITERS = [
    Writer("generate-key-pair", lambda w, o: ["generate-key-pair", "--output-key-prefix", o], suffix=".key"),
    Writer("public-key", lambda w, o: ["public-key", "--key", str(w.key), "--outfile", o]),
    Writer("sign-blob --bundle", lambda w, o: ["sign-blob", "--key", str(w.key), "--tlog-upload=false",
                                               "--bundle", o, str(w.file)]),
    Writer("sign-blob --output-signature", lambda w, o: ["sign-blob", "--key", str(w.key), "--tlog-upload=false",
                                                         "--output-signature", o, str(w.file)]),
    Writer("sign-blob keyless --bundle", lambda w, o: ["sign-blob", "--instance", str(w.instance), "--identity",
                                                       "alice@example.com", "--bundle", o, str(w.file)]),
    Writer("attest-blob --bundle", lambda w, o: ["attest-blob", "--instance", str(w.instance), "--type", "custom",
                                                 "--predicate", str(w.predicate), "--key", str(w.key),
                                                 "--bundle", o, str(w.file)]),
    Writer("tree --svg", lambda w, o: ["tree", "--svg", o, w.image]),
    Writer("log trusted-root -o", lambda w, o: ["log", "trusted-root", "--dir", str(w.log), "--seed", LOG_SEED,
                                                "-o", o]),
    Writer("trusted-root -o", lambda w, o: ["trusted-root", "--instance", str(w.instance), "-o", o]),
    Writer("serve --trust-config", lambda w, o: ["serve", "--instance", str(w.instance), "--trust-config", o],
           blocks=True),
]

DIR_WRITERS = [
    Writer("init", lambda w, o: ["init", o, "--seed", "x"], kind="dir"),
    Writer("image build --layout", lambda w, o: ["image", "build", "--layout", o, "--tag", "v1",
                                                 "--file", str(w.file)], kind="dir"),
    Writer("image copy", lambda w, o: ["image", "copy", w.image, f"oci:{o}:v1"], kind="dir"),
    Writer("sign --tlog-dir", lambda w, o: ["sign", "--key", str(w.key), "--tlog-dir", o, w.image_by_digest],
           kind="dir"),
    Writer("demo --dir", lambda w, o: ["demo", "--dir", o], kind="dir"),
    Writer("log serve --dir", lambda w, o: ["log", "serve", "--dir", o, "--port", "0"], kind="dir", blocks=True),
]


def _run(writer: Writer, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr; a command that serves on success runs in a child with a deadline, never hangs."""
    if not writer.blocks:
        capsys.readouterr()
        rc = main(argv)
        return rc, capsys.readouterr().err
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run([sys.executable, "-m", "labkit.cli", *argv], capture_output=True, text=True,
                              timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{writer.id} went on serving instead of refusing")
    return done.returncode, done.stderr


def _unwritable_path(case: str, writer: Writer, readonly: Path, tmp: Path) -> str:
    """The path to give `writer` so that its output cannot be written, for each kind of failure."""
    if case == "read-only directory":
        return str(readonly / "out")
    if case == "missing parent":
        return str(readonly / "missing" / "out")
    if case == "parent is a file":
        (tmp / "afile").write_bytes(b"x")
        return str(tmp / "afile" / "out")
    assert case == "path is taken"
    if writer.kind == "file":
        (tmp / f"taken{writer.suffix}").mkdir()  # the file to write is a directory
    else:
        (tmp / "taken").write_bytes(b"x")  # the directory to create is a file
    return str(tmp / "taken")


@pytest.mark.parametrize("case", ["read-only directory", "path is taken", "missing parent", "parent is a file"])
@pytest.mark.parametrize("writer", FILE_WRITERS + DIR_WRITERS, ids=lambda w: w.id)
def test_unwritable_output_is_one_error_line(writer: Writer, case: str, workspace: Workspace, readonly_dir: Path,
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _unwritable_path(case, writer, readonly_dir, tmp_path)
    rc, err = _run(writer, writer.argv(workspace, target), capsys)
    # One error line; a LAB notice (the workspace log is seeded) may come before it.
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("WARNING: LAB")]
    assert rc != 0
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert list(readonly_dir.iterdir()) == []  # no temporary file left behind


@pytest.mark.parametrize("writer", FILE_WRITERS, ids=lambda w: w.id)
def test_existing_output_is_refused_without_force(writer: Writer, workspace: Workspace, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    existing = target.with_name(target.name + writer.suffix)
    existing.write_bytes(b"precious\n")
    rc, err = _run(writer, writer.argv(workspace, str(target)), capsys)
    assert rc == 1
    assert "already exists; refusing to overwrite" in err and "Traceback" not in err
    assert existing.read_bytes() == b"precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing.name]  # nothing else written (no half pair)


@pytest.mark.parametrize("writer", [w for w in FILE_WRITERS if not w.blocks], ids=lambda w: w.id)
def test_force_replaces_the_existing_output(writer: Writer, workspace: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "out"
    existing = target.with_name(target.name + writer.suffix)
    existing.write_bytes(b"precious\n")
    assert main([*writer.argv(workspace, str(target)), "--force"]) == 0
    assert existing.read_bytes() != b"precious\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary or backup left


def test_public_key_never_replaces_the_private_key(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    before = workspace.key.read_bytes()
    assert main(["public-key", "--key", str(workspace.key), "--outfile", str(workspace.key)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert workspace.key.read_bytes() == before


def test_sign_blob_refuses_before_logging(workspace: Workspace, tmp_path: Path) -> None:
    """An existing --bundle is refused before a log entry is made for a signature that would be thrown away."""
    from labkit.keyless.instance import Instance

    bundle = tmp_path / "b.json"
    bundle.write_bytes(b"{}")
    with Instance.open(workspace.instance) as inst:
        size = inst.tlog.size
    assert main(["sign-blob", "--instance", str(workspace.instance), "--identity", "alice@example.com",
                 "--bundle", str(bundle), str(workspace.file)]) == 1
    with Instance.open(workspace.instance) as inst:
        assert inst.tlog.size == size


def test_generate_key_pair_force_never_leaves_half_a_pair(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "k"
    assert main(["generate-key-pair", "--output-key-prefix", str(prefix)]) == 0
    old_key = (tmp_path / "k.key").read_bytes()
    (tmp_path / "k.pub").unlink()
    (tmp_path / "k.pub").mkdir()  # the second file cannot be written
    assert main(["generate-key-pair", "--output-key-prefix", str(prefix), "--force"]) == 1
    assert "k.pub" in capsys.readouterr().err
    assert (tmp_path / "k.key").read_bytes() == old_key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key", "k.pub"]


def test_demo_refuses_a_directory_with_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cosign.key").write_bytes(b"a user's key\n")
    assert main(["demo", "--dir", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "cosign.key").read_bytes() == b"a user's key\n"
