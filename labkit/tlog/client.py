"""A `requests` client for the Rekor v1 API subset `labkit.tlog.server` serves.

It talks to loopback only unless ``allow_remote=True``: labkit never
contacts public Sigstore services.

    >>> # client = RekorClient("http://127.0.0.1:3000"); client.log_info()["treeSize"]
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from labkit._internal.jsonio import JSONValue, JSONWritable
from labkit._internal.net import is_loopback
from labkit.errors import LogError
from labkit.keys import VerifyingKey, load_public_key
from labkit.tlog.entries import LogEntry, dsse_body, entry_uuid, hashedrekord_body, parse_body, search_hash

if TYPE_CHECKING:
    import requests

    from labkit.bundle import TransparencyLogEntry
    from labkit.sign import LogUploader, SignedArtifact

__all__ = ["RekorClient"]


class RekorAPIError(LogError):
    """The log answered with an error status (`status` and the server's message)."""

    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(f"log answered {status}: {message}", details={"status": status})
        self.status = status
        self.location = location


class RekorClient:
    """Client for a Rekor v1 style log at `url` (e.g. ``http://127.0.0.1:3000``)."""

    def __init__(self, url: str, *, timeout: float = 10.0, allow_remote: bool = False,
                 session: requests.Session | None = None) -> None:
        import requests

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LogError(f"log URL must be http(s)://host:port, got {url!r}")
        if not allow_remote and not is_loopback(parts.hostname):
            raise LogError(f"refusing to contact {parts.hostname}: labkit talks to loopback logs only",
                           hint="Run `labkit log serve` and use http://127.0.0.1:<port>.")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"RekorClient({self.url!r})"

    # -- HTTP -------------------------------------------------------------------

    def _request(self, method: str, path: str, *, json: JSONWritable | None = None,
                 params: Mapping[str, str] | None = None) -> Any:
        import requests

        try:
            resp = self.session.request(method, self.url + path, timeout=self.timeout, json=json, params=params)
        except requests.RequestException as exc:
            raise LogError(f"cannot reach the log at {self.url}: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            try:
                message = str(resp.json().get("message", resp.text))
            except ValueError:
                message = resp.text.strip()[:200]
            raise RekorAPIError(resp.status_code, message, resp.headers.get("Location"))
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            try:
                return resp.json()
            except ValueError:
                raise LogError("the log returned malformed JSON") from None
        return resp.content

    def _entry(self, value: JSONValue) -> LogEntry:
        if not isinstance(value, dict) or len(value) != 1:
            raise LogError("the log returned an entry map that does not hold exactly one entry")
        (key, data), = value.items()
        tree_id = int(key[:16], 16) if isinstance(key, str) and len(key) == 80 else None
        entry = LogEntry.from_api(data, tree_id=tree_id)
        # The map key names the entry; it must be the leaf hash of the body returned.
        if str(key)[-64:] != entry_uuid(entry.body):
            raise LogError("the log returned an entry whose body does not hash to its UUID")
        parse_body(entry.body)
        return entry

    # -- API ----------------------------------------------------------------------

    def create_entry(self, proposed: dict[str, Any]) -> LogEntry:
        """POST a proposed entry; returns the logged entry (with SET, proof and checkpoint)."""
        return self._entry(self._request("POST", "/api/v1/log/entries", json=proposed))

    def upload_hashedrekord(self, signature: bytes, public_key_or_cert_pem: bytes, artifact_sha256: bytes | str,
                            *, algorithm: str = "sha256") -> LogEntry:
        """Log a signature over an artifact digest."""
        body = hashedrekord_body(signature, public_key_or_cert_pem, artifact_sha256, algorithm=algorithm)
        return self.create_entry(json.loads(body))

    def upload_dsse(self, envelope_json: bytes | str, verifiers: Sequence[bytes]) -> LogEntry:
        """Log a DSSE envelope with the PEM keys/certificates that signed it."""
        dsse_body(envelope_json, verifiers)  # refuse locally what the log would refuse
        envelope = envelope_json.decode() if isinstance(envelope_json, bytes) else envelope_json
        return self.create_entry({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {"proposedContent": {"envelope": envelope,
                                         "verifiers": [base64.b64encode(v).decode() for v in verifiers]}},
        })

    def get_by_index(self, index: int) -> LogEntry:
        """The entry at a log index."""
        return self._entry(self._request("GET", "/api/v1/log/entries", params={"logIndex": str(index)}))

    def get_by_uuid(self, uuid: str) -> LogEntry:
        """The entry with a UUID or long entry ID."""
        return self._entry(self._request("GET", f"/api/v1/log/entries/{uuid}"))

    def log_info(self) -> dict[str, Any]:
        """``GET /api/v1/log``: treeSize, rootHash, signedTreeHead, treeID."""
        info = self._request("GET", "/api/v1/log")
        if not isinstance(info, dict) or "signedTreeHead" not in info:
            raise LogError("the log info answer has no signedTreeHead")
        return info

    def latest_checkpoint(self) -> str:
        """The current signed checkpoint (the witness `LogSource` protocol)."""
        return str(self.log_info()["signedTreeHead"])

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """``GET /api/v1/log/proof``: hashes from `size1` to `size2`."""
        data = self._request("GET", "/api/v1/log/proof", params={"firstSize": str(size1), "lastSize": str(size2)})
        try:
            return [bytes.fromhex(h) for h in data["hashes"]]
        except (KeyError, TypeError, ValueError):
            raise LogError("the consistency proof answer is malformed") from None

    def public_key(self) -> VerifyingKey:
        """The log's public key (``GET /api/v1/log/publicKey``)."""
        data = self._request("GET", "/api/v1/log/publicKey")
        return load_public_key(data if isinstance(data, bytes) else str(data).encode())

    def search(
        self, *, hash: str | None = None, public_key: bytes | None = None, email: str | None = None
    ) -> list[str]:
        """``POST /api/v1/index/retrieve``: entry IDs matching a digest, a PEM key/cert or an email."""
        query: dict[str, Any] = {}
        if hash is not None:
            query["hash"] = search_hash(hash)
        if public_key is not None:
            query["publicKey"] = {"format": "x509", "content": base64.b64encode(public_key).decode()}
        if email is not None:
            query["email"] = email
        result = self._request("POST", "/api/v1/index/retrieve", json=query)
        if not isinstance(result, list) or not all(isinstance(r, str) for r in result):
            raise LogError("the search answer is not a list of entry IDs")
        return list(result)

    def uploader(self) -> LogUploader:
        """A ``tlog=`` hook for `labkit.sign.sign_blob`: uploads a hashedrekord, returns the bundle entry."""

        def upload(signed: SignedArtifact) -> TransparencyLogEntry:
            entry = self.upload_hashedrekord(signed.signature, signed.verifying_key.pem(), signed.digest,
                                             algorithm=signed.hash_name)
            return entry.to_bundle_entry()

        return upload
