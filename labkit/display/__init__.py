"""Deterministic HTML/SVG renderers for notebooks.

`labkit.display.html` renders bytes (hex dump), JSON, PEM, key summaries and
tables; `labkit.display.checks` renders any `labkit.checks.CheckResult` as a
checklist or a failure card. Area-specific pictures live beside them
(`labkit.display.oci`, `labkit.display.merkle`) and are imported from their
own modules. `labkit.display.lesson` holds the lesson primitives: an intended failure as a card
(`expected_failure`), a cell's command-line twin (`cli_twin`) and spec links (`spec_link`).
Their colours come from one palette of JupyterLab's theme variables (`labkit._internal.theme`), and
`short_hash` is the one way to show a digest, root or key id: shortened, whole on hover, one click
selects all of it.
"""

from labkit._internal.theme import short_hash
from labkit.display.checks import checklist, failure_card
from labkit.display.html import HTML, hexdump, json_view, key_summary, pem_view, table
from labkit.display.lesson import cli_twin, expected_failure, spec_link

__all__ = [
    "HTML",
    "checklist",
    "cli_twin",
    "expected_failure",
    "failure_card",
    "hexdump",
    "json_view",
    "key_summary",
    "pem_view",
    "short_hash",
    "spec_link",
    "table",
]
