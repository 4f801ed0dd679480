"""One palette (labkit/_internal/theme.py) for every renderer; hashes shorten with the full value kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labkit._internal.theme import BG, FG, hash_spans, short_hash
from labkit.checks import CheckResult, Step, StepStatus
from labkit.display import checklist, failure_card, hexdump, json_view, key_summary, table
from labkit.display.merkle import inclusion_walk, tree_svg
from labkit.display.widgets import merkle_explorer
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog import merkle

ROOT = Path(__file__).resolve().parents[2]
#: The modules that draw HTML or SVG; none of them may spell a colour itself.
RENDERERS = [
    *sorted((ROOT / "labkit" / "display").glob("*.py")),
    ROOT / "labkit" / "_internal" / "checklist_html.py",
    ROOT / "labkit" / "attacks" / "matrix.py",
]
LITERAL_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\b(?:white|black)\b(?=[;\"'])")
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("path", [p for p in RENDERERS if p.name != "theme.py"], ids=lambda p: p.name)
def test_renderers_spell_no_colour_of_their_own(path: Path) -> None:
    literal = [line.strip() for line in path.read_text().splitlines() if LITERAL_COLOUR.search(line)]
    assert not literal, f"{path.name}: colours belong in labkit/_internal/theme.py:\n" + "\n".join(literal)


def test_the_palette_is_jupyterlab_variables_with_light_fallbacks() -> None:
    assert BG == "var(--jp-layout-color1, #fff)"
    assert FG.startswith("var(--jp-content-font-color1, ")


def _steps() -> CheckResult:
    return CheckResult("", [
        Step("artifact.digest", "artifact digest matches", "protobuf-specs", StepStatus.PASSED,
             expected=DIGEST, actual=DIGEST),
        Step("tlog.inclusion_proof", "the proof leads to the root", "RFC 9162", StepStatus.FAILED,
             detail="the roots differ", expected="root " + "cd" * 32, actual="root " + "ef" * 32),
    ])


def test_outputs_follow_the_theme() -> None:
    key = generate("ed25519", lab=Lab(seed="theme"))
    for out in (hexdump(b"abc", highlight=[(0, 1)]), json_view({"a": 1}), key_summary(key),
                table([("a", "b")], headers=("x", "y")), checklist(_steps()), failure_card(_steps())):
        assert "var(--jp-" in out.html, out.html[:200]
    svg = tree_svg([merkle.leaf_hash(b"%d" % i) for i in range(5)], leaf_index=2).html
    assert f"fill:{BG}" in svg and f"fill:{FG}" in svg


def test_short_hash_shows_a_prefix_and_keeps_the_whole_value() -> None:
    span = short_hash(DIGEST)
    assert f'title="{DIGEST}"' in span and f">{DIGEST}</span>" in span  # hover shows it, copy copies it
    assert "user-select:all" in span and "text-overflow:ellipsis" in span and "max-width:20ch" in span
    assert short_hash(DIGEST) == span
    assert "max-width:9ch" in short_hash("ab" * 32, keep=8)


def test_hash_spans_finds_hashes_in_text_and_leaves_the_rest() -> None:
    text = f"expected {DIGEST}, key id {'0f' * 32}; short 0123abcd stays"
    out = hash_spans(text)
    assert out.count('class="labkit-hash"') == 2 and "short 0123abcd stays" in out
    assert hash_spans("no hashes here") == "no hashes here"


def test_tables_checklists_and_walks_shorten_their_hashes() -> None:
    key = generate("ed25519", lab=Lab(seed="theme"))
    assert f'title="{key.public_key().key_id().hex()}"' in key_summary(key).html
    html = checklist(_steps()).html
    assert html.count('class="labkit-hash"') == 4 and f'title="{DIGEST}"' in html
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(6)]
    tree = merkle.MemoryTree(leaves)
    walk = inclusion_walk(2, 6, leaves[2], tree.inclusion_proof(2, 6), tree.root()).html
    assert f'title="{tree.root().hex()}"' in walk


def test_checklist_step_ids_never_wrap_and_values_break_only_when_needed() -> None:
    html = checklist(_steps()).html
    cell = re.search(r'<td style="([^"]*)">artifact\.digest</td>', html)
    assert cell is not None and "white-space:nowrap" in cell.group(1)
    assert "word-break:break-all" not in html and "overflow-wrap:anywhere" in html


def test_the_explorer_tree_fits_its_output() -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(32)]
    fitted, natural = tree_svg(leaves, leaf_index=20, fit=True).html, tree_svg(leaves, leaf_index=20).html
    assert 'style="max-width:100%;height:auto"' in fitted and "overflow-x:auto" not in fitted
    assert "max-width:100%;height:auto" not in natural and "overflow-x:auto" in natural


def test_the_merkle_explorer_draws_the_fitted_tree() -> None:
    pytest.importorskip("ipywidgets")
    box = merkle_explorer([merkle.leaf_hash(b"%d" % i) for i in range(32)], size=32, leaf=20)
    assert 'style="max-width:100%;height:auto"' in box.children[2].value
