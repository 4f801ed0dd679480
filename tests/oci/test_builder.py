"""The reproducible lab image builder."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from labkit.errors import InputError
from labkit.oci.builder import LAB_EPOCH, build_from_dict, build_image, files_from_directory, make_layer
from labkit.oci.layout import OCILayout


def test_same_input_same_digest(tmp_path: Path) -> None:
    a = build_image(OCILayout.init(tmp_path / "a"), {"b.txt": "2", "a/x.txt": b"1"}, tag="v1")
    b = build_image(OCILayout.init(tmp_path / "b"), {"a/x.txt": b"1", "b.txt": "2"}, tag="v1")
    assert a.digest == b.digest
    assert a.manifest_bytes == b.manifest_bytes
    c = build_image(OCILayout.init(tmp_path / "c"), {"a/x.txt": b"1", "b.txt": "3"}, tag="v1")
    assert c.digest != a.digest


def test_layer_contents_are_fixed() -> None:
    blob, diff_id = make_layer({"z.txt": "z", "dir/a.txt": "a"})
    assert blob[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    raw = gzip.decompress(blob)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["dir", "dir/a.txt", "z.txt"]
        assert {m.mtime for m in members} == {LAB_EPOCH}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        assert members[0].isdir() and members[0].mode == 0o755 and members[1].mode == 0o644
    import hashlib

    assert diff_id.hex == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "", "."])
def test_paths_must_stay_inside(name: str) -> None:
    with pytest.raises(InputError):
        make_layer({name: "x"})


def test_file_and_dir_clash() -> None:
    with pytest.raises(InputError, match="both a file and a directory"):
        make_layer({"a": "1", "a/b": "2"})
    with pytest.raises(InputError, match="bytes or str"):
        make_layer({"a": 3})  # type: ignore[dict-item]


def test_config_and_layers(tmp_path: Path) -> None:
    store = OCILayout.init(tmp_path)
    img = build_image(store, layers=[{"a": "1"}, {"b": "2"}], config={"Env": ["A=1"], "Cmd": ["/a"]}, tag="v1")
    assert len(img.layers) == 2
    config = json.loads(store.get_blob(img.manifest.config.digest))
    assert config["config"] == {"Env": ["A=1"], "Cmd": ["/a"]}
    assert len(config["rootfs"]["diff_ids"]) == 2
    assert config["os"] == "linux" and config["architecture"] == "amd64"


def test_from_dict_and_directory(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f.txt").write_text("f")
    files = files_from_directory(src)
    assert files == {"sub/f.txt": b"f"}
    store = OCILayout.init(tmp_path / "l")
    a = build_from_dict(store, {"tag": "v1", "files": files, "config": {"Cmd": ["x"]}})
    b = build_image(store, files, config={"Cmd": ["x"]})
    assert a.digest == b.digest
    with pytest.raises(InputError, match="unknown keys"):
        build_from_dict(store, {"tag": "v1", "bogus": 1})
    with pytest.raises(InputError, match="layers"):
        build_from_dict(store, {"layers": "nope"})
