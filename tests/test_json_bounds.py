"""Issue 12 item 11: JSON (and YAML) from a user file or a request is bounded; deep nesting is one labkit error.

Every reader here used to recurse into a RecursionError (a traceback, or a 500 from a server).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.attest.predicates import make_predicate
from labkit.cli import main
from labkit.errors import AttestationError, KeylessError, LabkitError
from labkit.keyless.oidc import decode_unverified

DEEP = b"[" * 5000 + b"]" * 5000


def _token(claims: bytes) -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return ".".join([part(b'{"alg":"EdDSA"}'), part(claims), part(b"sig")])


# The log's entry bodies and DSSE envelopes (labkit.tlog.entries) are bounded the same way; their tests live with
# the protojson work (issue 12 item 24).
@pytest.mark.parametrize(("read", "error"), [
    (lambda: decode_unverified(_token(b'{"a":' + DEEP + b"}")), KeylessError),
    (lambda: make_predicate("slsaprovenance1", b'{"a":' + DEEP + b"}"), AttestationError),
], ids=["token-claims", "predicate"])
def test_deep_nesting_is_a_labkit_error(read: Callable[[], object], error: type[LabkitError]) -> None:
    with pytest.raises(error, match="nested more than"):
        read()


@pytest.mark.parametrize(("name", "content"), [
    ("deep.json", DEEP),
    ("deep.yaml", b"files: " + DEEP),
    ("alias.yaml", b"a: &x [1]\nb: *x\n"),
], ids=["json", "yaml", "yaml-alias"])
def test_image_build_spec_is_bounded(name: str, content: bytes, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / name).write_bytes(content)
    assert main(["image", "build", "--layout", str(tmp_path / "oci"), "--tag", "v1",
                 "--spec", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: image spec") and "Traceback" not in err


def test_image_build_spec_in_yaml_flow_style_still_builds(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("{files: {hello.txt: hi}}\n")
    assert main(["image", "build", "--layout", str(tmp_path / "oci"), "--tag", "v1",
                 "--spec", str(tmp_path / "spec.yaml")]) == 0


def test_image_build_cmd_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["image", "build", "--layout", str(tmp_path / "oci"), "--tag", "v1", "--file", str(tmp_path / "f"),
                 "--cmd", DEEP.decode()]) == 1
    assert "nested more than" in capsys.readouterr().err


def test_attest_predicate_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from labkit.keyless.instance import Instance

    Instance.create(tmp_path / "inst", seed="bounds").close()
    (tmp_path / "pred.json").write_bytes(b'{"a":' + DEEP + b"}")
    assert main(["attest", "--instance", str(tmp_path / "inst"), "--type", "slsaprovenance1", "--predicate",
                 str(tmp_path / "pred.json"), "--identity", "a@example.com", "oci:" + str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "nested more than" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["log", "get", "--dir", "D", "--index", "9223372036854775808"],
    ["log", "proof", "--dir", "D", "--first", "-1"],
    ["log", "proof", "--dir", "D", "--index", "1" * 30],
])  # token --expires-in uses the same helper (bounded_int), tested with the keyless CLI
def test_out_of_range_integers_are_usage_errors(argv: list[str], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / "log") if a == "D" else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "out of range" in err and "Traceback" not in err
    assert not (tmp_path / "log").exists()  # refused before anything was opened or created
