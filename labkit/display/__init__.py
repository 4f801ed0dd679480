"""Deterministic HTML/SVG renderers for notebooks.

`labkit.display.html` renders bytes (hex dump), JSON, PEM, key summaries and
tables; `labkit.display.checks` renders any `labkit.checks.CheckResult` as a
checklist or a failure card. Area-specific pictures live beside them
(`labkit.display.oci`, `labkit.display.merkle`) and are imported from their
own modules.
"""

from labkit.display.checks import checklist, failure_card
from labkit.display.html import HTML, hexdump, json_view, key_summary, pem_view, table

__all__ = ["HTML", "checklist", "failure_card", "hexdump", "json_view", "key_summary", "pem_view", "table"]
