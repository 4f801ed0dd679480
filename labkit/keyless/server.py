"""The instance's network face on loopback: OIDC discovery and JWKS, Fulcio's v2 API, and the Rekor v1 log.

On a Rekor v2 instance (``labkit init --rekor-api 2``) the tile log is served too
(`labkit.tlog.rekor2_server.Rekor2App`: ``POST /api/v2/log/entries``, ``/api/v2/checkpoint``,
``/api/v2/tile/...``) and the signing config names it with ``majorApiVersion: 2``.
Routes (Fulcio ``fulcio.proto`` HTTP mapping, OpenID Connect Discovery 1.0):

======  ==================================  ===========================================
GET     /.well-known/openid-configuration   the issuer's discovery document
GET     /keys                               the issuer's JWKS (RFC 7517)
POST    /api/v2/signingCert                 token + CSR (or key + proof) → leaf, chain
GET     /api/v2/trustBundle                 the CA chains
POST    /api/v1/timestamp                   RFC 3161 query → reply (`labkit.tsa.server`)
GET     /api/v1/timestamp/certchain         the TSA chain, leaf first
======  ==================================  ===========================================

The transparency log is served next to it by `labkit.tlog.server.LogServer`;
on a Rekor v2 instance (``labkit init --rekor-api 2``) the tile log is served too
(`labkit.tlog.rekor2_server.Rekor2App`: ``POST /api/v2/log/entries``,
``/api/v2/checkpoint``, ``/api/v2/tile/...``) and the signing config names it
with ``majorApiVersion: 2``.
With both running, unmodified Sigstore clients sign against the lab
instance: `InstanceServer.client_trust_config_json()` points them there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal.encoding import b64decode_field
from labkit._internal.jsonio import JSONValue
from labkit._internal.wsgi import DEFAULT_TIMEOUTS, BackgroundServer, Environ, StartResponse, Timeouts
from labkit._internal.wsgi import HTTPError as _HTTPError
from labkit._internal.wsgi import json_response as _respond
from labkit._internal.wsgi import read_json as _read_json
from labkit.errors import LabkitError
from labkit.keyless.ca import CertificateRequest
from labkit.keyless.checks import IssuanceRefused
from labkit.keyless.trustroot import client_trust_config
from labkit.keys import load_public_key
from labkit.tlog.rekor2_server import Rekor2App
from labkit.tlog.server import LogServer
from labkit.tsa.server import TIMESTAMP_PATH
from labkit.tsa.server import make_app as make_tsa_app

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance

__all__ = ["InstanceServer"]

#: The largest request body accepted (a CSR and a token fit in far less).
MAX_BODY = 64 * 1024

def _b64(value: JSONValue, what: str) -> bytes:
    return b64decode_field(value, what, lambda message: _HTTPError(400, message), urlsafe=False)


def _pem(cert: x509.Certificate) -> str:
    return str(cert.public_bytes(serialization.Encoding.PEM).decode())


def make_app(instance: Instance, *, max_body: int = MAX_BODY) -> Callable[[Environ, StartResponse], list[bytes]]:
    """The WSGI application for `instance`'s issuer and CA."""
    tsa_app = make_tsa_app(instance.tsa)

    def read_json(environ: Environ) -> Any:
        if not environ.get("CONTENT_LENGTH"):
            raise _HTTPError(411, "Content-Length is required")
        return _read_json(environ, max_body)

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
                request = CertificateRequest.from_csr(
                    _b64(doc["certificateSigningRequest"], "certificateSigningRequest")
                )
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
        if str(environ.get("PATH_INFO", "/")).startswith(TIMESTAMP_PATH):
            return tsa_app(environ, start)
        try:
            return route(str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO", "/")), environ, start)
        except _HTTPError as exc:
            return _respond(start, exc.status, {"code": exc.status, "message": exc.message})
        except Exception:  # never leak a traceback to a client
            return _respond(start, 500, {"code": 500, "message": "internal error"})

    return app


class InstanceServer:
    """Serve an instance's issuer + CA and its transparency log on 127.0.0.1, in background threads."""

    def __init__(self, instance: Instance, *, threads: int = 4, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> None:
        self.instance = instance
        self._server = BackgroundServer(make_app(instance), threads=threads,
                                        max_request_body_size=MAX_BODY + 4096, ident="labkit-ca", timeouts=timeouts)
        self.log_server = LogServer(instance.tlog, threads=threads, timeouts=timeouts)
        self._rekor2: BackgroundServer | None = None
        if instance.rekor_api == 2:
            self._rekor2 = BackgroundServer(Rekor2App(instance.rekor2_log, instance.rekor2), threads=threads,
                                            max_request_body_size=1 << 20, ident="labkit-rekor2", timeouts=timeouts)

    @property
    def url(self) -> str:
        """Base URL of the issuer and CA, e.g. ``http://127.0.0.1:40123``."""
        return self._server.url

    @property
    def tsa_url(self) -> str:
        """The timestamp endpoint (RFC 3161 over HTTP, as sigstore's timestamp-authority serves it)."""
        return self._server.url + TIMESTAMP_PATH

    @property
    def tlog_url(self) -> str:
        """Base URL of the log the signing config names: the Rekor v2 API on a v2 instance, else Rekor v1."""
        return self._rekor2.url if self._rekor2 is not None else self.log_server.url

    def start(self) -> InstanceServer:
        """Start the servers; returns self."""
        self.log_server.start()
        if self._rekor2 is not None:
            self._rekor2.start()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop the servers and wait for their threads."""
        self._server.stop()
        if self._rekor2 is not None:
            self._rekor2.stop()
        self.log_server.stop()

    def __enter__(self) -> InstanceServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def client_trust_config_json(self) -> bytes:
        """A ClientTrustConfig whose signing config points at these loopback servers."""
        doc = client_trust_config(
            self.instance.trusted_root(), ca_url=self.url, oidc_url=self.url,
            tlog_url=None if self.instance.timestamp_only else self.tlog_url,
            tsa_url=self.tsa_url, start=self.instance.created, tlog_api_version=self.instance.rekor_api,
        )
        return (json.dumps(doc, indent=2) + "\n").encode()

