"""`labkit tuf init|publish|rotate-root|status|root` and `labkit trust update` on a lab instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance


def test_tuf_commands_on_an_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    Instance.create(tmp_path / "inst", seed="tuf-cli").close()
    inst = ["--instance", str(tmp_path / "inst")]
    assert main(["tuf", "init", *inst]) == 0
    assert "LAB keys" in capsys.readouterr().out
    assert main(["tuf", "root", *inst, "-o", str(tmp_path / "root.json")]) == 0
    assert main(["tuf", "root", *inst, "-o", str(tmp_path / "root.json")]) != 0  # no overwrite without --force
    assert main(["tuf", "publish", *inst]) == 0
    assert "no target changed" in capsys.readouterr().out
    assert main(["tuf", "rotate-root", *inst, "--role", "timestamp"]) == 0
    assert main(["tuf", "status", *inst, "--json"]) == 0
    status = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert status["roles"]["root"]["version"] == 2 and status["lab"] is True
    monkeypatch.setenv("LABKIT_TUF_CACHE", str(tmp_path / "cache"))
    repo = str(tmp_path / "inst" / "tuf")
    assert main(["trust", "update", "--instance", repo, "--root", str(tmp_path / "root.json")]) == 0
    assert "root v2" in capsys.readouterr().out  # walked from the bootstrap root v1 to v2
    assert main(["trust", "update", "--instance", repo]) == 0
    history = list((tmp_path / "cache").glob("*/history/*.trusted_root.json"))
    assert len(history) == 1  # the unchanged root was recorded once
