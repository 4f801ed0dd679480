"""The image graph: deterministic SVG/HTML of an image and its signatures."""

from __future__ import annotations

from pathlib import Path

from labkit.display.oci import image_graph
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import sign_image


def _graph_svg(path: Path) -> str:
    lab = Lab(seed="display")
    store = OCILayout.init(path)
    img = build_image(store, layers=[{"a.txt": "a"}, {"b.txt": "<b>&"}], tag="v1")
    key = generate(lab=lab, label="signer")
    sign_image(store, img.descriptor, key, docker_reference="localhost/app", new_bundle_format=True, clock=lab.clock)
    graph = image_graph(store, "v1")
    kinds = [n.kind for n in graph.nodes]
    assert kinds.count("layer") == 2 and "signature" in kinds and "referrer" in kinds and "tag" in kinds
    assert str(path) not in graph.to_svg()
    assert graph.to_html().startswith("<div")
    assert graph._repr_html_() == graph.to_html()
    assert "signature layer 0" in graph.text()
    return graph.to_svg()


def test_graph_is_deterministic(tmp_path: Path) -> None:
    a = _graph_svg(tmp_path / "a")
    b = _graph_svg(tmp_path / "b")
    assert a == b
    assert a.startswith("<svg") and a.endswith("</svg>")
    assert "&lt;" not in a or "<b>" not in a  # text is escaped
