"""Notebook 12's built-in case and gallery: each variant fails at the step its one change breaks."""

from __future__ import annotations

from pathlib import Path

from labkit.analyst.case import analyse, read_case, whose_entry
from labkit.analyst.labcase import RELEASE_BOT, failure_cases, judge, make_failing_case


def test_failing_case_and_gallery(tmp_path: Path) -> None:
    instance, good = make_failing_case(tmp_path)
    with instance:
        case = analyse(read_case(tmp_path / "release.sigstore.json", tmp_path / "trusted_root.json",
                                 tmp_path / "release.tar", RELEASE_BOT, instance.issuer.url))
        assert case.result is not None and case.result.reason == "binding.digest"
        rows, sentence = whose_entry(case, instance.tlog.entries())
        assert [r[0] for r in rows] == [0, 1] and "entry 1" in sentence
        steps = {name: step for name, _, step, _ in judge(failure_cases(good, instance, tmp_path))}
    assert steps == {
        "nothing wrong": "-",
        "artifact changed after signing": "artifact.digest",
        "signature byte flipped": "signature",
        "inclusion proof root changed": "tlog.inclusion_proof",
        "verified with another lab's trusted root": "tlog.log_id",
        "expected another signer": "policy.identity",
    }
