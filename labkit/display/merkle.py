"""Deterministic pictures of a Merkle tree, an inclusion walk and a checkpoint.

`tree_svg` draws the RFC 6962 tree of the first `size` leaves, with the
chosen leaf, its audit path (the proof's hashes) and the nodes the verifier
recomputes up to the root highlighted; or, with ``consistency_from``, the
nodes of a consistency proof. `inclusion_walk` tabulates the RFC 9162
§2.1.3.2 loop step by step. `checkpoint_view` annotates a signed checkpoint
line by line. Same input, same bytes: no ids, no timestamps.
"""

from __future__ import annotations

import base64
import html as _html
from collections.abc import Sequence

from labkit._internal.theme import BG, BRAND, FG, LINE, MUTED, PURPLE, SUCCESS, WARN, tint
from labkit.display.html import HTML, table
from labkit.errors import LabkitError, LogError
from labkit.tlog import merkle
from labkit.tlog.checkpoint import SignedNote

__all__ = ["checkpoint_view", "inclusion_walk", "tree_svg"]

#: Trees wider than this are not drawn (the picture would be unreadable).
_MAX_LEAVES = 64

_DX, _DY, _W, _H, _TOP, _MARGIN = 64, 58, 58, 22, 28, 12
#: (fill, stroke) per kind of node: translucent tints over the page, text in the page's foreground.
_STYLE = {
    "plain": (tint(FG, 4), LINE),
    "leaf": (tint(SUCCESS, 28), SUCCESS),
    "audit": (tint(WARN, 28), WARN),
    "path": (tint(BRAND, 20), BRAND),
    "root": (tint(BRAND, 40), BRAND),
    "consistency": (tint(PURPLE, 28), PURPLE),
    "old": (tint(FG, 4), PURPLE),
}
_LEGEND = {
    "leaf": "the leaf",
    "audit": "audit path (the proof's hashes)",
    "path": "recomputed by the verifier",
    "root": "root (compare with the checkpoint)",
    "consistency": "consistency proof hashes",
    "old": "old tree (dashed)",
}


#: The picture shrinks with its box (keeping its proportions), never grows past its natural size.
_FIT = ' style="max-width:100%;height:auto"'


def _esc(value: str) -> str:
    return _html.escape(str(value), quote=True)


def _height(n: int) -> int:
    return (n - 1).bit_length()


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_ranges(index: int, size: int) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(audit-path subtrees, subtrees on the leaf's path to the root) as (start, end) ranges."""
    audit: set[tuple[int, int]] = set()
    path: set[tuple[int, int]] = {(0, size)}
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            audit.add((start + k, end))
            end = start + k
        else:
            audit.add((start, start + k))
            start = start + k
        path.add((start, end))
    return audit, path


def _consistency_ranges(size1: int, size2: int) -> set[tuple[int, int]]:
    """The subtrees a consistency proof from `size1` to `size2` carries (RFC 6962 §2.1.2 SUBPROOF)."""
    out: set[tuple[int, int]] = set()
    if size1 <= 0 or size1 >= size2:
        return out
    start, end, m, complete = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                out.add((start, end))
            break
        k = _split(n)
        if m <= k:
            out.add((start + k, end))
            end = start + k
        else:
            out.add((start, start + k))
            start, m, complete = start + k, m - k, False
    return out


def _old_ranges(size1: int) -> set[tuple[int, int]]:
    """The maximal perfect subtrees that make up the old tree of `size1` leaves."""
    out, start = set(), 0
    while start < size1:
        k = 1 << ((size1 - start).bit_length() - 1)
        out.add((start, start + k))
        start += k
    return out


def tree_svg(
    leaves: Sequence[bytes],
    *,
    size: int | None = None,
    leaf_index: int | None = None,
    consistency_from: int | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    fit: bool = False,
) -> HTML:
    """The tree over the first `size` leaf hashes as an SVG figure.

    With `leaf_index`: the leaf, its audit path and the recomputed nodes up
    to the root. With `consistency_from`: the old tree's perfect subtrees
    (dashed) and the consistency proof's nodes. `labels` names the leaves.
    A tree wider than its output scrolls in its own box; with `fit` it shrinks to the output's width
    instead (the explorer: the whole shape in view, each hash in full on hover).
    """
    size = len(leaves) if size is None else size
    if size < 1 or size > len(leaves):
        raise LogError(f"tree size {size} is outside 1..{len(leaves)}")
    if size > _MAX_LEAVES:
        raise LogError(f"a tree of {size} leaves is too wide to draw; draw at most {_MAX_LEAVES}")
    if leaf_index is not None and not 0 <= leaf_index < size:
        raise LogError(f"leaf index {leaf_index} is outside 0..{size - 1}")
    tree = merkle.MemoryTree(leaves[:size])
    audit: set[tuple[int, int]] = set()
    path: set[tuple[int, int]] = set()
    if leaf_index is not None:
        audit, path = _inclusion_ranges(leaf_index, size)
    cons = _consistency_ranges(consistency_from, size) if consistency_from else set()
    old = _old_ranges(consistency_from) if consistency_from and consistency_from < size else set()

    levels = _height(size)
    width = 2 * _MARGIN + size * _DX
    legend_y = _TOP + levels * _DY + _H + 34
    nodes: list[tuple[int, int, float, int]] = []  # (start, end, x, y)
    edges: list[tuple[float, int, float, int, bool]] = []

    def place(start: int, end: int) -> float:
        y = _TOP + (levels - _height(end - start)) * _DY
        if end - start == 1:
            x = float(_MARGIN + start * _DX + _DX // 2)
        else:
            k = _split(end - start)
            xl, xr = place(start, start + k), place(start + k, end)
            x = (xl + xr) / 2
            child_y = [_TOP + (levels - _height(k)) * _DY, _TOP + (levels - _height(end - start - k)) * _DY]
            on_path = (start, end) in path
            edges.append((x, y, xl, child_y[0], on_path and (start, start + k) in path))
            edges.append((x, y, xr, child_y[1], on_path and (start + k, end) in path))
        nodes.append((start, end, x, y))
        return x

    place(0, size)
    out: list[str] = []
    if title:
        out.append(
            f'<text x="{_MARGIN}" y="16" font-family="sans-serif" font-size="12" '
            f'font-weight="bold" style="fill:{FG}">{_esc(title)}</text>'
        )
    for x1, y1, x2, y2, hot in edges:
        color, w = (BRAND, 2.5) if hot else (LINE, 1)
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1 + _H}" x2="{x2:.1f}" y2="{y2}" style="stroke:{color}" stroke-width="{w}"/>'
        )
    used: set[str] = set()
    for start, end, x, y in sorted(nodes, key=lambda n: (n[3], n[0])):
        rng = (start, end)
        kind = "plain"
        if rng in cons:
            kind = "consistency"
        elif rng in old:
            kind = "old"
        if rng in audit:
            kind = "audit"
        elif rng in path:
            kind = "root" if rng == (0, size) else ("leaf" if end - start == 1 else "path")
        used.add(kind)
        fill, stroke = _STYLE[kind]
        dash = ' stroke-dasharray="4 2"' if kind == "old" or (rng in old and kind != "consistency") else ""
        full = merkle.subtree_root(tree, start, end).hex()
        out.append(
            f'<rect x="{x - _W / 2:.1f}" y="{y}" width="{_W}" height="{_H}" rx="4" style="fill:{fill};stroke:{stroke}" '
            f'stroke-width="{2 if kind != "plain" else 1}"{dash}/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{y + 15}" text-anchor="middle" style="fill:{FG}">'
            f"{full[:8]}<title>{full}</title></text>"
        )
        if end - start == 1:
            name = labels[start] if labels is not None and start < len(labels) else f"#{start}"
            out.append(
                f'<text x="{x:.1f}" y="{y + _H + 13}" text-anchor="middle" style="fill:{MUTED}">{_esc(name)}</text>'
            )
    lx, ly = _MARGIN, legend_y
    for kind in ("leaf", "audit", "path", "root", "consistency", "old"):
        if kind not in used:
            continue
        fill, stroke = _STYLE[kind]
        label = _LEGEND[kind]
        item_width = 24 + 6 * len(label)
        if lx > _MARGIN and lx + item_width > width:
            lx, ly = _MARGIN, ly + 22
        dash = ' stroke-dasharray="4 2"' if kind == "old" else ""
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" style="fill:{fill};stroke:{stroke}"{dash}/>')
        out.append(
            f'<text x="{lx + 16}" y="{ly + 10}" font-family="sans-serif" style="fill:{FG}">{_esc(label)}</text>'
        )
        lx += item_width
    height = ly + 22
    out.insert(0, f'<rect x="0" y="0" width="{width}" height="{height}" style="fill:{BG}"/>')
    out.insert(0, f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}" font-family="ui-monospace,Menlo,Consolas,monospace" font-size="10"'
                  f'{_FIT if fit else ""}>')
    out.append("</svg>")
    svg = "\n".join(out)
    text = f"Merkle tree of {size} leaves, root {tree.root().hex()}"
    if leaf_index is not None:
        text += f"; leaf {leaf_index}, audit path of {len(audit)} hashes"
    if consistency_from:
        text += f"; consistency proof from {consistency_from}: {len(cons)} hashes"
    return HTML(f'<div style="{"max-width:100%" if fit else "overflow-x:auto"}">{svg}</div>', text)


def inclusion_walk(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes | None = None) -> HTML:
    """The RFC 9162 §2.1.3.2 loop as a table: fn, sn, the sibling's side, the hash after each step."""
    trace: list[merkle.TraceStep] = []
    error = ""
    try:
        calculated = merkle.root_from_inclusion_proof(index, size, leaf, proof, trace=trace)
    except LabkitError as exc:
        calculated, error = b"", exc.message
    rows = [["start", f"fn={index}", f"sn={size - 1}", "", "r = leaf hash", leaf.hex()]]
    for s in trace:
        rule = "r = H(0x01 ‖ p ‖ r)" if s.side == "left" else "r = H(0x01 ‖ r ‖ p)"
        rows.append([str(s.step), f"fn={s.fn} ({s.fn:b})", f"sn={s.sn} ({s.sn:b})", s.proof_hash.hex(),
                     f"sibling on the {s.side}: {rule}", s.result.hex()])
    if error:
        rows.append(["end", "", "", "", "rejected", error])
    elif root is not None:
        verdict = "matches the expected root" if calculated == root else f"DOES NOT match {root.hex()}"
        rows.append(["end", "", "sn=0", "", f"calculated root {verdict}", calculated.hex()])
    return table(rows, headers=["step", "fn", "sn", "proof hash p", "rule", "r after"], monospace=(1, 2, 3, 5),
                 title=f"RFC 9162 §2.1.3.2 inclusion check: leaf {index} of {size}")


def checkpoint_view(note: str | SignedNote, *, title: str | None = None) -> HTML:
    """A signed checkpoint, line by line, with what each line means."""
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    ck = parsed.checkpoint()
    rows = [
        ["1", ck.origin, "origin: which log (Rekor v1: \"<host> - <tree ID>\")"],
        ["2", str(ck.size), "tree size: number of entries"],
        ["3", base64.b64encode(ck.root_hash).decode(), f"root hash, base64 (hex {ck.root_hash.hex()})"],
    ]
    for i, ext in enumerate(ck.extensions, start=4):
        rows.append([str(i), ext, "extension line"])
    rows.append(["", "", "blank line: the signed text ends here"])
    for s in parsed.signatures:
        line = s.line()
        shown = line if len(line) <= 60 else line[:59] + "…"
        rows.append(["sig", shown,
                     f"— key name {s.name}, key hint {s.key_hint.hex()}, {len(s.signature)}-byte signature"])
    return table(
        rows, headers=["line", "text", "meaning"], monospace=(1,), title=title or "Signed checkpoint (C2SP signed note)"
    )
