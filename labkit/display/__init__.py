"""Deterministic HTML/SVG renderers for notebooks.

`labkit.display.html` renders bytes (hex dump), JSON, PEM, key summaries,
tables and verification checklists; area-specific pictures live beside it
(`labkit.display.oci`) and are imported from their own modules.
"""

from labkit.display.html import HTML, checklist, hexdump, json_view, key_summary, pem_view, table

__all__ = ["HTML", "checklist", "hexdump", "json_view", "key_summary", "pem_view", "table"]
