"""A client for a Rekor v2 log on loopback: the write call, and the tile reader at the same base URL.

    >>> # client = Rekor2Client("http://127.0.0.1:3003")
    >>> # bundle = sign_blob(data, key, tlog=client.uploader())
    >>> # tiles = TileClient(client.tiles(), origin=..., key=...)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from labkit._internal.jsonio import loads
from labkit.bundle import TransparencyLogEntry
from labkit.errors import LogError
from labkit.tlog.rekor2 import hashedrekord_request
from labkit.tlog.tileclient import HTTPSource

if TYPE_CHECKING:
    import requests

    from labkit.sign import SignedArtifact

__all__ = ["Rekor2Client"]


class Rekor2Error(LogError):
    """The log refused the entry or could not be reached (`status` 0 when there was no answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Rekor v2 log answered {status}: {message}" if status else message,
                         details={"status": status})
        self.status = status


class Rekor2Client:
    """The Rekor v2 API at `url` (``/api/v2/...``); loopback only unless `allow_remote`."""

    def __init__(self, url: str, *, timeout: float = 30.0, allow_remote: bool = False,
                 session: requests.Session | None = None) -> None:
        import requests

        self.url = url.rstrip("/")
        self.source = HTTPSource(self.url + "/api/v2", timeout=timeout, allow_remote=allow_remote,
                                 session=session or requests.Session())
        self.timeout = timeout

    def tiles(self) -> HTTPSource:
        """The tile reader for this log (``/api/v2/checkpoint``, ``/api/v2/tile/...``)."""
        return self.source

    def create_entry(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """POST a ``hashedRekordRequestV002``; the ``TransparencyLogEntry`` JSON (Rekor v2 waits for a checkpoint)."""
        import requests

        try:
            resp = self.source.session.post(f"{self.url}/api/v2/log/entries", json=dict(request), timeout=self.timeout)
        except requests.RequestException as exc:
            raise Rekor2Error(0, f"cannot reach the log at {self.url}: {exc}") from None
        doc = loads(resp.content, what="log answer", error=lambda m: Rekor2Error(resp.status_code, m))
        if resp.status_code not in (200, 201):
            message = doc.get("message") if isinstance(doc, dict) else None
            raise Rekor2Error(resp.status_code, str(message or resp.reason))
        if not isinstance(doc, dict):
            raise Rekor2Error(resp.status_code, "the answer is not a TransparencyLogEntry object")
        return doc

    def uploader(self) -> Callable[[SignedArtifact], TransparencyLogEntry]:
        """A ``tlog=`` hook for `labkit.sign.sign_blob`."""

        def upload(signed: SignedArtifact) -> TransparencyLogEntry:
            tle = self.create_entry(hashedrekord_request(signed.digest, signed.signature, signed.verifying_key))
            return TransparencyLogEntry.from_dict(tle, "tlogEntry")

        return upload
