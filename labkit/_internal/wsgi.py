"""The pieces every labkit HTTP face shares: JSON errors, bounded JSON bodies, a waitress server in a thread.

The log (`labkit.tlog.server`) and the keyless instance (`labkit.keyless.server`)
serve WSGI apps on loopback with waitress. This module holds what they have
in common so both refuse oversized bodies the same way, drop stalled clients
the same way (`Timeouts`, `create_server`) and stop cleanly.

A client that opens a connection and sends nothing, or stops half way
through its headers, is disconnected after `Timeouts.idle` seconds
(waitress's ``channel_timeout``); one that drips its request a byte at a time
is disconnected when the whole request has not arrived `Timeouts.request`
seconds after its first byte (a header deadline waitress lacks, added here).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from labkit._internal import jsonio
from labkit._internal.jsonio import JSONValue, JSONWritable
from labkit.errors import InputError

if TYPE_CHECKING:
    import waitress.adjustments
    import waitress.server

__all__ = ["DEFAULT_TIMEOUTS", "BackgroundServer", "Environ", "HTTPError", "StartResponse", "Timeouts",
           "WSGIApp", "create_server", "json_response", "read_json"]

Environ = dict[str, Any]
"""A WSGI environ (PEP 3333): CGI strings plus ``wsgi.*`` objects of many types, hence ``Any`` values."""


class StartResponse(Protocol):
    """PEP 3333's ``start_response(status, response_headers)`` as labkit's apps call it: they never pass
    ``exc_info`` and never use the returned ``write`` callable, so a test's stand-in needs neither."""

    def __call__(self, status: str, headers: list[tuple[str, str]], /) -> object: ...


WSGIApp = Callable[[Environ, StartResponse], list[bytes]]

_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 411: "Length Required", 413: "Payload Too Large",
            500: "Internal Server Error"}


class HTTPError(Exception):
    """An error answered to the client as JSON ``{"code": status, "message": ...}``."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


def json_response(
    start: StartResponse, status: int, value: JSONWritable, headers: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    """Answer `value` as compact JSON with `status`."""
    body = json.dumps(value, separators=(",", ":")).encode() + b"\n"
    start(f"{status} {_REASONS.get(status, '')}",
          [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers])
    return [body]


def read_json(environ: Environ, max_body: int) -> JSONValue:
    """The request body as bounded JSON (`jsonio.loads`); 413 past `max_body` (checked before reading), 400
    when it is not JSON or nests too deep."""
    length_s = environ.get("CONTENT_LENGTH") or ""
    if length_s:
        if not length_s.isdigit():
            raise HTTPError(400, "bad Content-Length")
        if int(length_s) > max_body:
            raise HTTPError(413, f"request body of {length_s} bytes is larger than the limit of {max_body}")
        data = environ["wsgi.input"].read(int(length_s))
    else:
        data = environ["wsgi.input"].read(max_body + 1)
        if len(data) > max_body:
            raise HTTPError(413, f"request body is larger than the limit of {max_body} bytes")
    try:
        return jsonio.loads(data, what="request body", max_bytes=max_body)
    except InputError as exc:  # not JSON, nested too deep, NaN, lone surrogates: the client's fault
        raise HTTPError(400, exc.message) from None


@dataclass(frozen=True)
class Timeouts:
    """How long a client may take: `request` seconds for a whole request (headers and body) once it has begun,
    `idle` seconds of silence on a connection (before, inside or between requests). Whole seconds, at least 1."""

    request: int = 10
    idle: int = 30

    def __post_init__(self) -> None:
        for name in ("request", "idle"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Timeouts.{name} must be a whole number of seconds >= 1, got {value!r}")


DEFAULT_TIMEOUTS = Timeouts()


def create_server(app: WSGIApp, *, host: str, port: int, threads: int, max_request_body_size: int, ident: str,
                  timeouts: Timeouts = DEFAULT_TIMEOUTS) -> Any:
    """A waitress server for `app` that disconnects stalled clients (`timeouts`), not yet serving."""
    import waitress.server

    server = waitress.server.create_server(
        app, host=host, port=port, threads=threads, max_request_body_size=max_request_body_size,
        clear_untrusted_proxy_headers=True, ident=ident,
        channel_timeout=timeouts.idle, cleanup_interval=1,  # idle connections: checked every second
    )
    # One server per listening socket (a host name may resolve to several: waitress's MultiSocketServer).
    if isinstance(server, waitress.server.BaseWSGIServer):
        servers = [server]
    else:
        servers = [s for s in server.map.values() if isinstance(s, waitress.server.BaseWSGIServer)]
    for each in servers:
        _add_request_deadline(each, timeouts.request)
    return server


def _add_request_deadline(server: waitress.server.BaseWSGIServer, seconds: int) -> None:
    """Close a connection whose current request is still incomplete `seconds` after its first byte."""
    import waitress.channel
    import waitress.parser

    class _TimedParser(waitress.parser.HTTPRequestParser):  # type: ignore[misc]
        def __init__(self, adj: waitress.adjustments.Adjustments) -> None:
            super().__init__(adj)
            self.labkit_started = time.monotonic()

    class _Channel(waitress.channel.HTTPChannel):  # type: ignore[misc]
        parser_class = _TimedParser

    server.channel_class = _Channel
    idle_check = server.maintenance

    def maintenance(now: float) -> None:
        idle_check(now)  # waitress: channel_timeout for silent connections
        cutoff = time.monotonic() - seconds
        for channel in list(server.active_channels.values()):
            request = channel.request
            if request is not None and not channel.requests and getattr(request, "labkit_started", cutoff) < cutoff:
                channel.will_close = True

    server.maintenance = maintenance


class BackgroundServer:
    """A waitress server for `app` on `host`, run in a daemon thread (tests, notebooks, `labkit serve`).

    `stop()` closes every open connection and the listening socket from the
    serving thread, then stops the worker threads.
    """

    def __init__(self, app: WSGIApp, *, host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 max_request_body_size: int = 1 << 20, ident: str = "labkit",
                 timeouts: Timeouts = DEFAULT_TIMEOUTS) -> None:
        self.host = host
        self.ident = ident
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     max_request_body_size=max_request_body_size, ident=ident, timeouts=timeouts)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Serve in a daemon thread; returns self."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{self.ident}-server", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        from waitress import wasyncore

        server = self._server
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        for channel in list(server._map.values()):
            channel.close()
        server.task_dispatcher.shutdown()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self._thread = None
