"""Serve a TUF repository over loopback HTTP, in the layout sigstore-python expects for ``--instance URL``.

``GET /N.root.json``, ``/timestamp.json``, ``/N.snapshot.json``, ``/N.targets.json`` and
``/targets/<sha256>.<name>``; nothing else (no directory listings, no path outside the repository).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from labkit._internal.wsgi import BackgroundServer, Environ, StartResponse

__all__ = ["TufServer"]

#: Names a TUF client asks for (TUF spec §5: versioned metadata, consistent-snapshot targets).
_NAME = re.compile(r"^/(?:\d{1,10}\.(?:root|snapshot|targets)\.json|(?:timestamp|root|snapshot|targets)\.json|"
                   r"targets/[0-9a-f]{64}\.[A-Za-z0-9._-]{1,128})$")

#: Where the bytes of a requested name come from (a directory, or a tampering simulator).
Lookup = Callable[[str], "bytes | None"]


def _directory_lookup(directory: Path) -> Lookup:
    """Read names from `directory` (a `TufRepository.repo_dir`)."""
    def lookup(name: str) -> bytes | None:
        path = directory / name.lstrip("/")
        return path.read_bytes() if path.is_file() else None
    return lookup


def make_app(lookup: Lookup) -> Callable[[Environ, StartResponse], list[bytes]]:
    """A WSGI app answering GETs for TUF metadata and targets from `lookup`."""
    def app(environ: Environ, start: StartResponse) -> list[bytes]:
        path = str(environ.get("PATH_INFO", "/"))
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            start("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"GET only\n"]
        data = lookup(path) if _NAME.match(path) else None
        if data is None:
            start("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        start("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
    return app


class TufServer(BackgroundServer):
    """A background HTTP server for a TUF repository directory (or any `Lookup`)."""

    def __init__(self, source: Path | Lookup, *, port: int = 0) -> None:
        lookup = _directory_lookup(source) if isinstance(source, Path) else source
        super().__init__(make_app(lookup), port=port, threads=2, max_request_body_size=1024, ident="labkit-tuf")
