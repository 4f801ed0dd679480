"""The troubleshooting catalogue: every case reproduces offline with its reason; `explain` finds cases by text."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main
from labkit.troubleshoot import CASES, explain, reproduce


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_reproduces_with_its_reason(case: object, tmp_path: Path) -> None:
    from labkit.troubleshoot import TroubleCase

    assert isinstance(case, TroubleCase)
    rep = reproduce(case, tmp_path)
    if case.labkit_reason.startswith("("):
        assert rep.result is None and rep.error
    else:
        assert rep.result is not None and rep.result.reason == case.labkit_reason, rep.text()
    assert case.upstream and case.fix and case.source


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_upstream_message_finds_its_case(case: object) -> None:
    from labkit.troubleshoot import TroubleCase

    assert isinstance(case, TroubleCase)
    for message in case.upstream:
        match = explain(message)
        assert match.exact and case in match.cases, message


def test_best_match_first() -> None:
    text = ('Error: none of the expected identities matched what was in the certificate, got subjects '
            '[https://github.com/smallstep/workflows/.github/workflows/goreleaser.yml@refs/heads/main]')
    assert explain(text).cases[0].id == "identity-reusable-workflow"
    assert explain("threshold not met for verified log entry integrated timestamps: 0 < 1").cases[0].id == \
        "timestamp-threshold"


def test_unknown_text_says_so_and_lists_closest() -> None:
    match = explain("the flux capacitor is misaligned")
    assert not match.exact and len(match.cases) == 3
    assert match.text().startswith("labkit does not recognise this error text")


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "Error: no signatures found"]) == 0
    assert "referrers-only" in capsys.readouterr().out
    assert main(["explain", "--reproduce", "no matching signatures"]) == 0
    out = capsys.readouterr().out
    assert "REJECTED (signature)" in out
    assert main(["explain", "zzz unknown"]) == 1
    assert "does not recognise" in capsys.readouterr().out
    assert main(["explain", "--list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(CASES)


def test_cases_name_the_vendored_data_they_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from labkit import troubleshoot

    needing = [c for c in CASES if c.needs]
    assert [c.id for c in needing] == ["timestamp-threshold"]
    assert all(troubleshoot.data_present(c) for c in CASES if not c.needs)
    monkeypatch.setattr(troubleshoot, "_vendor_case", lambda name: tmp_path / "absent" / name)
    assert not troubleshoot.data_present(needing[0])
    assert "not installed" in reproduce(needing[0], tmp_path).text()


def test_case_by_id() -> None:
    from labkit.errors import LabkitError
    from labkit.troubleshoot import case

    assert case("clock-skew").labkit_reason == "time.in_future"
    with pytest.raises(LabkitError, match="no troubleshooting case"):
        case("flux-capacitor")
