"""The Rekor v2 write path: ``hashedRekordRequestV002`` in, ``TransparencyLogEntry`` out (no HTTP here).

Rekor v2 (sigstore/rekor-tiles ``api/proto/rekor/v2``) has one write call and
one entry type, ``hashedrekord`` 0.0.2:

1. `parse_request` reads the request JSON (proto3 JSON names, camelCase or
   snake_case): digest, signature content, and a verifier (public key SPKI or
   X.509 certificate DER) with its ``keyDetails``;
2. `verify_request` checks the signature over the digest with the algorithm
   the key details name (ECDSA P-256/384/521, RSA PKCS#1 v1.5); pure Ed25519
   is refused, as rekor-tiles does, because it signs the message, not a digest;
3. `canonical_entry` builds the logged body: the RFC 8785 form of
   ``{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{data, signature}}}``;
4. `Rekor2Service` deduplicates by leaf hash, queues the entry, and a
   background integrator appends whatever is queued as one batch to the
   `TileLog` (group commit); `create_entry` returns once a checkpoint covers
   the entry, with the inclusion proof computed from tiles.

The answer has no integrated time and no inclusion promise (rekor-tiles
``CLIENTS.md``): time comes from an RFC 3161 timestamp.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from labkit._internal.encoding import b64decode_field
from labkit._internal.jsonio import JSONValue, JSONWritable, loads
from labkit.bundle import TransparencyLogEntry
from labkit.errors import LogError
from labkit.keys import KeyAlgorithm, VerifyingKey
from labkit.payloads import Envelope
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint
from labkit.tlog.entries import canonical_json

if TYPE_CHECKING:
    from labkit.sign import SignedArtifact

__all__ = [
    "Rekor2Service", "canonical_entry", "dsse_request", "hashedrekord_request", "parse_request", "trusted_root_tlog",
]

MAX_REQUEST_BYTES = 64 * 1024  # an entry must fit a uint16-prefixed entry bundle slot
KIND, VERSION = "hashedrekord", "0.0.2"


class RekorRequestError(LogError):
    """A create-entry request that the log refuses (HTTP 400)."""

    hint = "Send a hashedRekordRequestV002 whose signature verifies over the digest with the given key or certificate."


@dataclass(frozen=True)
class _Algorithm:
    key_type: type
    detail: str  # curve name or RSA size
    hash: hashes.HashAlgorithm
    proto_hash: str


#: Key details the log accepts (rekor-tiles ``internal/algorithmregistry``), minus pure Ed25519.
ALGORITHMS: dict[str, _Algorithm] = {
    "PKIX_ECDSA_P256_SHA_256": _Algorithm(ec.EllipticCurvePublicKey, "secp256r1", hashes.SHA256(), "SHA2_256"),
    "PKIX_ECDSA_P384_SHA_384": _Algorithm(ec.EllipticCurvePublicKey, "secp384r1", hashes.SHA384(), "SHA2_384"),
    "PKIX_ECDSA_P521_SHA_512": _Algorithm(ec.EllipticCurvePublicKey, "secp521r1", hashes.SHA512(), "SHA2_512"),
    "PKIX_RSA_PKCS1V15_2048_SHA256": _Algorithm(rsa.RSAPublicKey, "2048", hashes.SHA256(), "SHA2_256"),
    "PKIX_RSA_PKCS1V15_3072_SHA256": _Algorithm(rsa.RSAPublicKey, "3072", hashes.SHA256(), "SHA2_256"),
    "PKIX_RSA_PKCS1V15_4096_SHA256": _Algorithm(rsa.RSAPublicKey, "4096", hashes.SHA256(), "SHA2_256"),
}
_REFUSED = {
    "PKIX_ED25519": "pure Ed25519 signs the whole message, so the log cannot verify it over a digest; "
                    "Rekor v2 refuses it (use Ed25519ph, ECDSA or RSA)",
    "PKIX_ED25519_PH": "Ed25519ph is not supported by this log's crypto library",
}


@dataclass(frozen=True)
class HashedRekordRequest:
    """A parsed ``hashedRekordRequestV002``: raw bytes, not yet verified."""

    digest: bytes
    signature: bytes
    key_details: str
    public_key: bytes = b""  # DER SubjectPublicKeyInfo, or
    certificate: bytes = b""  # DER X.509 certificate


def _field(obj: Mapping[str, Any], camel: str, where: str, *, required: bool = True) -> Any:
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    present = [k for k in dict.fromkeys((camel, snake)) if k in obj]
    if len(present) > 1:
        raise RekorRequestError(f"{where} sets both {camel} and {snake}")
    if not present:
        if required:
            raise RekorRequestError(f"{where}.{camel} is missing")
        return None
    return obj[present[0]]


def _object(value: JSONValue | Mapping[str, Any], where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise RekorRequestError(f"{where} must be a JSON object")
    return value


def _bytes(value: JSONValue, where: str) -> bytes:
    raw = b64decode_field(value, where, RekorRequestError)
    if not raw:
        raise RekorRequestError(f"{where} is empty")
    return raw


def parse_request(data: bytes | Mapping[str, Any]) -> HashedRekordRequest:
    """Read a create-entry request (JSON bytes or parsed); raises `RekorRequestError`."""
    doc = loads(data, what="create-entry request", error=RekorRequestError, max_bytes=MAX_REQUEST_BYTES) \
        if isinstance(data, (bytes, bytearray)) else data
    top = _object(doc, "request")
    if any(k in top for k in ("dsseRequestV002", "dsse_request_v002")):
        raise RekorRequestError("dsse entries are not accepted; "
                                "log a DSSE envelope as a hashedrekord over its PAE digest")
    known = {"hashedRekordRequestV002", "hashed_rekord_request_v002"}
    if set(top) - known or len(set(top) & known) != 1:
        got = sorted(top) or "nothing"
        raise RekorRequestError(f"the request must hold exactly hashedRekordRequestV002, got {got}")
    req = _object(_field(top, "hashedRekordRequestV002", "request"), "hashedRekordRequestV002")
    where = "hashedRekordRequestV002"
    digest = _bytes(_field(req, "digest", where), f"{where}.digest")
    sig = _object(_field(req, "signature", where), f"{where}.signature")
    content = _bytes(_field(sig, "content", f"{where}.signature"), f"{where}.signature.content")
    verifier = _object(_field(sig, "verifier", f"{where}.signature"), f"{where}.signature.verifier")
    vw = f"{where}.signature.verifier"
    details = _field(verifier, "keyDetails", vw)
    if not isinstance(details, str):
        raise RekorRequestError(f"{vw}.keyDetails must be a string")
    key = _field(verifier, "publicKey", vw, required=False)
    cert = _field(verifier, "x509Certificate", vw, required=False)
    if (key is None) == (cert is None):
        raise RekorRequestError(f"{vw} must hold exactly one of publicKey and x509Certificate")
    if key is not None:
        der = _bytes(_field(_object(key, f"{vw}.publicKey"), "rawBytes", f"{vw}.publicKey"), f"{vw}.publicKey.rawBytes")
        return HashedRekordRequest(digest, content, details, public_key=der)
    der = _bytes(_field(_object(cert, f"{vw}.x509Certificate"), "rawBytes", f"{vw}.x509Certificate"),
                 f"{vw}.x509Certificate.rawBytes")
    return HashedRekordRequest(digest, content, details, certificate=der)


def _verifier_key(req: HashedRekordRequest) -> object:
    try:
        if req.public_key:
            return serialization.load_der_public_key(req.public_key)
        return x509.load_der_x509_certificate(req.certificate).public_key()
    except (ValueError, UnsupportedAlgorithm, TypeError) as exc:
        what = "public key" if req.public_key else "certificate"
        raise RekorRequestError(f"the verifier's {what} cannot be parsed: {exc}") from None


def verify_request(req: HashedRekordRequest) -> None:
    """Check algorithm, key type, digest length and the signature over the digest; raises `RekorRequestError`."""
    if req.key_details in _REFUSED:
        raise RekorRequestError(f"unsupported key details {req.key_details}: {_REFUSED[req.key_details]}")
    alg = ALGORITHMS.get(req.key_details)
    if alg is None:
        raise RekorRequestError(f"unsupported key details {req.key_details!r}",
                                details={"supported": ", ".join(ALGORITHMS)})
    key = _verifier_key(req)
    if not isinstance(key, alg.key_type):
        kind = type(key).__name__.lstrip("_")
        raise RekorRequestError(f"the verifier's key is {kind}, not what {req.key_details} names")
    if len(req.digest) != alg.hash.digest_size:
        raise RekorRequestError(f"the digest is {len(req.digest)} bytes; {req.key_details} signs "
                                f"{alg.hash.digest_size}-byte {alg.hash.name} digests")
    pre = utils.Prehashed(alg.hash)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name != alg.detail:
                raise RekorRequestError(f"the verifier's curve is {key.curve.name}, not what {req.key_details} names")
            key.verify(req.signature, req.digest, ec.ECDSA(pre))
        elif isinstance(key, rsa.RSAPublicKey):
            if str(key.key_size) != alg.detail:
                raise RekorRequestError(f"the verifier's RSA key is {key.key_size} bits, "
                                        f"not what {req.key_details} names")
            key.verify(req.signature, req.digest, padding.PKCS1v15(), pre)
    except InvalidSignature:
        raise RekorRequestError("the signature does not verify over the digest with the given verifier") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def canonical_entry(req: HashedRekordRequest) -> bytes:
    """The logged hashedrekord 0.0.2 body, RFC 8785-canonical (what ``canonicalizedBody`` carries)."""
    alg = ALGORITHMS.get(req.key_details)
    if alg is None:
        raise RekorRequestError(f"unsupported key details {req.key_details!r}")
    verifier: dict[str, Any] = {"keyDetails": req.key_details}
    if req.public_key:
        verifier["publicKey"] = {"rawBytes": _b64(req.public_key)}
    else:
        verifier["x509Certificate"] = {"rawBytes": _b64(req.certificate)}
    body: JSONWritable = {
        "apiVersion": VERSION,
        "kind": KIND,
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": alg.proto_hash, "digest": _b64(req.digest)},
            "signature": {"content": _b64(req.signature), "verifier": verifier},
        }},
    }
    return canonical_json(body)


def parse_canonical_entry(body: bytes) -> HashedRekordRequest:
    """Read a logged hashedrekord 0.0.2 body back; refuses anything that is not exactly canonical."""
    doc = loads(body, what="entry body", error=RekorRequestError, max_bytes=MAX_REQUEST_BYTES)
    d = _object(doc, "entry")
    if d.get("kind") != KIND or d.get("apiVersion") != VERSION or set(d) != {"apiVersion", "kind", "spec"}:
        raise RekorRequestError("entry is not a hashedrekord 0.0.2 body")
    inner = _object(_object(d["spec"], "spec").get("hashedRekordV002"), "spec.hashedRekordV002")
    sig = _object(inner.get("signature"), "signature")
    request = {"hashedRekordRequestV002": {
        "digest": _object(inner.get("data"), "data").get("digest"),
        "signature": sig,
    }}
    req = parse_request(request)
    if canonical_entry(req) != bytes(body):
        raise RekorRequestError("entry body is not in canonical (RFC 8785) form")
    return req


_DETAILS = {
    KeyAlgorithm.ECDSA_P256: "PKIX_ECDSA_P256_SHA_256",
    KeyAlgorithm.ECDSA_P384: "PKIX_ECDSA_P384_SHA_384",
    KeyAlgorithm.ED25519: "PKIX_ED25519",
}


def _key_details_for(key: VerifyingKey) -> str:
    """The protobuf-specs ``PublicKeyDetails`` name a labkit key signs under (RSA: by its size)."""
    if key.algorithm in _DETAILS:
        return _DETAILS[key.algorithm]
    size = getattr(key.key, "key_size", 0)
    return f"PKIX_RSA_PKCS1V15_{size}_SHA256"


def hashedrekord_request(digest: bytes, signature: bytes, key: VerifyingKey, *,
                         certificate_der: bytes | None = None) -> dict[str, Any]:
    """The ``hashedRekordRequestV002`` JSON for a signature over `digest` (by `key`, or its certificate)."""
    verifier: dict[str, Any] = {"keyDetails": _key_details_for(key)}
    if certificate_der is not None:
        verifier["x509Certificate"] = {"rawBytes": _b64(certificate_der)}
    else:
        verifier["publicKey"] = {"rawBytes": _b64(key.der())}
    return {"hashedRekordRequestV002": {"digest": _b64(digest),
                                        "signature": {"content": _b64(signature), "verifier": verifier}}}


def dsse_request(envelope: Envelope, key: VerifyingKey, *, certificate_der: bytes | None = None) -> dict[str, Any]:
    """A DSSE envelope as Rekor v2 logs it: a hashedrekord over SHA-256(PAE(type, payload)) (rekor-v2 spec §4.3)."""
    if len(envelope.signatures) != 1:
        raise RekorRequestError("a DSSE envelope is logged with exactly one signature")
    digest = hashlib.sha256(envelope.pae()).digest()
    return hashedrekord_request(digest, envelope.signatures[0].sig, key, certificate_der=certificate_der)


def trusted_root_tlog(base_url: str, key: VerifyingKey, key_id: bytes, start: _dt.datetime) -> dict[str, Any]:
    """The trusted root's ``tlogs[]`` item for a Rekor v2 log: Ed25519 key, ``logId`` = ``checkpointKeyId``.

    rekor-tiles ``CLIENTS.md``: for a Rekor v2 log both IDs are the full C2SP checkpoint key ID.
    """
    when = start.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": _b64(key.der()), "keyDetails": _key_details_for(key), "validFor": {"start": when}},
        "logId": {"keyId": _b64(key_id)},
        "checkpointKeyId": {"keyId": _b64(key_id)},
    }


# -- the service ---------------------------------------------------------------------------------


class BatchLog(Protocol):
    """What the service needs from a log (`labkit.tlog.tilelog.TileLog` is one)."""

    key_id: bytes

    @property
    def size(self) -> int:
        """The number of entries."""
    def checkpoint(self) -> Checkpoint:
        """The latest checkpoint."""
    def signed_checkpoint(self) -> str:
        """The latest checkpoint as a signed note."""
    def append(self, entries: list[bytes]) -> tuple[int, str]:
        """Append a batch; return the first index and the signed checkpoint."""
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of entry `index` in the tree of `size`."""
    def leaf_hashes(self, start: int = 0, end: int | None = None) -> Any:
        """The leaf hashes from `start` to `end`."""


@dataclass
class _Waiter:
    body: bytes
    leaf: bytes
    done: threading.Event = field(default_factory=threading.Event)
    index: int = -1
    state: tuple[Checkpoint, str] | None = None
    error: BaseException | None = None


class Rekor2Service:
    """Sequences, deduplicates and batch-integrates entries into a `BatchLog`.

    One integrator thread appends whatever has queued while the previous batch
    was being written (group commit), up to `max_batch` entries at a time.
    """

    def __init__(self, log: BatchLog, *, max_batch: int = 4096, timeout: float = 30.0) -> None:
        self.log = log
        self.max_batch = max_batch
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queue: list[_Waiter] = []
        self._waiting: dict[bytes, _Waiter] = {}
        self._index: dict[bytes, int] = {}
        self._indexed = 0
        self._state = (log.checkpoint(), log.signed_checkpoint())
        self._catch_up(log.size)
        self._stopped = False
        self._thread = threading.Thread(target=self._integrate_loop, name="rekor2-integrator", daemon=True)
        self._thread.start()

    @property
    def key_id(self) -> bytes:
        """The log's key id."""
        return self.log.key_id

    def _catch_up(self, size: int) -> None:
        """Index leaves another writer integrated (or that were there at start)."""
        if size > self._indexed:
            for i, leaf in enumerate(self.log.leaf_hashes(self._indexed, size), start=self._indexed):
                self._index.setdefault(leaf, i)
            self._indexed = size

    def create_entry(self, request: bytes | Mapping[str, Any]) -> dict[str, Any]:
        """Verify, log and prove one request; returns the ``TransparencyLogEntry`` JSON (dict)."""
        req = parse_request(request)
        verify_request(req)
        return self.add(canonical_entry(req))

    def add(self, body: bytes) -> dict[str, Any]:
        """Log a canonical body (deduplicated) and wait until a checkpoint covers it."""
        leaf = merkle.leaf_hash(body)
        with self._cond:
            if self._stopped:
                raise LogError("the log service is stopped")
            index, state = self._index.get(leaf), self._state
            waiter = None
            if index is None:
                waiter = self._waiting.get(leaf)
                if waiter is None:
                    waiter = self._waiting[leaf] = _Waiter(body, leaf)
                    self._queue.append(waiter)
                    self._cond.notify_all()
        if waiter is None:
            assert index is not None
            return self._entry(body, index, state)  # a duplicate: the first index, proven in the latest checkpoint
        if not waiter.done.wait(self.timeout):
            raise LogError(f"no checkpoint covered the entry within {self.timeout} s")
        if waiter.error is not None:
            raise LogError(f"integration failed: {waiter.error}")
        assert waiter.state is not None
        return self._entry(body, waiter.index, waiter.state)

    def uploader(self) -> Callable[[SignedArtifact], TransparencyLogEntry]:
        """A ``tlog=`` hook for `labkit.sign.sign_blob`: logs the signature, returns the bundle's entry."""

        def upload(signed: SignedArtifact) -> TransparencyLogEntry:
            tle = self.create_entry(hashedrekord_request(signed.digest, signed.signature, signed.verifying_key))
            return TransparencyLogEntry.from_dict(tle, "tlogEntry")

        return upload

    def _integrate_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped and not self._queue:
                    return
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                first, note = self.log.append([w.body for w in batch])
                state = (self.log.checkpoint(), note)
            except Exception as exc:  # noqa: BLE001 - every waiter learns of the failure; the loop keeps serving
                with self._cond:
                    for w in batch:
                        self._waiting.pop(w.leaf, None)
                        w.error = exc
                        w.done.set()
                continue
            with self._cond:
                self._catch_up(first)
                for i, w in enumerate(batch):
                    self._index[w.leaf] = first + i
                    self._waiting.pop(w.leaf, None)
                    w.index, w.state = first + i, state
                self._indexed = max(self._indexed, first + len(batch))
                self._state = state
            for w in batch:
                w.done.set()

    def _entry(self, body: bytes, index: int, state: tuple[Checkpoint, str]) -> dict[str, Any]:
        checkpoint, note = state
        hashes = self.log.inclusion_proof(index, checkpoint.size)
        return {
            "logIndex": str(index),
            "logId": {"keyId": _b64(self.log.key_id)},
            "kindVersion": {"kind": KIND, "version": VERSION},
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": _b64(checkpoint.root_hash),
                "treeSize": str(checkpoint.size),
                "hashes": [_b64(h) for h in hashes],
                "checkpoint": {"envelope": note},
            },
            "canonicalizedBody": _b64(body),
        }

    def close(self) -> None:
        """Integrate what is queued, then stop the integrator."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout)

    def __enter__(self) -> Rekor2Service:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

