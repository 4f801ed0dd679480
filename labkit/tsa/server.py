"""The timestamp authority's HTTP face, routed as sigstore's timestamp-authority routes it.

======  ============================  ==============================================================
POST    /api/v1/timestamp             ``application/timestamp-query`` → ``application/timestamp-reply``
GET     /api/v1/timestamp/certchain   the TSA chain, leaf first, PEM
======  ============================  ==============================================================

A granted timestamp is answered 201 Created (sigstore's TSA does the same).
A request the responder refuses (malformed DER, unknown hash, foreign policy)
is answered 400 with the RFC 3161 rejection TimeStampResp as the body, so a
client sees both the HTTP error and the failInfo (RFC 3161 §2.4.2). A wrong
content type is 415, an oversized body 413, before any parsing; other errors
are JSON ``{"code", "message"}`` as in `labkit._internal.wsgi`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import TracebackType

from labkit._internal import der
from labkit._internal.wsgi import BackgroundServer, Environ, HTTPError, StartResponse, WSGIApp
from labkit.tsa.authority import PKIStatus, TimestampAuthority

__all__ = ["QUERY_TYPE", "TimestampServer", "make_app"]

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
TIMESTAMP_PATH = "/api/v1/timestamp"
CERTCHAIN_PATH = "/api/v1/timestamp/certchain"

_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error"}


def _reply(start: StartResponse, status: int, body: bytes, content_type: str,
           headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    start(f"{status} {_REASONS[status]}",
          [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]


def _error(start: StartResponse, exc: HTTPError) -> list[bytes]:
    body = json.dumps({"code": exc.status, "message": exc.message}, separators=(",", ":")).encode() + b"\n"
    return _reply(start, exc.status if exc.status in _REASONS else 400, body, "application/json", exc.headers)


def _read_body(environ: Environ, max_body: int) -> bytes:
    """The request body; 413 past `max_body` (checked before reading when Content-Length is given)."""
    length = str(environ.get("CONTENT_LENGTH") or "")
    if length:
        if not length.isdigit():
            raise HTTPError(400, "bad Content-Length")
        if int(length) > max_body:
            raise HTTPError(413, f"request body of {length} bytes is larger than the limit of {max_body}")
        return bytes(environ["wsgi.input"].read(int(length)))
    data = bytes(environ["wsgi.input"].read(max_body + 1))
    if len(data) > max_body:
        raise HTTPError(413, f"request body is larger than the limit of {max_body} bytes")
    return data


def _granted(response: bytes) -> bool:
    status_info = der.children(der.parse(response))[0]
    return der.decode_integer(der.children(status_info)[0]) == PKIStatus.GRANTED


def make_app(authority: TimestampAuthority) -> WSGIApp:
    """The WSGI application serving `authority`."""
    max_body = authority.max_request_bytes

    def timestamp(environ: Environ, start: StartResponse) -> list[bytes]:
        media_type = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
        if media_type != QUERY_TYPE:
            raise HTTPError(415, f"Content-Type must be {QUERY_TYPE}, not {media_type or 'missing'!r}")
        response = authority.respond(_read_body(environ, max_body))
        return _reply(start, 201 if _granted(response) else 400, response, REPLY_TYPE)

    def route(environ: Environ, start: StartResponse) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", "/")).rstrip("/") or "/"
        if path == TIMESTAMP_PATH:
            if method != "POST":
                raise HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "POST")])
            return timestamp(environ, start)
        if path == CERTCHAIN_PATH:
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, f"{method} is not allowed on {path}", [("Allow", "GET")])
            return _reply(start, 200, authority.chain_pem(), "application/pem-certificate-chain")
        raise HTTPError(404, f"no route {path}")

    def app(environ: Environ, start: StartResponse) -> list[bytes]:
        try:
            return route(environ, start)
        except HTTPError as exc:
            return _error(start, exc)
        except Exception:  # never leak a traceback to a client
            return _error(start, HTTPError(500, "internal error"))

    return app


class TimestampServer:
    """Serve a `TimestampAuthority` on loopback in a background thread; ``url`` is the timestamp endpoint."""

    def __init__(self, authority: TimestampAuthority, *, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 4) -> None:
        self.authority = authority
        self._server = BackgroundServer(make_app(authority), host=host, port=port, threads=threads,
                                        max_request_body_size=authority.max_request_bytes, ident="labkit-tsa")

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def url(self) -> str:
        """The timestamp endpoint, as a signing config's ``tsaUrls`` names it."""
        return self._server.url + TIMESTAMP_PATH

    def start(self) -> TimestampServer:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.stop()

    def __enter__(self) -> TimestampServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
