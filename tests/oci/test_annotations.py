"""Issue 12 item 1: required annotations (``-a``) are checked on every signature format."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.checks import CheckResult
from labkit.cli import main
from labkit.keyfile import save_key_pair
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.annotations import check_annotations, signed_statement, statement_annotations
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.payloads import Statement, Subject

HEX = "ab" * 32


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A layout image signed with ``--new-bundle-format -a env=staging`` (legacy .sig and bundle referrer)."""
    lab = Lab(seed="annotations")
    save_key_pair(generate(lab=lab, label="cosign"), tmp_path / "cosign", password="pw", allow_lab=True, lab=lab)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    built = build_image(OCILayout.init(tmp_path / "L"), {"app.py": b"print(1)\n"}, tag="v1")
    image = f"oci:{tmp_path / 'L'}@{built.digest}"
    assert main(["sign", "--key", str(tmp_path / "cosign.key"), "--tlog-upload=false", "--new-bundle-format",
                 "-a", "env=staging", image]) == 0
    capsys.readouterr()
    return tmp_path / "cosign.pub", image


@pytest.mark.parametrize("extra", [[], ["--require-bundle-format"]])
def test_wrong_annotation_fails_for_bundle_and_legacy(signed: tuple[Path, str], extra: list[str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    pub, image = signed
    argv = ["verify", "--key", str(pub), "--insecure-ignore-tlog", *extra]
    assert main([*argv, "-a", "env=prod", image]) == 1
    err = capsys.readouterr().err
    assert "payload.annotation.env" in err and "Traceback" not in err
    assert main([*argv, "-a", "other=x", image]) == 1
    assert "payload.annotation.other" in capsys.readouterr().err
    assert main([*argv, "-a", "env=staging", image]) == 0


def test_bundle_statement_signs_the_annotations(signed: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    pub, image = signed
    assert main(["verify", "--key", str(pub), "--insecure-ignore-tlog", "--require-bundle-format", "--steps",
                 "-a", "env=staging", image]) == 0
    out = capsys.readouterr().out
    assert "[bundle sha256:" in out and "payload.annotation.env" in out


def test_one_check_function() -> None:
    res = CheckResult("x")
    assert check_annotations(res, {"a": "1", "b": "2"}, {"a": "1", "b": "2", "c": "3"}, source="s")
    assert [s.id for s in res.steps] == ["payload.annotation.a", "payload.annotation.b"]
    res = CheckResult("x")
    assert not check_annotations(res, {"a": "1"}, {"a": 1}, source="s")  # a number is not the string "1"
    assert res.failed_step is not None and res.failed_step.actual == "1"
    assert not check_annotations(CheckResult("x"), {"a": "1"}, None, source="s")
    assert check_annotations(CheckResult("x"), {}, None, source="s")


def test_statement_annotations_round_trip() -> None:
    st = Statement([Subject("repo", {"sha256": HEX})], "https://example.com/p", {})
    assert signed_statement(st, None) == st.to_json()  # unchanged bytes without annotations
    data = signed_statement(st, {"z": "1", "a": "2"})
    assert statement_annotations(data, f"sha256:{HEX}") == {"a": "2", "z": "1"}
    assert statement_annotations(data, "sha256:" + "cd" * 32) is None
    assert statement_annotations(st.to_json(), f"sha256:{HEX}") is None
