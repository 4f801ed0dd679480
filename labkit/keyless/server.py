"""The instance's network face on loopback: OIDC discovery and JWKS, Fulcio's v2 API, and the Rekor v1 log.

Routes (Fulcio ``fulcio.proto`` HTTP mapping, OpenID Connect Discovery 1.0):

======  ==================================  ===========================================
GET     /.well-known/openid-configuration   the issuer's discovery document
GET     /keys                               the issuer's JWKS (RFC 7517)
POST    /api/v2/signingCert                 token + CSR (or key + proof) → leaf, chain
GET     /api/v2/trustBundle                 the CA chains
======  ==================================  ===========================================

The transparency log is served next to it by `labkit.tlog.server.LogServer`.
With both running, unmodified Sigstore clients sign against the lab
instance: `InstanceServer.client_trust_config_json()` points them there.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from labkit.errors import LabkitError
from labkit.keyless.checks import IssuanceRefused

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance

__all__ = ["InstanceServer", "MAX_BODY", "make_app"]

#: The largest request body accepted (a CSR and a token fit in far less).
MAX_BODY = 64 * 1024

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Payload Too Large", 500: "Internal Server Error"}


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _respond(start: StartResponse, status: int, value: Any) -> list[bytes]:
    body = json.dumps(value, indent=None, separators=(",", ":")).encode()
    start(f"{status} {_REASONS.get(status, '')}",
          [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _HTTPError(400, f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _HTTPError(400, f"{what} is not valid base64") from None


def _pem(cert: Any) -> str:
    return str(cert.public_bytes(serialization.Encoding.PEM).decode())


def make_app(instance: Instance, *, max_body: int = MAX_BODY) -> Callable[[Environ, StartResponse], list[bytes]]:
    """The WSGI application for `instance`'s issuer and CA."""
    from labkit.keyless.ca import CertificateRequest
    from labkit.keys import load_public_key

    def read_json(environ: Environ) -> Any:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            raise _HTTPError(411, "Content-Length is required") from None
        if length > max_body:
            raise _HTTPError(413, f"request body over {max_body} bytes")
        try:
            return json.loads(environ["wsgi.input"].read(length))
        except (ValueError, UnicodeDecodeError):
            raise _HTTPError(400, "request body is not JSON") from None

    def signing_cert(environ: Environ) -> dict[str, Any]:
        doc = read_json(environ)
        if not isinstance(doc, dict):
            raise _HTTPError(400, "request must be a JSON object")
        token = ""
        auth = str(environ.get("HTTP_AUTHORIZATION", ""))
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        creds = doc.get("credentials")
        if isinstance(creds, dict) and isinstance(creds.get("oidcIdentityToken"), str):
            token = creds["oidcIdentityToken"]
        if not token:
            raise _HTTPError(401, "an OIDC identity token is required (Authorization: Bearer)")
        try:
            if "certificateSigningRequest" in doc:
                request = CertificateRequest.from_csr(_b64(doc["certificateSigningRequest"], "certificateSigningRequest"))
            elif isinstance(doc.get("publicKeyRequest"), dict):
                pkr = doc["publicKeyRequest"]
                key = pkr.get("publicKey") if isinstance(pkr.get("publicKey"), dict) else {}
                content = key.get("content")
                if not isinstance(content, str):
                    raise _HTTPError(400, "publicKeyRequest.publicKey.content must be a PEM string")
                request = CertificateRequest(load_public_key(content.encode()),
                                             _b64(pkr.get("proofOfPossession"), "proofOfPossession"))
            else:
                raise _HTTPError(400, "give certificateSigningRequest or publicKeyRequest")
            issued = instance.ca.issue(token, request)
        except IssuanceRefused as exc:
            raise _HTTPError(401 if exc.step.startswith("token.") else 400, exc.message) from None
        except LabkitError as exc:
            raise _HTTPError(400, exc.message) from None
        chain = [issued.certificate, *issued.chain]
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": [_pem(c) for c in chain]}}}

    def route(method: str, path: str, environ: Environ, start: StartResponse) -> list[bytes]:
        path = path.rstrip("/") or "/"
        gets: dict[str, Callable[[], Any]] = {
            "/.well-known/openid-configuration": instance.issuer.discovery,
            "/keys": instance.issuer.jwks,
            "/api/v2/trustBundle": lambda: {"chains": [{"certificates": [_pem(c) for c in instance.ca.chain]}]},
        }
        if path in gets:
            if method != "GET":
                raise _HTTPError(405, f"{method} is not allowed on {path}")
            return _respond(start, 200, gets[path]())
        if path == "/api/v2/signingCert":
            if method != "POST":
                raise _HTTPError(405, f"{method} is not allowed on {path}")
            return _respond(start, 200, signing_cert(environ))
        raise _HTTPError(404, f"no route {path}")

    def app(environ: Environ, start: StartResponse) -> list[bytes]:
        try:
            return route(str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO", "/")), environ, start)
        except _HTTPError as exc:
            return _respond(start, exc.status, {"code": exc.status, "message": exc.message})
        except Exception:  # never leak a traceback to a client
            return _respond(start, 500, {"code": 500, "message": "internal error"})

    return app


class InstanceServer:
    """Serve an instance's issuer + CA and its transparency log on 127.0.0.1, in background threads."""

    def __init__(self, instance: Instance, *, threads: int = 4) -> None:
        import waitress.server

        from labkit.tlog.server import LogServer

        self.instance = instance
        self._server = waitress.server.create_server(
            make_app(instance), host="127.0.0.1", port=0, threads=threads,
            max_request_body_size=MAX_BODY + 4096, clear_untrusted_proxy_headers=True, ident="labkit-ca",
        )
        self.log_server = LogServer(instance.tlog, threads=threads)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """Base URL of the issuer and CA, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{int(self._server.effective_port)}"  # type: ignore[union-attr]

    @property
    def tlog_url(self) -> str:
        """Base URL of the Rekor v1 API."""
        return self.log_server.url

    def start(self) -> InstanceServer:
        """Start both servers; returns self."""
        self.log_server.start()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="labkit-ca-server", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        from waitress import wasyncore

        server = self._server
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)  # type: ignore[union-attr]
        for channel in list(server._map.values()):  # type: ignore[union-attr]
            channel.close()
        server.task_dispatcher.shutdown()  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop both servers and wait for their threads."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=10)
            self._thread = None
        self.log_server.stop()

    def __enter__(self) -> InstanceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client_trust_config_json(self) -> bytes:
        """A ClientTrustConfig whose signing config points at these loopback servers."""
        from labkit.keyless.trustroot import client_trust_config

        doc = client_trust_config(
            self.instance.trusted_root(), ca_url=self.url, oidc_url=self.url, tlog_url=self.tlog_url,
            start=self.instance.created,
        )
        return (json.dumps(doc, indent=2) + "\n").encode()

