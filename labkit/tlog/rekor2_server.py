"""The Rekor v2 HTTP face: the write call and the tlog-tiles read API, as one WSGI app.

Routes (rekor-tiles ``api/proto/rekor/v2/rekor_service.proto``, C2SP tlog-tiles):

* ``POST /api/v2/log/entries`` — a ``hashedRekordRequestV002``; 201 with the
  ``TransparencyLogEntry`` JSON once a checkpoint covers the entry;
* ``GET /api/v2/checkpoint`` — the signed checkpoint, ``text/plain``;
* ``GET /api/v2/tile/<L>/<N>[.p/<W>]`` and ``/api/v2/tile/entries/<N>[.p/<W>]``
  — tiles and entry bundles, ``application/octet-stream``; 404 when absent.

Errors are grpc-gateway-style JSON, as rekor-tiles answers them:
``{"code": <gRPC code>, "message": "...", "details": []}`` (400 → 3
INVALID_ARGUMENT, 404 → 5 NOT_FOUND). Bad input is always a 4xx, never a 500.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from labkit._internal.wsgi import BackgroundServer, Environ, HTTPError, StartResponse
from labkit.errors import InputError, LabkitError
from labkit.lab import Lab
from labkit.tlog.rekor2 import MAX_REQUEST_BYTES, Rekor2Service, RekorRequestError
from labkit.tlog.tilelog import TileLog, origin_for_url
from labkit.tlog.tiles import TileError, parse_path

__all__ = ["PREFIX", "Rekor2App", "serve_rekor2"]

PREFIX = "/api/v2"
_GRPC_CODES = {400: 3, 404: 5, 405: 12, 411: 3, 413: 8, 500: 13, 503: 14}
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}


def _answer(start: StartResponse, status: int, body: bytes, ctype: str,
            headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    start(f"{status} {_REASONS.get(status, '')}",
          [("Content-Type", ctype), ("Content-Length", str(len(body))), *headers])
    return [body]


def _error(start: StartResponse, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    doc = {"code": _GRPC_CODES.get(status, 2), "message": message, "details": []}
    return _answer(start, status, json.dumps(doc).encode() + b"\n", "application/json", headers)


def _read_body(environ: Environ, limit: int) -> bytes:
    length_s = environ.get("CONTENT_LENGTH") or ""
    if not length_s:
        data: bytes = environ["wsgi.input"].read(limit + 1)
    elif not length_s.isdigit():
        raise HTTPError(400, "bad Content-Length")
    elif int(length_s) > limit:
        raise HTTPError(413, f"request body of {length_s} bytes is larger than the limit of {limit}")
    else:
        data = environ["wsgi.input"].read(int(length_s))
    if len(data) > limit:
        raise HTTPError(413, f"request body is larger than the limit of {limit} bytes")
    return data


class Rekor2App:
    """WSGI app over a `TileLog` (reads) and a `Rekor2Service` (writes); either may be attached later."""

    def __init__(self, log: TileLog | None = None, service: Rekor2Service | None = None, *,
                 prefix: str = PREFIX) -> None:
        self.log = log
        self.service = service
        self.prefix = prefix.rstrip("/")

    def attach(self, log: TileLog, service: Rekor2Service | None) -> None:
        """Serve `log` (and write through `service`); for servers whose URL is known only once bound."""
        self.log, self.service = log, service

    def __call__(self, environ: Environ, start: StartResponse) -> list[bytes]:
        try:
            return self._route(environ, start)
        except HTTPError as exc:
            return _error(start, exc.status, exc.message, exc.headers)
        except RekorRequestError as exc:
            return _error(start, 400, exc.message)
        except Exception as exc:  # noqa: BLE001 - a server answers, it never shows a traceback
            return _error(start, 500, f"internal error: {type(exc).__name__}")

    def _route(self, environ: Environ, start: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if self.log is None or not path.startswith(self.prefix + "/"):
            raise HTTPError(404, f"no such resource: {path}")
        rel = path[len(self.prefix) + 1 :]
        if rel == "log/entries":
            if method != "POST":
                raise HTTPError(405, "use POST to create an entry", [("Allow", "POST")])
            return self._create(environ, start)
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, f"{method} is not allowed here", [("Allow", "GET, HEAD")])
        if rel == "checkpoint":
            note = self.log.read("checkpoint")
            return _answer(start, 200, note, "text/plain; charset=utf-8", [("Cache-Control", "no-cache")])
        if rel.startswith("tile/"):
            try:
                tile = parse_path(rel)
                data = self.log.read(tile.path())
            except (TileError, InputError) as exc:
                raise HTTPError(404, exc.message) from None
            return _answer(start, 200, data, "application/octet-stream",
                           [("Cache-Control", "public, max-age=31536000, immutable")])
        raise HTTPError(404, f"no such resource: {path}")

    def _create(self, environ: Environ, start: StartResponse) -> list[bytes]:
        if self.service is None:
            raise HTTPError(405, "this log is read-only")
        body = _read_body(environ, MAX_REQUEST_BYTES)
        try:
            entry = self.service.create_entry(body)
        except RekorRequestError:
            raise
        except LabkitError as exc:
            raise HTTPError(503, exc.message) from None
        return _answer(start, 201, json.dumps(entry).encode(), "application/json")


@dataclass
class Rekor2Server:
    """A running Rekor v2 log on loopback: its server, log and service."""

    server: BackgroundServer
    log: TileLog
    service: Rekor2Service

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def stop(self) -> None:
        """Stop serving and close the log."""
        self.server.stop()
        self.service.close()

    def __enter__(self) -> Rekor2Server:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_rekor2(directory: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0, lab: Lab | None = None,
                 origin: str | None = None, threads: int = 8, max_batch: int = 4096) -> Rekor2Server:
    """Open (or create) the tile log in `directory` and serve it.

    The checkpoint origin is `origin`, by default the served URL without its scheme (``127.0.0.1:PORT``),
    as verifiers tie it to the trusted root's ``baseUrl``; an existing log must have that origin, so a
    log is served at a fixed address (or behind a proxy whose host is given as `origin`).
    """
    app = Rekor2App()
    server = BackgroundServer(app, host=host, port=port, threads=threads, max_request_body_size=1 << 20,
                              ident="labkit-rekor2")
    try:
        log = TileLog.open(directory, origin=origin or origin_for_url(server.url), lab=lab)
    except BaseException:
        server.start().stop()  # closes the listening socket
        raise
    service = Rekor2Service(log, max_batch=max_batch)
    app.attach(log, service)
    server.start()
    return Rekor2Server(server, log, service)
