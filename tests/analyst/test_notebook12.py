"""Notebook 12 runs to the end on any input: a malformed bundle, no artifact, someone else's attestation."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.analyst.conftest import PEP740

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "12-reproduce-a-verification-failure.ipynb"


def _run(tmp_path: Path, params: str) -> nbformat.NotebookNode:
    nb: nbformat.NotebookNode = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + params
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            out.append(str(data.get("text/markdown", "")) + str(data.get("text/plain", "")) + str(o.get("text", "")))
    return "\n".join(out)


@pytest.mark.parametrize("params, expect", [
    ("BUNDLE = {bad!r}\nARTIFACT = None", "rejected at `bundle.parse`"),
    ("BUNDLE = {pep!r}\nARTIFACT = None\nIDENTITY = 'x'\nISSUER = 'y'", "rejected at `artifact.digest`"),
    ("BUNDLE = {pep!r}\nARTIFACT = {tar!r}", "rejected at `material.signer`"),
])
def test_runs_to_the_end(tmp_path: Path, params: str, expect: str) -> None:
    bad = tmp_path / "bad.sigstore.json"
    bad.write_text('{"mediaType": 1')
    nb = _run(tmp_path, params.format(bad=str(bad), pep=str(PEP740 / "pypi_attestations-0.0.19.tar.gz.provenance"),
                                      tar=str(PEP740 / "pypi_attestations-0.0.19.tar.gz")))
    text = _text(nb)
    assert expect in text and "release-bot" not in text
