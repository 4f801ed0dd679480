"""A witness (C2SP tlog-witness): ``POST <prefix>/add-checkpoint`` verifies, remembers and cosigns checkpoints.

Request body: ``old <size>``, at most 63 base64 consistency-proof lines, an
empty line, then the signed checkpoint. Answers:

* 200 — one cosignature line per witness key (Ed25519 ``cosignature/v1``; ML-DSA-44 when configured);
* 400 — malformed request, or old size above the checkpoint's size;
* 403 — no signature by a trusted key of the log verifies;
* 404 — the origin is not a log this witness knows;
* 409 — the old size is not the size it last cosigned (body: that size, ``text/x.tlog.size``),
  or the same size with another root (a split view);
* 422 — the consistency proof does not verify (or is not empty for old size 0).

The check of the old size and the update of the stored checkpoint happen
under one lock, and the state is persisted (atomic write) before answering.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from labkit._internal.fsutil import atomic_write, file_lock
from labkit._internal.jsonio import read_json_file
from labkit._internal.net import is_loopback
from labkit._internal.wsgi import BackgroundServer, Environ, StartResponse
from labkit.errors import LabkitError, LogError
from labkit.keys import VerifyingKey
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote, explain_note
from labkit.tlog.tileclient import TileClient
from labkit.witness._framing import hash_lines, is_uint64, split_note, text_of
from labkit.witness.cosignature import Cosigner

__all__ = ["Witness", "add_checkpoint_body", "serve_witness"]

_MAX_PROOF_LINES = 63
MAX_REQUEST = 1 << 16
SIZE_TYPE = "text/x.tlog.size"
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict", 413: "Payload Too Large", 422: "Unprocessable Entity", 500: "Internal Server Error"}


@dataclass(frozen=True)
class WitnessAnswer:
    """An add-checkpoint answer: HTTP status, content type, body."""

    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


def _plain(status: int, message: str) -> WitnessAnswer:
    return WitnessAnswer(status, "text/plain; charset=utf-8", message.encode() + b"\n")


class _BadRequest(Exception):
    pass


def add_checkpoint_body(old_size: int, proof: Iterable[bytes], note: str) -> bytes:
    """The request body of add-checkpoint."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, proof hashes, signed note text) of a request body; raises `LogError` when malformed."""
    lines, note = split_note(text_of(body, "add-checkpoint body"), "add-checkpoint body")
    first = lines[0]
    size_s = first[4:] if first.startswith("old ") else ""
    if not is_uint64(size_s):
        raise LogError(f"first line must be 'old <size>' in decimal, got {first[:40]!r}")
    if len(lines) - 1 > _MAX_PROOF_LINES:
        raise LogError(f"more than {_MAX_PROOF_LINES} consistency proof lines")
    return int(size_s), hash_lines(lines[1:], "consistency proof line"), note


class Witness:
    """A witness: trusted logs (origin → Ed25519 key), its cosigners, and the latest checkpoint per origin.

    `state` is a JSON file (written atomically before each 200) or None to keep the state in memory.
    """

    def __init__(self, logs: Mapping[str, VerifyingKey], cosigners: Iterable[Cosigner], *,
                 state: str | os.PathLike[str] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.logs = dict(logs)
        self.cosigners = list(cosigners)
        if not self.cosigners:
            raise LogError("a witness needs at least one cosigner key")
        self.clock = clock
        self.state_path = Path(state) if state is not None else None
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[int, bytes]] = {}
        if self.state_path is not None and self.state_path.exists():
            self._latest = self._read_state(self.state_path)

    @property
    def name(self) -> str:
        """The witness's name (its first cosigner's)."""
        return self.cosigners[0].name

    @staticmethod
    def _read_state(path: Path) -> dict[str, tuple[int, bytes]]:
        doc = read_json_file(path, what="witness state", error=LogError)
        if not isinstance(doc, dict):
            raise LogError(f"{path} is not a witness state file")
        out: dict[str, tuple[int, bytes]] = {}
        for origin, item in doc.items():
            try:
                if not isinstance(item, dict):
                    raise TypeError(origin)
                size, root = item["size"], item["root"]
                if not isinstance(size, (str, int, float)) or not isinstance(root, str):
                    raise TypeError(origin)
                out[origin] = (int(size), base64.b64decode(root, validate=True))
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise LogError(f"{path}: bad entry for {origin!r}") from None
        return out

    def _persist(self) -> None:
        if self.state_path is None:
            return
        doc = {o: {"size": s, "root": base64.b64encode(r).decode()} for o, (s, r) in sorted(self._latest.items())}
        atomic_write(self.state_path, json.dumps(doc, indent=1).encode() + b"\n")

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        """(size, root) of the latest checkpoint cosigned for `origin`, if any."""
        return self._latest.get(origin)

    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        """Handle one add-checkpoint request body (never raises on bad input)."""
        try:
            old, proof, note_text = _parse_add_checkpoint(body)
            note = SignedNote.parse(note_text)
            checkpoint = note.checkpoint()
        except LabkitError as exc:
            return _plain(400, exc.message)
        key = self.logs.get(checkpoint.origin)
        if key is None:
            return _plain(404, f"unknown log origin {checkpoint.origin!r}")
        check = explain_note(note, checkpoint.origin, key, rule="c2sp", origin=checkpoint.origin)
        if not check.verified:
            return _plain(403, f"no valid signature by a trusted key of {checkpoint.origin} ({check.reason})")
        if old > checkpoint.size:
            return _plain(400, f"old size {old} is larger than the checkpoint size {checkpoint.size}")
        lock = file_lock(self.state_path.with_name(self.state_path.name + ".lock")) if self.state_path else None
        with self._lock:
            if lock is not None:
                lock.__enter__()
            try:
                return self._check_and_cosign(old, proof, checkpoint)
            finally:
                if lock is not None:
                    lock.__exit__(None, None, None)

    def _check_and_cosign(self, old: int, proof: list[bytes], checkpoint: Checkpoint) -> WitnessAnswer:
        if self.state_path is not None and self.state_path.exists():
            self._latest = self._read_state(self.state_path)  # another process may have moved it
        size, root = self._latest.get(checkpoint.origin, (0, merkle.empty_root()))
        if old != size:
            return WitnessAnswer(409, SIZE_TYPE, f"{size}\n".encode())
        if old == checkpoint.size:
            if checkpoint.root_hash != root:
                return _plain(409, f"checkpoint of size {old} has another root than the one cosigned (split view)")
            if proof:
                return _plain(422, "the consistency proof must be empty when the sizes are equal")
        elif old == 0:
            if proof:
                return _plain(422, "the consistency proof must be empty for old size 0")
        else:
            try:
                merkle.verify_consistency(old, checkpoint.size, root, checkpoint.root_hash, proof)
            except LabkitError as exc:
                return _plain(422, f"consistency proof from {old} to {checkpoint.size} does not verify: {exc.message}")
        self._latest[checkpoint.origin] = (checkpoint.size, checkpoint.root_hash)
        self._persist()
        now = int(self.clock())
        lines = "".join(c.cosign(checkpoint, now).line() + "\n" for c in self.cosigners)
        return WitnessAnswer(200, "text/plain; charset=utf-8", lines.encode())

    def cosign_note(self, note: str, old_size: int, proof: Iterable[bytes]) -> str:
        """Submit in process; the note with this witness's cosignatures appended, or `LogError` with the status."""
        answer = self.add_checkpoint(add_checkpoint_body(old_size, proof, note))
        if answer.status != 200:
            raise LogError(f"witness {self.name} answered {answer.status}: {answer.text.strip()}",
                           details={"status": answer.status, "body": answer.text})
        return merge_cosignatures(note, answer.text)


def merge_cosignatures(note: str, lines: str) -> str:
    """`note` with the signature `lines` (an add-checkpoint answer) appended."""
    parsed = SignedNote.parse(note)
    extra = SignedNote.parse(parsed.text + "\n" + lines).signatures
    return SignedNote(parsed.text, (*parsed.signatures, *extra)).to_text()


class WitnessApp:
    """WSGI: ``POST <prefix>/add-checkpoint``."""

    def __init__(self, witness: Witness, *, prefix: str = "") -> None:
        self.witness = witness
        self.prefix = prefix.rstrip("/")

    def __call__(self, environ: Environ, start: StartResponse) -> list[bytes]:
        try:
            answer = self._route(environ)
        except Exception as exc:  # noqa: BLE001 - a server answers, it never shows a traceback
            answer = _plain(500, f"internal error: {type(exc).__name__}")
        start(f"{answer.status} {_REASONS.get(answer.status, '')}",
              [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))])
        return [answer.body]

    def _route(self, environ: Environ) -> WitnessAnswer:
        if environ.get("PATH_INFO", "") != f"{self.prefix}/add-checkpoint":
            return _plain(404, "no such resource")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(405, "use POST")
        length = environ.get("CONTENT_LENGTH") or ""
        if length and (not length.isdigit() or int(length) > MAX_REQUEST):
            return _plain(413 if length.isdigit() else 400, "bad or too large Content-Length")
        body: bytes = environ["wsgi.input"].read(int(length) if length else MAX_REQUEST + 1)
        if len(body) > MAX_REQUEST:
            return _plain(413, f"request larger than {MAX_REQUEST} bytes")
        return self.witness.add_checkpoint(body)


@dataclass
class WitnessServer:
    """A running witness on loopback."""

    server: BackgroundServer
    witness: Witness

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> WitnessServer:  # noqa: PYI034
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_witness(witness: Witness, *, host: str = "127.0.0.1", port: int = 0) -> WitnessServer:
    """Serve `witness` (``POST /add-checkpoint``) in a background thread."""
    server = BackgroundServer(WitnessApp(witness), host=host, port=port, threads=4,
                              max_request_body_size=MAX_REQUEST, ident="labkit-witness")
    server.start()
    return WitnessServer(server, witness)


def submit(url: str, old_size: int, proof: Iterable[bytes], note: str, *, timeout: float = 10.0) -> WitnessAnswer:
    """POST an add-checkpoint request to the witness at `url` (loopback) and return its answer."""
    import requests

    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if not is_loopback(host):
        raise LogError(f"refusing to contact {host}: labkit talks to loopback witnesses only")
    try:
        resp = requests.post(url.rstrip("/") + "/add-checkpoint", data=add_checkpoint_body(old_size, proof, note),
                             timeout=timeout)
    except requests.RequestException as exc:
        raise LogError(f"cannot reach the witness at {url}: {exc}") from None
    return WitnessAnswer(resp.status_code, resp.headers.get("Content-Type", ""), resp.content[:MAX_REQUEST])




def witness_log(
    client: TileClient, send: Callable[[int, list[bytes], str], WitnessAnswer], *, old_size: int = 0
) -> str:
    """Have a witness cosign the log's latest checkpoint, read (and proved) through `client` from tiles alone.

    `send(old_size, proof, note)` delivers one add-checkpoint request (`submit` bound to a URL, or a
    `Witness` in process). On 409 the request is retried once from the size the witness answered
    (C2SP tlog-witness: a client without state may start from 0). Returns the note with the cosignatures.
    """
    checkpoint, note = client.checkpoint()
    old = old_size
    for _ in range(2):
        proof = client.consistency_proof(old, checkpoint.size) if 0 < old < checkpoint.size else []
        answer = send(old, proof, note)
        if answer.status == 409 and answer.content_type.startswith(SIZE_TYPE) and answer.text.strip().isdigit():
            old = int(answer.text.strip())
            if old <= checkpoint.size:
                continue
        break
    if answer.status != 200:
        raise LogError(f"the witness answered {answer.status}: {answer.text.strip()}",
                       details={"status": answer.status, "body": answer.text})
    return merge_cosignatures(note, answer.text)
