"""Pictures where the course's mental models live, as deterministic inline SVG.

One function per picture: the lab's parts (`lab_parts`, notebook 00), the keyless
flow (`keyless_flow`, 04), a bundle's anatomy (`bundle_anatomy`) and the
verifier's checks in their groups (`check_groups`, 05, drawn from
`labkit.verify.verifier.STEPS`), the nesting of an attestation
(`attestation_nesting`, 06), the admission flow (`admission_flow`, 08), the
tag-swap race (`tag_swap_race`, 09) and the bundle forgery (`forgery`, 10).

Every picture is an ``<svg>`` element returned as `HTML` (inline, so the
JupyterLab theme's CSS variables reach it): text and lines use ``currentColor``,
fills and accents ``var(--jp-…, fallback)``, so it stays legible in the dark
theme. Same input, same bytes: no ids, no timestamps, coordinates rounded.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from labkit._internal.theme import BG, BRAND, ERROR, FG, RAISED, SUCCESS, WARN
from labkit.display.html import HTML
from labkit.verify.verifier import STEPS

__all__ = [
    "CHECK_GROUPS",
    "admission_flow",
    "attestation_nesting",
    "bundle_anatomy",
    "check_groups",
    "forgery",
    "keyless_flow",
    "lab_parts",
    "tag_swap_race",
]

_FILL = RAISED
_BACK = BG
_ACCENT = {
    "plain": "currentColor",
    "you": BRAND,
    "trust": SUCCESS,
    "bad": ERROR,
    "warn": WARN,
}
_FONT = "var(--jp-ui-font-family, sans-serif)"
_MONO = "var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace)"
_CHAR = 0.6  # average glyph width / font size, for sizing boxes to their labels


def _esc(value: str | int | float) -> str:
    return _html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate with at most one decimal, the same string on every platform."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, text: str, *, size: float = 12, weight: str = "normal", anchor: str = "middle",
          mono: bool = False, color: str = "currentColor", halo: bool = False) -> str:
    halo_style = f";stroke:{_BACK};stroke-width:3px;paint-order:stroke" if halo else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" '
        f'style="font-family:{_MONO if mono else _FONT};font-size:{_n(size)}px;font-weight:{weight};'
        f'fill:{color}{halo_style}">{_esc(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, *, kind: str = "plain", fill: str = _FILL,
          dashed: bool = False, radius: float = 6) -> str:
    dash = ";stroke-dasharray:5 3" if dashed else ""
    width = "1" if kind == "plain" else "2"
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(radius)}" '
        f'style="fill:{fill};stroke:{_ACCENT[kind]};stroke-width:{width}{dash}"/>'
    )


def _arrow(x1: float, y1: float, x2: float, y2: float, *, kind: str = "plain", dashed: bool = False) -> str:
    """A line with a filled head at (x2, y2); no SVG markers (they would need document-wide ids)."""
    angle = math.atan2(y2 - y1, x2 - x1)
    size = 8.0
    left = (x2 - size * math.cos(angle - 0.4), y2 - size * math.sin(angle - 0.4))
    right = (x2 - size * math.cos(angle + 0.4), y2 - size * math.sin(angle + 0.4))
    dash = ";stroke-dasharray:5 3" if dashed else ""
    color = _ACCENT[kind]
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'style="stroke:{color};stroke-width:1.5{dash}"/>'
        f'<polygon points="{_n(x2)},{_n(y2)} {_n(left[0])},{_n(left[1])} {_n(right[0])},{_n(right[1])}" '
        f'style="fill:{color};stroke:none"/>'
    )


def _svg(width: float, height: float, title: str, body: Sequence[str], labels: Sequence[str]) -> HTML:
    markup = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'role="img" style="max-width:100%;height:auto;color:{FG}">'
        f"<title>{_esc(title)}</title>" + "".join(body) + "</svg>"
    )
    return HTML(markup, title + "\n" + "\n".join(f"  {label}" for label in labels))


# -- boxes and arrows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    """A labelled box at a position (its centre), sized to its text."""

    key: str
    x: float
    y: float
    label: str
    lines: tuple[str, ...] = ()
    kind: str = "plain"

    @property
    def size(self) -> tuple[float, float]:
        widest = max([len(self.label) * 12 * _CHAR] + [len(line) * 10.5 * _CHAR for line in self.lines])
        return widest + 20, 24 + 14 * len(self.lines)

    def draw(self) -> str:
        w, h = self.size
        left, top = self.x - w / 2, self.y - h / 2
        out = [_rect(left, top, w, h, kind=self.kind), _text(self.x, top + 16, self.label, weight="bold")]
        out.extend(_text(self.x, top + 31 + 14 * i, line, size=10.5) for i, line in enumerate(self.lines))
        return "".join(out)

    def edge_point(self, toward: tuple[float, float], gap: float = 3) -> tuple[float, float]:
        """Where the line from the centre toward `toward` leaves the box."""
        w, h = self.size
        dx, dy = toward[0] - self.x, toward[1] - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        t = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
        length = math.hypot(dx, dy)
        return self.x + dx * t + dx / length * gap, self.y + dy * t + dy / length * gap


def _flow(nodes: Sequence[_Node], edges: Sequence[tuple[str, str, str, str]]) -> tuple[list[str], list[str]]:
    """Draw `edges` (from, to, label, kind) between `nodes`, then the nodes; return (svg parts, text lines)."""
    by_key = {node.key: node for node in nodes}
    body: list[str] = []
    labels: list[str] = []
    for src, dst, label, kind in edges:
        a, b = by_key[src], by_key[dst]
        x1, y1 = a.edge_point((b.x, b.y))
        x2, y2 = b.edge_point((a.x, a.y))
        body.append(_arrow(x1, y1, x2, y2, kind=kind if kind != "dashed" else "plain", dashed=kind == "dashed"))
        if label:
            body.append(_text((x1 + x2) / 2, (y1 + y2) / 2 - 4, label, size=10.5, halo=True))
        labels.append(f"{a.label} -> {b.label}: {label}")
    body.extend(node.draw() for node in nodes)
    labels[:0] = [" · ".join((node.label, *node.lines)) for node in nodes]
    return body, labels


def _bounds(nodes: Sequence[_Node], margin: float = 14) -> tuple[float, float]:
    return (max(n.x + n.size[0] / 2 for n in nodes) + margin, max(n.y + n.size[1] / 2 for n in nodes) + margin)


def _flow_picture(title: str, nodes: Sequence[_Node], edges: Sequence[tuple[str, str, str, str]]) -> HTML:
    """A whole picture of `nodes` joined by `edges` (see `_flow`), sized to fit them."""
    body, labels = _flow(nodes, edges)
    width, height = _bounds(nodes)
    return _svg(width, height, title, body, labels)


# -- 00: the lab's parts ---------------------------------------------------------------------------


def lab_parts() -> HTML:
    """The lab's parts and how they talk (notebook 00): signer, issuer, CA, logs, registry, verifier, policy."""
    nodes = [
        _Node("issuer", 110, 40, "OIDC issuer", ("labkit.keyless.oidc",)),
        _Node("ca", 110, 150, "certificate authority", ("labkit.keyless.ca + CT log",)),
        _Node("you", 380, 95, "you: notebook or labkit CLI", ("labkit.keys · labkit.sign",), "you"),
        _Node("log", 660, 40, "transparency log", ("labkit.tlog (Rekor-style)",)),
        _Node("registry", 660, 150, "OCI registry", ("labkit.oci",)),
        _Node("verifier", 380, 250, "verifier", ("labkit.verify · trusted root",), "trust"),
        _Node("policy", 660, 250, "admission policy", ("labkit.policy",)),
        _Node("attacks", 110, 250, "attack lab", ("labkit.attacks",), "bad"),
    ]
    edges = [
        ("issuer", "you", "identity token", "plain"),
        ("you", "ca", "token + public key", "plain"),
        ("ca", "you", "", "plain"),
        ("you", "log", "log the signature", "plain"),
        ("you", "registry", "push image + signature", "plain"),
        ("you", "verifier", "bundle + artifact", "plain"),
        ("verifier", "policy", "verdict per image", "trust"),
        ("attacks", "verifier", "tampered inputs", "bad"),
    ]
    return _flow_picture("The lab's parts and how they talk (all on this machine, offline)", nodes, edges)


# -- 04: the keyless flow -------------------------------------------------------------------------


def keyless_flow() -> HTML:
    """Keyless signing (notebook 04): token -> CA -> certificate -> log -> bundle -> verifier."""
    steps = [
        ("token", "OIDC token", ("who you are", "signed by the issuer"), "you"),
        ("ca", "CA (Fulcio)", ("checks token and", "proof of possession"), "plain"),
        ("cert", "certificate", ("identity in the SAN", "valid ten minutes"), "plain"),
        ("log", "transparency log", ("entry + inclusion proof", "integrated time"), "plain"),
        ("bundle", "bundle", ("signature, certificate,", "log entry, proof"), "plain"),
        ("verifier", "verifier", ("identity + issuer", "at the logged time"), "trust"),
    ]
    nodes: list[_Node] = []
    x = 14.0
    for key, label, lines, kind in steps:
        probe = _Node(key, 0, 0, label, lines, kind)
        w = probe.size[0]
        nodes.append(_Node(key, x + w / 2, 60, label, lines, kind))
        x += w + 34
    verbs = ("proves identity", "issues", "signs, logs", "returns proof", "checks")
    edges = [(a.key, b.key, "", "plain") for a, b in zip(nodes, nodes[1:], strict=False)]
    body, labels = _flow(nodes, edges)
    for (a, b), verb in zip(zip(nodes, nodes[1:], strict=False), verbs, strict=True):
        mid = (a.x + a.size[0] / 2 + b.x - b.size[0] / 2) / 2
        body.append(_text(mid, 112, verb, size=10.5))
    labels.extend(f"step: {verb}" for verb in verbs)
    body.append(_text(14, 140, "The certificate expires in minutes; the log proves the signature was made inside "
                      "its window.", size=11, anchor="start"))
    width, _ = _bounds(nodes)
    return _svg(width, 152, "Keyless signing: token → CA → certificate → log → bundle → verifier", body, labels)


# -- 05: bundle anatomy and the checks in their groups --------------------------------------------

#: The five groups of `STEPS`, in order, each with the id prefixes it holds (the first matching prefix wins).
CHECK_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time", ("timestamp.", "time.", "tlog.key_validity")),
    ("parse", ("trust_root.", "bundle.", "material.")),
    ("artifact and signature", ("artifact.", "signature")),
    ("log entry", ("tlog.", "binding.")),
    ("certificate and identity", ("certificate.", "policy.")),
)
_GROUP_ORDER = ("parse", "artifact and signature", "log entry", "time", "certificate and identity")

#: Which checks read which part of a bundle (for `bundle_anatomy`).
_READ_BY = {
    "mediaType": "bundle.parse",
    "certificate": "material.signer, certificate.*",
    "x509CertificateChain": "material.signer, certificate.*",
    "publicKey": "material.signer",
    "tlogEntries": "tlog.entries",
    "canonicalizedBody": "binding.*",
    "logId": "tlog.log_id",
    "inclusionProof": "tlog.inclusion_proof",
    "checkpoint": "tlog.checkpoint.*",
    "inclusionPromise": "tlog.inclusion_promise",
    "integratedTime": "time.verified_source",
    "timestampVerificationData": "timestamp.rfc3161",
    "messageSignature": "artifact.digest, signature",
    "messageDigest": "artifact.digest",
    "dsseEnvelope": "artifact.digest, signature",
    "signature": "signature",
}


def _group_of(step_id: str) -> str:
    for group, prefixes in CHECK_GROUPS:
        if any(step_id == p or step_id.startswith(p) for p in prefixes):
            return group
    return "parse"


def check_groups(steps: Mapping[str, tuple[str, str]] = STEPS) -> HTML:
    """The verifier's checks (default: all of `STEPS`) in their five groups, in the order they run."""
    grouped: dict[str, list[str]] = {group: [] for group in _GROUP_ORDER}
    for step_id in steps:
        grouped[_group_of(step_id)].append(step_id)
    col_w, gap, top, row = 196.0, 16.0, 40.0, 17.0
    rows = max(len(ids) for ids in grouped.values())
    height = top + 30 + rows * row + 16
    body: list[str] = []
    labels: list[str] = []
    for i, group in enumerate(_GROUP_ORDER):
        x = 10 + i * (col_w + gap)
        ids = grouped[group]
        body.append(_rect(x, top, col_w, 26 + len(ids) * row + 8, kind="trust" if i == 4 else "plain"))
        body.append(_text(x + col_w / 2, top + 17, f"{i + 1}. {group} ({len(ids)})", size=11, weight="bold"))
        body.extend(_text(x + 8, top + 40 + j * row, step_id, size=10.5, anchor="start", mono=True)
                    for j, step_id in enumerate(ids))
        if i:
            body.append(_arrow(x - gap + 2, top + 13, x - 2, top + 13))
        labels.append(f"{group}: {', '.join(ids)}")
    body.append(_text(10, 22, f"{len(steps)} checks, run in this order; the first failure stops the run",
                      size=12, anchor="start", weight="bold"))
    width = 10 + len(_GROUP_ORDER) * (col_w + gap) - gap + 10
    return _svg(width, height, f"The verifier's {len(steps)} checks in five groups", body, labels)


def _anatomy_rows(doc: Mapping[str, object], depth: int, rows: list[tuple[int, str, str, bool]]) -> None:
    """(depth, key, note, is_container) for every key of `doc`, depth first; lists show their first item."""
    for key, value in doc.items():
        item = value[0] if isinstance(value, list) and value else value
        shown = f"{key}[{len(value)}]" if isinstance(value, list) else key
        if isinstance(item, Mapping) and depth < 4:
            rows.append((depth, shown, _READ_BY.get(key, ""), True))
            _anatomy_rows(item, depth + 1, rows)
        else:
            rows.append((depth, shown, _READ_BY.get(key, ""), False))


def bundle_anatomy(doc: Mapping[str, object]) -> HTML:
    """The parts of a Sigstore bundle (its JSON, e.g. ``bundle.to_dict()``), each with the checks that read it."""
    rows: list[tuple[int, str, str, bool]] = []
    _anatomy_rows(doc, 0, rows)
    row_h, indent, top = 19.0, 18.0, 34.0
    body: list[str] = []
    # Nested boxes: each container spans its own row and every deeper row after it.
    for i, (depth, _key, _note, container) in enumerate(rows):
        if not container:
            continue
        end = i + 1
        while end < len(rows) and rows[end][0] > depth:
            end += 1
        x = 10 + depth * indent
        body.append(_rect(x, top + i * row_h - 13, 330 - depth * indent, (end - 1 - i) * row_h + 18,
                          kind="you" if depth == 0 else "plain", radius=4))
    labels: list[str] = []
    for i, (depth, key, note, container) in enumerate(rows):
        y = top + i * row_h
        body.append(_text(18 + depth * indent, y, key, size=11, anchor="start", mono=True,
                          weight="bold" if container else "normal"))
        if note:
            body.append(_line(342, y - 4, 356, y - 4))
            body.append(_text(360, y, note, size=10.5, anchor="start", mono=True, color=_ACCENT["trust"]))
        labels.append("  " * depth + key + (f"  <- {note}" if note else ""))
    body.append(_text(10, 18, "bundle (JSON)", size=12, anchor="start", weight="bold"))
    body.append(_text(360, 18, "checked by", size=12, anchor="start", weight="bold"))
    height = top + len(rows) * row_h
    return _svg(560, height, "Anatomy of a Sigstore bundle and the checks that read each part", body, labels)


def _line(x1: float, y1: float, x2: float, y2: float, *, kind: str = "plain", dashed: bool = False) -> str:
    dash = ";stroke-dasharray:4 3" if dashed else ""
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
            f'style="stroke:{_ACCENT[kind]};stroke-width:1{dash}"/>')


# -- 06: attestation nesting ----------------------------------------------------------------------


def attestation_nesting(predicate_type: str = "https://slsa.dev/provenance/v1",
                        subject: str = "sha256:<image digest>") -> HTML:
    """predicate ⊂ in-toto statement ⊂ DSSE envelope ⊂ Sigstore bundle ⊂ OCI referrer or ``.att`` layer."""
    layers = [
        ("stored beside the image", "an OCI 1.1 referrer manifest (cosign v3), or a layer of the sha256-<hex>.att tag",
         "plain"),
        ("Sigstore bundle v0.3", "verification material: key or certificate, dsse log entry, proof", "plain"),
        ("DSSE envelope", "payloadType application/vnd.in-toto+json; signatures over PAE(type, payload)", "you"),
        ("in-toto Statement v1", f"subject: {subject}; predicateType: {predicate_type}", "plain"),
        ("predicate", "the claim itself: provenance, SBOM, scan result, review...", "trust"),
    ]
    width, step, top = 780.0, 20.0, 10.0
    height = top * 2 + len(layers) * 30 + 24
    body: list[str] = []
    for i, (name, note, kind) in enumerate(layers):
        inset = i * step
        box_h = height - 2 * top - i * 30
        body.append(_rect(10 + inset, top + i * 22, width - 20 - 2 * inset, box_h, kind=kind,
                          fill=_FILL if i % 2 == 0 else _BACK))
        body.append(_text(20 + inset, top + i * 22 + 15, name, size=12, anchor="start", weight="bold"))
        body.append(_text(20 + inset + len(name) * 12 * _CHAR + 10, top + i * 22 + 15, note, size=10.5,
                          anchor="start"))
    labels = [f"{'  ' * i}{name}: {note}" for i, (name, note, _kind) in enumerate(layers)]
    return _svg(width, height, "An attestation, from the inside out: predicate ⊂ statement ⊂ DSSE ⊂ bundle ⊂ "
                "referrer or .att", body, labels)


# -- 08: admission ---------------------------------------------------------------------------------


def admission_flow() -> HTML:
    """What happens between ``kubectl apply`` and a running pod when an admission policy is in place."""
    nodes = [
        _Node("you", 110, 50, "kubectl apply", ("a Pod naming an image",), "you"),
        _Node("api", 350, 50, "API server", ("asks every admission", "webhook first")),
        _Node("webhook", 630, 50, "admission controller", ("policy-controller / Kyverno", "labkit.policy")),
        _Node("registry", 630, 180, "registry", ("tag -> digest, signatures,", "attestations")),
        _Node("verify", 350, 180, "verify each authority", ("key or keyless identity,", "log proof, CUE policy"),
              "trust"),
        _Node("result", 110, 180, "allow or deny", ("denied: the Pod never runs",), "bad"),
    ]
    edges = [
        ("you", "api", "create Pod", "plain"),
        ("api", "webhook", "review request", "plain"),
        ("webhook", "registry", "resolve + fetch", "plain"),
        ("registry", "verify", "evidence", "plain"),
        ("verify", "result", "decision", "trust"),
    ]
    return _flow_picture("Admission: the cluster asks a policy before any Pod runs", nodes, edges)


# -- 09: the tag-swap race -------------------------------------------------------------------------


def tag_swap_race(*, fixed: bool = False) -> HTML:
    """The tag-swap race as a sequence diagram; ``fixed`` shows the digest-pinned install instead."""
    actors = ("victim (verify, then install)", "registry: app:1.0", "attacker (can push)")
    if fixed:
        messages = [
            (0, 1, "resolve app:1.0 (the only time)", "plain"),
            (1, 0, "sha256:good…", "plain"),
            (0, 0, "verify sha256:good…: signature OK", "trust"),
            (2, 1, "re-point app:1.0 -> sha256:evil…", "bad"),
            (0, 1, "pull app@sha256:good…", "plain"),
            (1, 0, "the verified bytes", "trust"),
        ]
    else:
        messages = [
            (0, 1, "resolve app:1.0 (1st time)", "plain"),
            (1, 0, "sha256:good…", "plain"),
            (0, 0, "verify sha256:good…: signature OK", "trust"),
            (2, 1, "re-point app:1.0 -> sha256:evil…", "bad"),
            (0, 1, "pull app:1.0 (2nd resolution)", "plain"),
            (1, 0, "sha256:evil… installed, never verified", "bad"),
        ]
    xs = (110.0, 360.0, 610.0)
    top, row = 44.0, 38.0
    height = top + 20 + len(messages) * row + 10
    body = []
    for x, actor in zip(xs, actors, strict=True):
        body.append(_rect(x - 100, 8, 200, 26, kind="you" if actor.startswith("victim") else
                          "bad" if actor.startswith("attacker") else "plain"))
        body.append(_text(x, 25, actor, size=11.5, weight="bold"))
        body.append(_line(x, 34, x, height - 6, dashed=True))
    labels = [f"actors: {', '.join(actors)}"]
    for i, (src, dst, text, kind) in enumerate(messages):
        y = top + 24 + i * row
        if src == dst:
            x = xs[src]
            body.append(_rect(x - 6, y - 14, 12, 22, kind=kind, fill=_BACK, radius=2))
            body.append(_text(x + 12, y + 2, text, size=10.5, anchor="start", color=_ACCENT[kind]))
        else:
            x1, x2 = xs[src], xs[dst]
            shift = 4 if x2 > x1 else -4
            body.append(_arrow(x1 + shift, y, x2 - shift, y, kind=kind))
            body.append(_text((x1 + x2) / 2, y - 5, text, size=10.5, color=_ACCENT[kind] if kind != "plain"
                              else "currentColor", halo=True))
        labels.append(f"{i + 1}. {actors[src].split(' ')[0]} -> {actors[dst].split(' ')[0]}: {text}")
    title = ("The fix: resolve the tag once, verify and pull that digest" if fixed
             else "The tag-swap race: the tag is resolved twice and moved in between")
    return _svg(730, height, title, body, labels)


# -- 10: the forgery -------------------------------------------------------------------------------


def forgery() -> HTML:
    """GHSA-whqx-f9j3-ch6m: a genuine log entry and SET for someone else's signature, stapled to a forgery."""
    nodes = [
        _Node("forged", 150, 60, "forged signature (app:1.1)",
              ("payload names sha256:evil…", "signed with the stolen key"), "bad"),
        _Node("entry", 150, 190, "stapled log entry 1", ("records a README's digest", "and a bystander's key")),
        _Node("set", 450, 190, "SET (genuine)", ("the log's signature over", "entry 1's body, time, index"), "trust"),
        _Node("vuln", 450, 60, "vulnerable cosign", ("SET verifies -> ACCEPTED", "(never compares entry)"), "bad"),
        _Node("labkit", 700, 125, "labkit / fixed cosign",
              ("entry digest ≠ payload digest", "REJECTED at binding.digest"), "trust"),
    ]
    edges = [
        ("forged", "entry", "carries", "plain"),
        ("set", "entry", "signs", "trust"),
        ("forged", "vuln", "checks only the SET", "bad"),
        ("entry", "labkit", "compares entry with signature", "trust"),
    ]
    return _flow_picture("The bundle forgery: a genuine entry that belongs to another signature", nodes, edges)
