"""The one palette of labkit's HTML: JupyterLab's theme variables, with light fallbacks, and the hash span.

Every renderer (`labkit.display.html`, the checklist markup, the Merkle and OCI pictures, the widgets,
the attack matrix) takes its colours from here, so output follows JupyterLab's light or dark theme.
Text inherits the theme's foreground; accents are mixed toward it (`ink`), so a red or green stays
readable on both a white and a near-black page; status backgrounds are translucent tints (`tint`) over
whatever the page is. Outside JupyterLab the fallbacks give the light look.

It lives below `labkit.checks` (as `checklist_html` does) so the checklist markup can use it without
importing the display layer; `short_hash` is public as `labkit.display.short_hash`.

    >>> "title=" in short_hash("sha256:" + "ab" * 32)
    True
"""

from __future__ import annotations

import html as _html
import re

__all__ = [
    "BG",
    "BORDER",
    "BRAND",
    "CODE_BG",
    "ERROR",
    "FG",
    "HEAD_BG",
    "LINE",
    "MONO",
    "MUTED",
    "PURPLE",
    "RAISED",
    "SANS",
    "SUCCESS",
    "SYNTAX",
    "WARN",
    "hash_spans",
    "ink",
    "short_hash",
    "tint",
]

#: The page: JupyterLab's layout colour (white in the light theme, near-black in the dark one).
BG = "var(--jp-layout-color1, #fff)"
#: Body text: JupyterLab's content foreground.
FG = "var(--jp-content-font-color1, rgba(0, 0, 0, 0.87))"
#: Secondary text: the foreground, partly transparent (readable on any tint below).
MUTED = f"color-mix(in srgb, {FG} 72%, transparent)"
#: Lines between rows and round boxes.
BORDER = "var(--jp-border-color2, #e0e0e0)"
#: A raised surface (buttons, picture boxes): JupyterLab's second layout colour.
RAISED = "var(--jp-layout-color2, #eee)"
#: The background of code boxes (hex dumps, JSON, PEM) and table headers: a faint foreground tint.
CODE_BG = f"color-mix(in srgb, {FG} 5%, transparent)"
HEAD_BG = f"color-mix(in srgb, {FG} 9%, transparent)"
#: Status accents (JupyterLab's own), used through `ink` and `tint`.
SUCCESS = "var(--jp-success-color1, #388e3c)"
ERROR = "var(--jp-error-color1, #d32f2f)"
WARN = "var(--jp-warn-color1, #f57c00)"
#: Picture accents: JupyterLab's brand blue, and a purple (JupyterLab has no purple variable).
BRAND = "var(--jp-brand-color1, #1976d2)"
PURPLE = "#805ad5"
#: Lines in pictures (edges, plain boxes).
LINE = "var(--jp-border-color1, #9e9e9e)"
#: Font stacks.
MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace"
SANS = "var(--jp-content-font-family, sans-serif)"


def ink(accent: str, share: int = 60) -> str:
    """A text colour: `accent` mixed toward the foreground, so it contrasts with the page in either theme."""
    return f"color-mix(in srgb, {accent} {share}%, {FG})"


def tint(accent: str, share: int = 14) -> str:
    """A background: `accent` at `share` percent over whatever the page is."""
    return f"color-mix(in srgb, {accent} {share}%, transparent)"


#: JSON and PEM highlighting: keys, strings, numbers, literals (true/false/null).
SYNTAX = {
    "key": ink("#1565c0"),
    "string": ink("#c62828"),
    "number": ink("#2e7d32"),
    "literal": ink("#7b1fa2"),
}

#: What a hash looks like: an optional algorithm prefix, then 32 or more hex digits.
_HASH = re.compile(r"(?<![0-9A-Za-z])(?:sha(?:256|384|512):)?[0-9a-f]{32,}(?![0-9A-Za-z])")

#: One line, clipped with an ellipsis; a click selects the whole value (copy copies all of it).
_HASH_STYLE = (
    f"font-family:{MONO};display:inline-block;max-width:{{width}}ch;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap;vertical-align:bottom;user-select:all;-webkit-user-select:all;cursor:copy"
)


def short_hash(value: str, keep: int = 12) -> str:
    """`value` (a digest, hex root or key id) as a span showing about `keep` characters.

    The span holds the full value: hovering shows it (``title``), one click selects all of it and
    copying copies all of it. ``sha256:`` and similar prefixes are kept in view.
    """
    prefix = value.split(":", 1)[0] + ":" if ":" in value else ""
    width = len(prefix) + keep + 1
    esc = _html.escape(value, quote=True)
    return f'<span class="labkit-hash" title="{esc}" style="{_HASH_STYLE.format(width=width)}">{esc}</span>'


def hash_spans(escaped: str, keep: int = 12) -> str:
    """Already-escaped text with every long hex hash in it replaced by its `short_hash` span."""
    return _HASH.sub(lambda m: short_hash(m.group(0), keep), escaped)
