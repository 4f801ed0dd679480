"""The room page: a read-only HTML view of a log for the projector (``labkit log serve --room-page``).

One page at ``GET /room``: the log's origin, tree size, root hash, the signed
checkpoint and the latest entries (index, kind, artifact digest, time), with a
``<meta http-equiv="refresh">`` so the projector follows the log as learners
sign. Every value from the log is HTML-escaped; the page has no forms and no
scripts, so showing it changes nothing.
"""

from __future__ import annotations

import datetime as _dt
import html

from labkit.errors import LabkitError
from labkit.tlog.store import TransparencyLog

__all__ = []

ROOM_PATH = "/room"
#: How many of the newest entries the page lists.
_DEFAULT_LATEST = 12
#: Seconds between the browser's reloads.
_DEFAULT_REFRESH = 5

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;background:#111;color:#eee;font-size:1.4rem}"
    "h1{font-size:2rem;margin:0 0 1rem}.size{font-size:4rem;font-weight:700;color:#7fd}"
    "pre{background:#222;padding:1rem;white-space:pre-wrap;word-break:break-all;font-size:1.1rem}"
    "table{border-collapse:collapse;width:100%}td,th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #444}"
    "code{font-size:1.1rem}.lab{color:#fc6;font-weight:700}"
)


def _when(seconds: int) -> str:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc).strftime("%H:%M:%S UTC")


def _row(log: TransparencyLog, index: int) -> str:
    entry = log.get(index, proof=False)
    try:
        parsed = entry.parsed
        kind, digest = f"{parsed.kind} {parsed.version}", parsed.artifact_digest or ""
    except LabkitError:
        kind, digest = "(unreadable body)", ""
    short = digest if len(digest) <= 24 else digest[:24] + "…"
    return (f"<tr><td>{index}</td><td>{html.escape(kind)}</td>"
            f"<td><code title=\"{html.escape(digest, quote=True)}\">{html.escape(short)}</code></td>"
            f"<td>{html.escape(_when(entry.integrated_time))}</td></tr>")


def render_room_page(log: TransparencyLog, *, latest: int = _DEFAULT_LATEST, refresh: int = _DEFAULT_REFRESH) -> str:
    """The room page for `log` as one HTML document (newest entries first)."""
    note = log.checkpoint()
    ck = note.checkpoint()
    first = max(0, ck.size - latest)
    rows = "".join(_row(log, i) for i in range(ck.size - 1, first - 1, -1))
    lab = (f"<p class=\"lab\">LAB log ({html.escape(log.lab_origin)}): its key comes from a public seed.</p>"
           if log.lab_origin else "")
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"refresh\" content=\"{int(refresh)}\">"
        f"<title>room log: {html.escape(log.origin)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(log.origin)}</h1>{lab}"
        f"<p>tree size</p><p class=\"size\" id=\"tree-size\">{ck.size}</p>"
        f"<p>root hash <code id=\"root-hash\">{ck.root_hash.hex()}</code></p>"
        f"<h2>signed checkpoint</h2><pre id=\"checkpoint\">{html.escape(note.to_text())}</pre>"
        f"<h2>latest entries</h2><table id=\"entries\"><tr><th>index</th><th>kind</th><th>artifact</th>"
        f"<th>logged</th></tr>{rows}</table>"
        f"<p>read-only; reloads every {int(refresh)} s</p></body></html>"
    )
