"""Deterministic HTML/SVG renderers for notebooks.

`labkit.display.html` renders bytes (hex dump), JSON, PEM, key summaries and
tables; `labkit.display.checks` renders any `labkit.checks.CheckResult` as a
checklist or a failure card. Area-specific pictures live beside them
(`labkit.display.oci`, `labkit.display.merkle`) and are imported from their
own modules. `labkit.display.lesson` holds the lesson primitives: an intended failure as a card
(`expected_failure`), a cell's command-line twin (`cli_twin`) and spec links (`spec_link`).
"""

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
    "spec_link",
    "table",
]
