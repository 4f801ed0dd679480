"""Interactive shells (ipywidgets) over tested functions, for exploring in JupyterLab.

Each widget only wires controls to a pure function that returns data and
deterministic HTML; the notebooks' validated cells call those functions
directly, and the widget cells sit beside them (tagged ``nbval-ignore-output``).

- `tamper_explorer`: choose a byte and a bit of an artifact, see the bytes and
  the verification checklist of the modified artifact (`tamper_view`).
- `attack_chooser`: choose an attack scenario, see its outcome (`attack_view`).
- `merkle_explorer`: tree size and leaf index on the Merkle picture.

ipywidgets is imported when a widget is built, never at module import.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from labkit._internal.theme import FG, MONO
from labkit.attacks import run_scenario, scenarios
from labkit.checks import CheckResult
from labkit.display.checks import checklist
from labkit.display.html import HTML, hexdump
from labkit.display.merkle import tree_svg
from labkit.errors import InputError

__all__ = ["attack_chooser", "merkle_explorer", "tamper_explorer"]


def flip_bit(data: bytes, offset: int, bit: int = 0) -> bytes:
    """`data` with bit `bit` (0 = least significant) of byte `offset` inverted."""
    if not 0 <= offset < len(data):
        raise InputError(f"offset {offset} is outside the data (0..{len(data) - 1})")
    if not 0 <= bit < 8:
        raise InputError(f"bit {bit} is not 0..7")
    out = bytearray(data)
    out[offset] ^= 1 << bit
    return bytes(out)


def tamper_view(data: bytes, offset: int, bit: int, verify: Callable[[bytes], CheckResult]) -> HTML:
    """The modified bytes (changed byte highlighted) and the checklist of verifying them."""
    changed = flip_bit(data, offset, bit)
    picture = hexdump(changed, highlight=[(offset, offset + 1)], limit=max(512, offset + 64),
                      title=f"byte {offset}, bit {bit} flipped: {data[offset]:#04x} -> {changed[offset]:#04x}")
    return picture + checklist(verify(changed), title="verification of the modified artifact")


def tamper_explorer(data: bytes, verify: Callable[[bytes], CheckResult]) -> Any:
    """Sliders for the byte offset and the bit; shows `tamper_view` as they move."""
    import ipywidgets as widgets

    if not data:
        raise InputError("nothing to tamper with: the artifact is empty")
    offset = widgets.IntSlider(min=0, max=len(data) - 1, value=0, description="byte")
    bit = widgets.IntSlider(min=0, max=7, value=0, description="bit")
    out = widgets.HTML()

    def redraw(_change: Mapping[str, object] | None = None) -> None:
        out.value = tamper_view(data, offset.value, bit.value, verify).html

    offset.observe(redraw, "value")
    bit.observe(redraw, "value")
    redraw()
    return widgets.VBox([offset, bit, out])


def attack_view(scenario_id: str) -> HTML:
    """Run one attack scenario in a fresh sandbox and show its outcome as text."""
    report = run_scenario(scenario_id).report()
    style = f"font-family:{MONO};font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere;color:{FG}"
    return HTML(f'<pre style="{style}">{html.escape(report)}</pre>', report)


def attack_chooser(ids: Sequence[str] | None = None) -> Any:
    """A drop-down of attack scenarios; choosing one runs it and shows `attack_view`."""
    import ipywidgets as widgets


    choices = list(ids) if ids is not None else [s.id for s in scenarios()]
    if not choices:
        raise InputError("no attack scenarios to choose from")
    pick = widgets.Dropdown(options=choices, value=choices[0], description="attack")
    out = widgets.HTML()

    def redraw(_change: Mapping[str, object] | None = None) -> None:
        out.value = attack_view(str(pick.value)).html

    pick.observe(redraw, "value")
    redraw()
    return widgets.VBox([pick, out])


def merkle_explorer(leaves: Sequence[bytes], *, size: int | None = None, leaf: int = 0) -> Any:
    """Sliders for tree size and leaf index over `leaves` (leaf hashes) on the Merkle picture (fitted to the width)."""
    import ipywidgets as widgets


    if not leaves:
        raise InputError("a Merkle picture needs at least one leaf")
    size_slider = widgets.IntSlider(min=1, max=len(leaves), value=size or len(leaves), description="tree size")
    leaf_slider = widgets.IntSlider(min=0, max=len(leaves) - 1, value=leaf, description="leaf")
    # A wide tree shrinks to the output's width: the sliders and the whole tree stay in view together.
    picture = widgets.HTML()

    def redraw(_change: Mapping[str, object] | None = None) -> None:
        n = size_slider.value
        picture.value = tree_svg(list(leaves), size=n, leaf_index=min(leaf_slider.value, n - 1), fit=True).html

    size_slider.observe(redraw, "value")
    leaf_slider.observe(redraw, "value")
    redraw()
    return widgets.VBox([size_slider, leaf_slider, picture])
