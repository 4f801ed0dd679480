"""A deterministic picture of an image and what points at it.

`image_graph` walks a store (layout or registry) from one image: tag ->
manifest (or index -> manifests) -> config and layers; the cosign ``.sig``
(and ``.att``) tag -> signature manifest -> signature layers with their
annotations; bundle referrers -> bundle layer, with a ``subject`` edge back
to the image. `ImageGraph.to_svg()` lays it out in fixed columns with fixed
sizes; no ids, timestamps or random numbers, so nbval sees the same bytes
on every run. In Jupyter the graph shows itself (`_repr_html_`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from labkit._internal.theme import BG, BRAND, ERROR, FG, LINE, MUTED, PURPLE, SUCCESS, WARN, tint
from labkit.errors import LabkitError
from labkit.oci.descriptor import (
    Descriptor,
    ImageIndex,
    NotFoundError,
    parse_any_manifest,
    parse_manifest,
)
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryRepository
from labkit.oci.signatures import ANN_BUNDLE, ANN_CERTIFICATE, ANN_SIGNATURE, signature_tag

__all__ = ["image_graph"]

_COL_X = (10, 230, 540)
_COL_W = (200, 290, 330)
_LINE_H = 15
_PAD = 8
_GAP = 12
#: (fill, stroke) per kind of box: translucent tints over the page; text is the page's foreground.
_COLORS = {
    "tag": (tint(WARN, 20), WARN),
    "manifest": (tint(BRAND, 16), BRAND),
    "index": (tint(BRAND, 24), BRAND),
    "config": (tint(SUCCESS, 16), SUCCESS),
    "layer": (tint(FG, 5), LINE),
    "sigtag": (tint(ERROR, 16), ERROR),
    "sigmanifest": (tint(ERROR, 16), ERROR),
    "signature": (tint(ERROR, 10), ERROR),
    "referrer": (tint(PURPLE, 20), PURPLE),
    "bundle": (tint(PURPLE, 12), PURPLE),
    "missing": (BG, LINE),
}


@dataclass(frozen=True)
class Node:
    """A box: `kind` picks its colour and column; `lines` are its text."""

    id: str
    kind: str
    column: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    """An arrow from `src` to `dst`, optionally labelled."""

    src: str
    dst: str
    label: str = ""


@dataclass
class ImageGraph:
    """Nodes in groups (image, signatures, referrers) and the edges between them."""

    title: str
    groups: list[list[Node]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    @property
    def nodes(self) -> list[Node]:
        """Every node, in drawing order."""
        return [n for g in self.groups for n in g]

    def _layout(self) -> tuple[dict[str, tuple[int, int, int, int]], int]:
        boxes: dict[str, tuple[int, int, int, int]] = {}
        top = 40
        for group in self.groups:
            ys = [top, top, top]
            for node in group:
                h = _PAD * 2 + _LINE_H * len(node.lines)
                col = node.column
                boxes[node.id] = (_COL_X[col], ys[col], _COL_W[col], h)
                ys[col] += h + _GAP
            top = max(ys) + 18
        return boxes, top

    def to_svg(self) -> str:
        """The graph as a standalone SVG document (deterministic)."""
        boxes, height = self._layout()
        width = _COL_X[2] + _COL_W[2] + 10
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12" style="fill:{FG}">',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" style="fill:{MUTED}"/></marker></defs>',
            f'<rect x="0" y="0" width="{width}" height="{height}" style="fill:{BG}"/>',
            f'<text x="10" y="22" font-size="14" font-weight="bold">{html.escape(self.title)}</text>',
        ]
        for e in self.edges:
            if e.src not in boxes or e.dst not in boxes:
                continue
            sx, sy, sw, sh = boxes[e.src]
            dx, dy, dw, dh = boxes[e.dst]
            if sx == dx:  # same column (referrer -> subject): curve round the left side
                x1, y1, x2, y2 = sx, sy + sh // 2, dx, dy + dh // 2
                bend = x1 - 14
                out.append(
                    f'<path d="M {x1} {y1} C {bend} {y1} {bend} {y2} {x2} {y2}" style="fill:none;stroke:{PURPLE}" '
                    'stroke-dasharray="5,3" marker-end="url(#arrow)"/>'
                )
                lx, ly = x1 + 6, y1 + sh // 2 + 10
            else:
                x1, y1, x2, y2 = sx + sw, sy + sh // 2, dx, dy + dh // 2
                out.append(
                    f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" style="stroke:{MUTED}" marker-end="url(#arrow)"/>'
                )
                lx, ly = (x1 + x2) // 2 - 10, (y1 + y2) // 2 - 4
            if e.label:
                out.append(f'<text x="{lx}" y="{ly}" font-size="10" style="fill:{MUTED}">{html.escape(e.label)}</text>')
        for node in self.nodes:
            x, y, w, h = boxes[node.id]
            fill, stroke = _COLORS.get(node.kind, _COLORS["layer"])
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="5" style="fill:{fill};stroke:{stroke}"/>')
            limit = w // 7 - 1
            for i, line in enumerate(node.lines):
                text = line if len(line) <= limit else line[: limit - 1] + "…"
                weight = ' font-weight="bold"' if i == 0 else ""
                out.append(
                    f'<text x="{x + _PAD}" y="{y + _PAD + 11 + i * _LINE_H}"{weight}>{html.escape(text)}</text>'
                )
        out.append("</svg>")
        return "\n".join(out)

    def to_html(self) -> str:
        """The SVG inside a scrollable ``div``."""
        return f'<div style="overflow-x:auto">\n{self.to_svg()}\n</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def text(self) -> str:
        """A plain-text outline (one line per node)."""
        lines = [self.title]
        for group in self.groups:
            for node in group:
                lines.append("  " * node.column + " | ".join(node.lines))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ImageGraph({self.title!r}, {len(self.nodes)} nodes, {len(self.edges)} edges)"


def _desc_lines(title: str, d: Descriptor) -> list[str]:
    return [title, d.digest.short(19), f"{d.media_type.rsplit('/', 1)[-1]}", f"{d.size} bytes"]


def _sig_lines(i: int, d: Descriptor) -> tuple[str, ...]:
    lines = [f"signature layer {i}", d.digest.short(19)]
    for key in sorted(d.annotations):
        value = d.annotations[key]
        if key == ANN_SIGNATURE:
            lines.append(f"signature: {value[:16]}…")
        elif key == ANN_BUNDLE:
            lines.append("bundle: rekorBundle (SET)")
        elif key == ANN_CERTIFICATE:
            lines.append("certificate: PEM")
        else:
            lines.append(f"{key.rsplit('/', 1)[-1]}: {value[:20]}")
    return tuple(lines)


def image_graph(
    store: OCILayout | RegistryRepository, ref: str | Digest | None = None, *, title: str | None = None
) -> ImageGraph:
    """Build the graph for the image `ref` (tag or digest) in `store` (no store paths in the picture)."""
    root = store.resolve(ref)
    data, _ = store.get_manifest(root.digest)
    graph = ImageGraph(title or f"image {root.digest.short(19)}")
    group: list[Node] = []
    mid = f"m:{root.digest}"
    tags = [t for t in store.tags() if ".claim-" not in t and not t.startswith("sha256-")]
    for t in tags:
        try:
            d = store.resolve(t)
        except LabkitError:
            continue
        if d.digest == root.digest:
            group.append(Node(f"t:{t}", "tag", 0, ("tag", t)))
            graph.edges.append(Edge(f"t:{t}", mid))
    parsed = parse_any_manifest(data)
    if isinstance(parsed, ImageIndex):
        group.append(Node(mid, "index", 1, tuple(_desc_lines("image index", root))))
        for i, child in enumerate(parsed.manifests):
            cid = f"c:{i}:{child.digest}"
            group.append(Node(cid, "manifest", 2, tuple(_desc_lines(f"manifest {i}", child))))
            graph.edges.append(Edge(mid, cid))
    else:
        group.append(Node(mid, "manifest", 1, tuple(_desc_lines("image manifest", root))))
        cid = f"cfg:{parsed.config.digest}"
        group.append(Node(cid, "config", 2, tuple(_desc_lines("config", parsed.config))))
        graph.edges.append(Edge(mid, cid))
        for i, layer in enumerate(parsed.layers):
            lid = f"l:{i}:{layer.digest}"
            group.append(Node(lid, "layer", 2, tuple(_desc_lines(f"layer {i}", layer))))
            graph.edges.append(Edge(mid, lid))
    graph.groups.append(group)
    for suffix in ("sig", "att"):
        tag = signature_tag(root.digest, suffix)
        try:
            sig_data, sig_desc = store.get_manifest(tag)
        except NotFoundError:
            continue
        sgroup: list[Node] = [Node(f"st:{tag}", "sigtag", 0, (f".{suffix} tag", tag[:19] + "…" + tag[-8:]))]
        smid = f"sm:{tag}"
        sgroup.append(Node(smid, "sigmanifest", 1, tuple(_desc_lines(f"{suffix} manifest", sig_desc))))
        graph.edges.append(Edge(f"st:{tag}", smid))
        for i, layer in enumerate(parse_manifest(sig_data).layers):
            lid = f"sl:{suffix}:{i}"
            sgroup.append(Node(lid, "signature", 2, _sig_lines(i, layer)))
            graph.edges.append(Edge(smid, lid))
        graph.groups.append(sgroup)
    rgroup: list[Node] = []
    for ref_desc in store.referrers(root.digest):
        rid = f"r:{ref_desc.digest}"
        lines = [
            "referrer",
            ref_desc.digest.short(19),
            f"artifactType: {(ref_desc.artifact_type or '-').rsplit('/', 1)[-1]}",
            f"subject: {root.digest.short(19)}",
        ]
        rgroup.append(Node(rid, "referrer", 1, tuple(lines)))
        graph.edges.append(Edge(rid, mid))
        try:
            rdata, _ = store.get_manifest(ref_desc.digest)
            for i, layer in enumerate(parse_manifest(rdata).layers):
                bid = f"rb:{ref_desc.digest}:{i}"
                rgroup.append(Node(bid, "bundle", 2, tuple(_desc_lines("bundle layer", layer))))
                graph.edges.append(Edge(rid, bid))
        except LabkitError:
            continue
    if rgroup:
        graph.groups.append(rgroup)
    return graph
