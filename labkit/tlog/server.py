"""The log's network face: a WSGI app with the Rekor v1 API subset clients use, served by waitress on loopback.

Routes (Rekor v1 ``openapi.yaml``):

======  ==================================  ===========================================
POST    /api/v1/log/entries                 create an entry (201, 409 if already logged)
GET     /api/v1/log/entries?logIndex=N      entry by index
GET     /api/v1/log/entries/{uuid|entryID}  entry by UUID or long entry ID
GET     /api/v1/log                         log info: size, root, signed checkpoint
GET     /api/v1/log/publicKey               the log key (PEM)
GET     /api/v1/log/proof?firstSize&lastSize consistency proof
POST    /api/v1/index/retrieve              search by hash, public key or email
GET     /room                               the read-only room page (only with ``room_page``)
======  ==================================  ===========================================

Errors are Rekor-style JSON ``{"code": <status>, "message": "..."}``; a body
larger than `max_body` is refused with 413 before it is read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from labkit._internal.wsgi import DEFAULT_TIMEOUTS, BackgroundServer, Environ, StartResponse, Timeouts, create_server
from labkit._internal.wsgi import HTTPError as _HTTPError
from labkit._internal.wsgi import json_response as _json_response
from labkit._internal.wsgi import read_json as _read_json
from labkit.errors import LabkitError, LogError, ProofError
from labkit.tlog.room import ROOM_PATH, render_room_page
from labkit.tlog.store import DuplicateEntryError, EntryNotFoundError, TransparencyLog

__all__ = ["LogServer", "serve"]

#: The largest request body accepted (Rekor's default ``max_request_body_size`` is larger; a lab needs less).
MAX_BODY = 1 << 20
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
#: Largest index or tree size a query may name (Rekor's int64 fields; SQLite's INTEGER).
INT64_MAX = (1 << 63) - 1


def _int_param(query: dict[str, list[str]], name: str, default: int | None = None) -> int:
    values = query.get(name)
    if not values:
        if default is None:
            raise _HTTPError(400, f"missing query parameter {name}")
        return default
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > INT64_MAX:
        raise _HTTPError(400, f"{name} must be an integer from 0 to {INT64_MAX}, got {raw[:40]!r}")
    return int(raw)


def _html_response(start: StartResponse, page: str) -> list[bytes]:
    body = page.encode("utf-8")
    start("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                     ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                     ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")])
    return [body]


def make_app(log: TransparencyLog, *, max_body: int = MAX_BODY,
             room_page: bool = False) -> Callable[[Environ, StartResponse], list[bytes]]:
    """The WSGI application serving `log` (and, with `room_page`, the read-only page at ``/room``)."""

    def read_json(environ: Environ) -> Any:
        return _read_json(environ, max_body)

    def entry_map(index_or_uuid: int | str) -> tuple[str, dict[str, Any]]:
        entry = log.get(index_or_uuid) if isinstance(index_or_uuid, int) else log.get_by_uuid(index_or_uuid)
        return entry.entry_id, {entry.entry_id: entry.to_api()}

    def route(method: str, path: str, environ: Environ, start: StartResponse) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        path = path.rstrip("/") or "/"
        if path == "/api/v1/log/entries":
            if method == "POST":
                proposed = read_json(environ)
                if not isinstance(proposed, dict):
                    raise _HTTPError(400, "proposed entry must be a JSON object")
                try:
                    entry = log.append_proposed(proposed)
                except DuplicateEntryError as exc:
                    existing = f"{log.tree_id:016x}{exc.uuid}"
                    raise _HTTPError(409, exc.message, [("Location", f"/api/v1/log/entries/{existing}")]) from None
                location = f"/api/v1/log/entries/{entry.entry_id}"
                return _json_response(start, 201, {entry.entry_id: entry.to_api()},
                                      [("Location", location), ("ETag", entry.uuid)])
            if method == "GET":
                _, value = entry_map(_int_param(query, "logIndex"))
                return _json_response(start, 200, value)
            raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET, POST")])
        if path.startswith("/api/v1/log/entries/") and path.count("/") == 5:
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            _, value = entry_map(path.rsplit("/", 1)[1])
            return _json_response(start, 200, value)
        if path == "/api/v1/log":
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            return _json_response(start, 200, log.info())
        if path == "/api/v1/log/publicKey":
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            key_pem = log.public_key_pem()
            start("200 OK", [("Content-Type", "application/x-pem-file"), ("Content-Length", str(len(key_pem)))])
            return [key_pem]
        if path == "/api/v1/log/proof":
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            last = _int_param(query, "lastSize")
            first = _int_param(query, "firstSize", 1)
            if first > last:
                raise _HTTPError(400, f"firstSize {first} must not be larger than lastSize {last}")
            if last > log.size:
                raise _HTTPError(400, f"lastSize {last} is larger than the log ({log.size} entries)")
            hashes = log.consistency_proof(first, last)
            return _json_response(start, 200, {"hashes": [h.hex() for h in hashes], "rootHash": log.root(last).hex()})
        if path == "/api/v1/index/retrieve":
            if method != "POST":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "POST")])
            query_doc = read_json(environ)
            if not isinstance(query_doc, dict):
                raise _HTTPError(400, "search query must be a JSON object")
            pk = query_doc.get("publicKey")
            pem: bytes | None = None
            if pk is not None:
                if not isinstance(pk, dict) or not isinstance(pk.get("content"), str):
                    raise _HTTPError(400, "publicKey must be {format, content (base64 PEM)}")
                if pk.get("format", "x509") != "x509":
                    raise _HTTPError(400, f"unsupported publicKey format {pk.get('format')!r}; this log supports x509")
                try:
                    pem = base64.b64decode(pk["content"], validate=True)
                except (binascii.Error, ValueError):
                    raise _HTTPError(400, "publicKey.content is not base64") from None
            h, email = query_doc.get("hash"), query_doc.get("email")
            if (h is not None and not isinstance(h, str)) or (email is not None and not isinstance(email, str)):
                raise _HTTPError(400, "hash and email must be strings")
            if h is None and pem is None and email is None:
                raise _HTTPError(400, "search needs hash, publicKey or email")
            indexes = log.search(hash=h, public_key=pem, email=email)
            return _json_response(start, 200, [log.get(i, proof=False).entry_id for i in indexes])
        if room_page and path == ROOM_PATH:
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            return _html_response(start, render_room_page(log))
        raise _HTTPError(404, f"no such API path: {path}")

    def app(environ: Environ, start: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        try:
            return route(method, path, environ, start)
        except _HTTPError as exc:
            return _json_response(start, exc.status, {"code": exc.status, "message": exc.message}, exc.headers)
        except EntryNotFoundError as exc:
            return _json_response(start, 404, {"code": 404, "message": exc.message})
        except (ProofError, LogError, LabkitError) as exc:
            return _json_response(start, 400, {"code": 400, "message": exc.message})
        except Exception as exc:  # never leak a traceback to the client
            return _json_response(start, 500, {"code": 500, "message": f"internal error: {type(exc).__name__}"})

    return app


def _check_host(host: str, allow_remote: bool) -> None:
    if host not in _LOOPBACK_HOSTS and not allow_remote:
        raise LogError(f"refusing to listen on {host}; the lab log serves loopback only ({', '.join(_LOOPBACK_HOSTS)})")


class LogServer(BackgroundServer):
    """A waitress server for a log, run in a background thread (for tests and notebooks).

    >>> # server = LogServer(log).start(); client = RekorClient(server.url); ...; server.stop()
    """

    def __init__(self, log: TransparencyLog, *, host: str = "127.0.0.1", port: int = 0,
                 max_body: int = MAX_BODY, threads: int = 4, timeouts: Timeouts = DEFAULT_TIMEOUTS,
                 room_page: bool = False) -> None:
        _check_host(host, False)
        self.log = log
        super().__init__(make_app(log, max_body=max_body, room_page=room_page), host=host, port=port, threads=threads,
                         max_request_body_size=max_body * 4 + 4096, ident="labkit-tlog", timeouts=timeouts)

    def start(self) -> LogServer:
        """Serve in a daemon thread; returns self."""
        super().start()
        return self

    def __enter__(self) -> LogServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(log: TransparencyLog, *, host: str = "127.0.0.1", port: int = 3000, max_body: int = MAX_BODY,
          threads: int = 4, ready: Callable[[str], None] | None = None,
          timeouts: Timeouts = DEFAULT_TIMEOUTS, room_page: bool = False) -> None:
    """Serve `log` in the foreground until interrupted (``labkit log serve``); stalled clients are dropped."""
    _check_host(host, False)
    server = create_server(make_app(log, max_body=max_body, room_page=room_page), host=host, port=port, threads=threads,
                           max_request_body_size=max_body * 4 + 4096, ident="labkit-tlog", timeouts=timeouts)
    if ready is not None:
        ready(f"http://{host}:{server.effective_port}")
    try:
        server.run()
    finally:
        server.close()
