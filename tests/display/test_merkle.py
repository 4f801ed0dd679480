"""Deterministic tree SVG, inclusion walk and checkpoint view."""

from __future__ import annotations

import xml.dom.minidom

import pytest

from labkit._internal.theme import PURPLE, WARN, tint
from labkit.display.merkle import checkpoint_view, inclusion_walk, tree_svg
from labkit.errors import LogError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, sign_note

LEAVES = [merkle.leaf_hash(b"%d" % i) for i in range(11)]


def _svg(markup: str) -> str:
    return markup.split(">", 1)[1].rsplit("</div>", 1)[0]


def test_tree_svg_is_deterministic_and_highlights_the_path() -> None:
    a = tree_svg(LEAVES, size=7, leaf_index=4)
    b = tree_svg(list(LEAVES), size=7, leaf_index=4)
    assert a.html == b.html
    xml.dom.minidom.parseString(_svg(a.html))
    tree = merkle.MemoryTree(LEAVES[:7])
    for h in tree.inclusion_proof(4, 7):
        assert h.hex()[:8] in a.html
    assert tree.root().hex()[:8] in a.html
    assert a.html.count(f"fill:{tint(WARN, 28)};") == 3 + 1  # three audit-path nodes and the legend swatch
    assert "audit path of 3 hashes" in a.text


def test_consistency_picture() -> None:
    pic = tree_svg(LEAVES, size=11, consistency_from=6)
    xml.dom.minidom.parseString(_svg(pic.html))
    n = len(merkle.MemoryTree(LEAVES).consistency_proof(6, 11))
    assert pic.html.count(f"fill:{tint(PURPLE, 28)};") == n + 1
    assert f"{n} hashes" in pic.text


def test_tree_svg_refuses_bad_input() -> None:
    with pytest.raises(LogError):
        tree_svg(LEAVES, size=12)
    with pytest.raises(LogError):
        tree_svg(LEAVES, size=4, leaf_index=4)
    with pytest.raises(LogError, match="too wide"):
        tree_svg([LEAVES[0]] * 65)


def test_inclusion_walk_table() -> None:
    tree = merkle.MemoryTree(LEAVES)
    proof = tree.inclusion_proof(6, 11)
    good = inclusion_walk(6, 11, LEAVES[6], proof, tree.root())
    assert "matches the expected root" in good.html and good.text.count("\n") == len(proof) + 2
    bad = inclusion_walk(6, 11, LEAVES[5], proof, tree.root())
    assert "DOES NOT match" in bad.html
    short = inclusion_walk(6, 11, LEAVES[6], proof[:-1], tree.root())
    assert "too few" in short.html


def test_checkpoint_view() -> None:
    key = generate("ecdsa-p256", lab=Lab(seed="d"), label="log")
    note = sign_note(Checkpoint("labkit.local - 9", 3, LEAVES[0]), "labkit.local", key)
    view = checkpoint_view(note.to_text())
    assert "labkit.local - 9" in view.html and "key hint " + key.public_key().key_id()[:4].hex() in view.html
    assert view.html == checkpoint_view(note).html
