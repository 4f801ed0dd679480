from __future__ import annotations

import re

from labkit.attacks.matrix import matrix_frame, matrix_html, run_all, summary_frame


def test_matrix_frame_and_deterministic_html() -> None:
    ids = ["ghsa-whqx-blob", "bundle-copy", "split-view"]
    first = run_all(ids)
    frame = matrix_frame(first)
    assert list(frame.index) == ["ghsa-whqx-blob", "bundle-copy", "split-view"]
    assert frame.loc["bundle-copy", "labkit (this version)"] == "rejected (binding.signature)"
    assert (
        frame.loc["bundle-copy", "cosign < 1.5.2: Rekor bundle signature never compared with the one verified"]
        == "accepted"
    )
    assert frame["ok"].all()
    html = matrix_html(frame)
    assert html == matrix_html(matrix_frame(run_all(ids)))
    assert "id=" not in html
    summary = summary_frame(first)
    assert list(summary["labkit"]) == ["rejected (binding.digest)", "rejected (binding.signature)",
                                       "rejected (witness.split_view)"]


def test_matrix_html_fits_a_notebook_with_labkit_in_its_own_column() -> None:
    frame = matrix_frame(run_all(["ghsa-whqx-blob", "bundle-copy", "split-view"])).drop(columns=["title", "ok"])
    html = matrix_html(frame)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads == ["scenario", "#", "other verifiers (vulnerable and fixed)", "labkit (this version)",
                     "reproduces", "caught by"]
    assert "cosign &lt; 1.5.2: Rekor bundle signature never compared with the one verified: <b>accepted</b>" in html
    assert "max-width:100%" in html and "var(--jp-" in html
