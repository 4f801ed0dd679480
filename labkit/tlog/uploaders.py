"""One log-upload hook per signing-config log service, by its ``majorApiVersion``.

A signing config names each log with the API major version it speaks
(protobuf-specs ``Service.majorApiVersion``): 1 is Rekor v1 (``/api/v1/log/entries``,
hashedrekord 0.0.1, a signed entry timestamp), 2 is Rekor v2
(``/api/v2/log/entries``, hashedrekord 0.0.2, no SET: time comes from an RFC
3161 timestamp). `uploader_for` is the one place that choice is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from labkit.bundle import TransparencyLogEntry
from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.sign import SignedArtifact

__all__ = ["SUPPORTED_REKOR_APIS", "uploader_for"]

#: The Rekor API major versions labkit writes to (highest first is what a signing config selects).
SUPPORTED_REKOR_APIS = (1, 2)


def uploader_for(url: str, api_version: int) -> Callable[[SignedArtifact], TransparencyLogEntry]:
    """The ``tlog=`` hook of `labkit.sign.sign_blob` for the log at `url` speaking Rekor API `api_version`."""
    if api_version == 1:
        from labkit.tlog.client import RekorClient

        return RekorClient(url).uploader()
    if api_version == 2:
        from labkit.tlog.rekor2_client import Rekor2Client

        return Rekor2Client(url).uploader()
    raise InputError(f"labkit cannot write to a Rekor API v{api_version} log at {url}",
                     details={"supported": ", ".join(map(str, SUPPORTED_REKOR_APIS))})
