"""One log-upload hook per signing-config log service, by its ``majorApiVersion``.

A signing config names each log with the API major version it speaks
(protobuf-specs ``Service.majorApiVersion``): 1 is Rekor v1 (``/api/v1/log/entries``,
hashedrekord 0.0.1, a signed entry timestamp), 2 is Rekor v2
(``/api/v2/log/entries``, hashedrekord 0.0.2, no SET: time comes from an RFC
3161 timestamp). `uploader_for` is the one place that choice is made for blobs;
`Rekor2ImageLog` gives image signing the same two upload calls as a v1 log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.bundle import TransparencyLogEntry
from labkit.errors import InputError
from labkit.keys import load_public_key
from labkit.payloads import Envelope
from labkit.tlog.client import RekorClient
from labkit.tlog.rekor2 import dsse_request, hashedrekord_request
from labkit.tlog.rekor2_client import Rekor2Client

if TYPE_CHECKING:
    from labkit.sign import SignedArtifact

__all__ = ["SUPPORTED_REKOR_APIS", "Rekor2ImageLog", "uploader_for"]

#: The Rekor API major versions labkit writes to (highest first is what a signing config selects).
SUPPORTED_REKOR_APIS = (1, 2)


def uploader_for(url: str, api_version: int) -> Callable[[SignedArtifact], TransparencyLogEntry]:
    """The ``tlog=`` hook of `labkit.sign.sign_blob` for the log at `url` speaking Rekor API `api_version`."""
    if api_version == 1:
        return RekorClient(url).uploader()
    if api_version == 2:
        return Rekor2Client(url).uploader()
    raise InputError(f"labkit cannot write to a Rekor API v{api_version} log at {url}",
                     details={"supported": ", ".join(map(str, SUPPORTED_REKOR_APIS))})


@dataclass(frozen=True)
class Rekor2Logged:
    """A Rekor v2 entry where `labkit.oci.signatures.sign_image` expects a v1 `LogEntry`: it has no SET, so no
    legacy ``dev.sigstore.cosign/bundle`` annotation (`rekor_bundle` is None); the bundle gets the entry."""

    entry: TransparencyLogEntry

    def rekor_bundle(self) -> None:
        """None: a Rekor v2 entry has no v1 ``rekorBundle`` (no SET)."""
        return None

    def to_bundle_entry(self) -> TransparencyLogEntry:
        """The bundle's log entry, as the v2 log returned it."""
        return self.entry


class Rekor2ImageLog:
    """The two upload calls image signing makes (`RekorClient`'s), sent to a Rekor v2 log as hashedrekord 0.0.2."""

    def __init__(self, url: str) -> None:
        self.client = Rekor2Client(url)

    def _log(self, request: Mapping[str, Any]) -> Rekor2Logged:
        return Rekor2Logged(TransparencyLogEntry.from_dict(self.client.create_entry(request), "tlogEntry"))

    def upload_hashedrekord(self, signature: bytes, public_key_pem: bytes, artifact_sha256: bytes | str,
                            *, algorithm: str = "sha256") -> Rekor2Logged:
        """Log a signature over a SHA-256 digest (Rekor v2 logs SHA-256 digests only, for P-256 keys)."""
        if algorithm != "sha256":
            raise InputError(f"Rekor v2 hashedrekord entries here take SHA-256 digests, not {algorithm}")
        digest = bytes.fromhex(artifact_sha256) if isinstance(artifact_sha256, str) else artifact_sha256
        return self._log(hashedrekord_request(digest, signature, load_public_key(public_key_pem)))

    def upload_dsse(self, envelope_json: bytes | str, verifiers: Sequence[bytes]) -> Rekor2Logged:
        """Log a DSSE envelope as a hashedrekord over SHA-256(PAE) (Rekor v2 has no dsse kind)."""
        if len(verifiers) != 1:
            raise InputError("a DSSE envelope is logged in Rekor v2 with exactly one verifier")
        return self._log(dsse_request(Envelope.from_json(envelope_json), load_public_key(verifiers[0])))
