"""A durable, append-only transparency log on SQLite (WAL mode).

The database holds every entry (body, integrated time, SET), every
perfect-subtree hash (so an inclusion or consistency proof reads O(log n)
stored nodes through `labkit.tlog.merkle.NodeSource`), a search index, and the
checkpoints the log has published.

Appends run in a ``BEGIN IMMEDIATE`` transaction: the writer takes SQLite's
write lock before reading the tree size, so concurrent processes serialise,
and a process killed mid-append leaves the last committed state (WAL
recovery), never a half-written tree. The default ``synchronous=NORMAL``
survives a killed process; pass ``synchronous="FULL"`` to also survive
power loss at the cost of an fsync per append.

    >>> import tempfile
    >>> from labkit.lab import Lab
    >>> log = TransparencyLog.open(tempfile.mkdtemp(), lab=Lab(seed="docs"))
    >>> log.size
    0
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from labkit.errors import InputError, KeyFileError, LogError, ProofError
from labkit.keys import (
    SigningKey,
    VerifyingKey,
    generate,
    lab_key_origin,
    load_public_key,
    load_secret_pem,
    make_private_dir,
    save_secret_pem,
)
from labkit.lab import Clock, Lab, SystemClock
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, SignedNote, sign_note, verify_note
from labkit.tlog.entries import (
    EntryProof,
    LogEntry,
    _canonical_pem,
    dsse_body,
    hashedrekord_body,
    parse_body,
    proposed_to_body,
    search_hash,
    sign_set,
    verify_body_signature,
)

if TYPE_CHECKING:
    from labkit.bundle import TransparencyLogEntry
    from labkit.sign import LogUploader, SignedArtifact

__all__ = ["TransparencyLog"]

#: The database file inside a log directory.
DB_NAME = "tlog.sqlite3"
#: A real log's own signing key inside its directory: random, made with the log, PKCS#8 PEM, mode 0600.
KEY_FILE = "log-key.pem"
_LEVEL_SHIFT = 48  # node id = level << 48 | index  (levels >= 1; level 0 lives in entries.leaf)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
    idx INTEGER PRIMARY KEY,
    leaf BLOB NOT NULL UNIQUE,
    body BLOB NOT NULL,
    integrated_time INTEGER NOT NULL,
    set_sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS search(key TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(key, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
"""


class DuplicateEntryError(LogError):
    """The entry is already in the log (Rekor answers 409 Conflict)."""

    def __init__(self, index: int, uuid: str) -> None:
        super().__init__(f"entry {uuid} is already in the log at index {index}", details={"index": index, "uuid": uuid})
        self.index = index
        self.uuid = uuid


class EntryNotFoundError(LogError):
    """No entry has this index or UUID (Rekor answers 404)."""


_CACHE_MAX = 400_000


class _Nodes:
    """`NodeSource` over the database (one SELECT per perfect subtree).

    A committed perfect subtree never changes (the log is append-only), so
    proof reads may go through `cache`. Writers read uncached: a node seen
    inside a transaction that rolls back must never be remembered.
    """

    def __init__(self, conn: sqlite3.Connection, cache: dict[int, bytes] | None = None) -> None:
        self.conn = conn
        self.cache = cache
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        key = (level << _LEVEL_SHIFT) | index
        cache = self.cache
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return hit
        if level == 0:
            row = self.conn.execute("SELECT leaf FROM entries WHERE idx=?", (index,)).fetchone()
        else:
            row = self.conn.execute("SELECT hash FROM nodes WHERE id=?", (key,)).fetchone()
        if row is None:
            raise LogError(f"the log has no complete subtree at level {level} index {index}")
        value = bytes(row[0])
        if cache is not None:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[key] = value
        return value


#: Largest tree the in-memory mirror holds (about 130 MB of hashes per million entries); larger logs
#: answer proofs from the database through the node cache.
MIRROR_MAX = 1 << 21


class _Mirror:
    """Every committed perfect-subtree hash, one list per level, for fast proofs.

    Filled from the database by range reads and extended as the log grows.
    Committed nodes never change, so the mirror is never invalidated, and a
    reader may use it without a lock for any size up to `size` (set last).
    """

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.size = 0
        #: Roots of right-border (non-perfect) subtrees, keyed (start, end): immutable once end <= size.
        self.partial: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        if 0 <= level < len(self.levels) and 0 <= index < len(self.levels[level]):
            return self.levels[level][index]
        raise LogError(f"the log has no complete subtree at level {level} index {index}")

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """`merkle.inclusion_proof` over the mirror, with the right-border subtree roots cached."""
        return merkle.inclusion_proof(self, index, size, border=self._border_root)

    def _border_root(self, start: int, end: int) -> bytes:
        """The root of the right-border subtree [start, end): immutable once committed, so cached (bounded)."""
        key = (start, end)
        root = self.partial.get(key)
        if root is None:
            if len(self.partial) > 4096:
                self.partial.clear()
            root = self.partial[key] = merkle.subtree_root(self, start, end)
        return root

    def _reset(self) -> None:
        """Forget everything (a gap was found in the database): the next `sync` reloads from scratch."""
        self.levels = [[]]
        self.size = 0
        self.partial = {}

    def sync(self, conn: sqlite3.Connection, size: int) -> None:
        """Load the leaves and nodes of a tree of `size` committed entries."""
        if size <= self.size:
            return
        level0 = self.levels[0]
        level0 += [bytes(r[0]) for r in conn.execute(
            "SELECT leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (len(level0), size))]
        if len(level0) != size:
            self._reset()
            raise LogError(f"the log is missing leaves below index {size}")
        level = 1
        while size >> level:
            if len(self.levels) <= level:
                self.levels.append([])
            row = self.levels[level]
            have, want = len(row), size >> level
            if want > have:
                base = level << _LEVEL_SHIFT
                row += [bytes(r[0]) for r in conn.execute(
                    "SELECT hash FROM nodes WHERE id >= ? AND id < ? ORDER BY id", (base | have, base | want))]
                if len(row) != want:
                    self._reset()
                    raise LogError(f"the log is missing interior nodes at level {level}")
            level += 1
        self.size = size


def _require_log(directory: Path) -> None:
    """Readers open existing logs only: a mistyped directory is an error, never a new empty log."""
    if not (directory / DB_NAME).is_file():
        raise LogError(f"no transparency log in {directory}",
                       hint="Check the directory; `labkit log serve --dir DIR` creates a log.")


def _log_key(directory: Path, create: bool) -> SigningKey:
    """The log's own random key from ``DIR/log-key.pem``; with `create`, made (0600, 0700 dir) for a new log."""
    path = directory / KEY_FILE
    if not path.exists() and create and not (directory / DB_NAME).exists():
        with contextlib.suppress(InputError):  # another process made the log's key first: use theirs
            save_secret_pem(generate("ecdsa-p256"), path, overwrite=False)
    if not path.exists():
        hint = _seed_hint(directory)
        raise LogError(f"the log in {directory} has no key file {KEY_FILE}; {hint[0].lower()}{hint[1:]}", hint=hint)
    try:
        return load_secret_pem(path, "log key")
    except KeyFileError as exc:
        raise LogError(exc.message) from None


def _seed_hint(directory: Path) -> str:
    """Say which lab seed made a log whose key is not in its directory, when the stored key tells."""
    origin = None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{directory / DB_NAME}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='public_key'").fetchone()
        origin = lab_key_origin(load_public_key(bytes(row[0]))) if row is not None else None
    except (sqlite3.DatabaseError, KeyFileError):
        pass
    if origin is not None:
        return f"This is a LAB log ({origin}): open it with that seed (--seed)."
    return "Open the log with the key or lab seed (--seed) it was created with."


def _tree_id(log_id: bytes) -> int:
    """A Trillian-style positive 63-bit tree ID derived from the log ID."""
    return int.from_bytes(log_id[:8], "big") & ((1 << 63) - 1)


class TransparencyLog:
    """A Rekor-v1-compatible log in a directory. Open with `TransparencyLog.open`."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        key: SigningKey,
        *,
        clock: Clock | None = None,
        name: str = "labkit.local",
        hint_rule: str = "rekor-v1",
        synchronous: str = "NORMAL",
        mirror: bool = True,
        create: bool = True,
    ) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise LogError(f"unknown SQLite synchronous mode {synchronous!r}")
        self.directory = Path(directory)
        self.key = key
        self.clock: Clock = clock or SystemClock()
        self.name = name
        self.hint_rule = hint_rule
        self.public_key: VerifyingKey = key.public_key()
        #: Where the key comes from when it is lab material (a public seed), else None.
        self.lab_origin: str | None = lab_key_origin(self.public_key) or ("a lab seed" if key.lab else None)
        #: Rekor v1 log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo.
        self.log_id = self.public_key.key_id()
        self.tree_id = _tree_id(self.log_id)
        #: Rekor v1 checkpoint origin: "<hostname> - <tree ID>".
        self.origin = f"{name} - {self.tree_id}"
        self._lock = threading.RLock()
        self._cache: dict[int, bytes] = {}
        self._mirror = _Mirror() if mirror else None
        self._known_size = 0  # sizes only grow: a size at or below this needs no size query
        if not create:
            _require_log(self.directory)
        try:
            if not self.directory.is_dir():
                make_private_dir(self.directory)
            self._conn = sqlite3.connect(
                self.directory / DB_NAME, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._conn.execute("PRAGMA cache_size=-32768")  # 32 MiB of pages: the random-key indexes stay hot
            self._conn.execute("PRAGMA foreign_keys=OFF")
            with self._write():
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        self._conn.execute(stmt)
                row = self._conn.execute("SELECT value FROM meta WHERE key='public_key'").fetchone()
                if row is None:
                    self._conn.execute("INSERT INTO meta VALUES('public_key', ?)", (self.public_key.der(),))
                    self._conn.execute("INSERT INTO meta VALUES('name', ?)", (name.encode(),))
                elif bytes(row[0]) != self.public_key.der():
                    raise LogError(
                        "this log was created with a different log key",
                        hint="Open the log with the key (or lab seed) it was created with.",
                        details={
                            "stored key": hashlib.sha256(bytes(row[0])).hexdigest(),
                            "given key": self.log_id.hex(),
                        },
                    )
        except sqlite3.DatabaseError as exc:
            raise LogError(f"cannot open the log database in {self.directory.name}: {exc}") from None

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        key: SigningKey | None = None,
        *,
        lab: Lab | None = None,
        clock: Clock | None = None,
        create: bool = True,
        name: str = "labkit.local",
        hint_rule: str = "rekor-v1",
        synchronous: str = "NORMAL",
        mirror: bool = True,
    ) -> TransparencyLog:
        """Open the log in `directory`, creating it if needed unless ``create=False`` (readers).

        With `lab`, the log key is the lab's seeded P-256 key (label ``tlog``)
        and the clock is the lab clock, so every SET and checkpoint is reproducible.
        With neither `key` nor `lab`, the log uses its own random key, made with
        the log and kept (mode 0600) in ``DIR/log-key.pem``.
        """
        if key is None:
            if lab is not None:
                key = generate("ecdsa-p256", lab=lab, label="tlog")
            else:
                if not create:
                    _require_log(Path(directory))
                key = _log_key(Path(directory), create)
        if clock is None and lab is not None:
            clock = lab.clock
        log = cls(directory, key, clock=clock, create=create, name=name, hint_rule=hint_rule,
                  synchronous=synchronous, mirror=mirror)
        if lab is not None and key.lab:
            log.lab_origin = f"lab seed {lab.seed!r}, label 'tlog'"
        return log

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> TransparencyLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TransparencyLog({self.origin!r}, size={self.size})"

    # -- transactions -------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot of the WAL database."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def _size(self, conn: sqlite3.Connection) -> int:
        size = int(conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()[0])
        if size > self._known_size:
            self._known_size = size
        return size

    @property
    def size(self) -> int:
        """The number of entries."""
        with self._lock:
            return self._size(self._conn)

    def __len__(self) -> int:
        return self.size

    # -- appending ----------------------------------------------------------

    def _append_locked(self, conn: sqlite3.Connection, body: bytes, index: int, keys: Sequence[str]) -> LogEntry:
        leaf = merkle.leaf_hash(body)
        row = conn.execute("SELECT idx FROM entries WHERE leaf=?", (leaf,)).fetchone()
        if row is not None:
            raise DuplicateEntryError(int(row[0]), leaf.hex())
        t = int(self.clock.now().timestamp())
        set_sig = sign_set(self.key, body, t, self.log_id.hex(), index)
        conn.execute("INSERT INTO entries VALUES(?,?,?,?,?)", (index, leaf, body, t, set_sig))
        nodes = _Nodes(conn)
        level, i, h = 0, index, leaf
        while i & 1:
            h = merkle.node_hash(nodes.node(level, i - 1), h)
            level, i = level + 1, i >> 1
            conn.execute("INSERT INTO nodes VALUES(?,?)", ((level << _LEVEL_SHIFT) | i, h))
        conn.executemany("INSERT OR IGNORE INTO search VALUES(?,?)", [(k, index) for k in keys])
        return LogEntry(index, body, t, self.log_id, set_sig, None, self.tree_id)

    def append(self, body: bytes, *, verify_signature: bool = True, proof: bool = True) -> LogEntry:
        """Append one canonical entry body; returns the entry with its SET (and an inclusion proof and checkpoint).

        Refuses bodies that are not canonical or of an unknown kind, hashedrekord
        signatures that do not verify (as Rekor does), and duplicates.
        """
        parsed = parse_body(body)
        if verify_signature:
            verify_body_signature(parsed)
        with self._write() as conn:
            entry = self._append_locked(conn, bytes(body), self._size(conn), parsed.index_keys)
        if proof:
            entry = self._with_proof(entry, entry.log_index + 1)
        return entry

    def append_many(self, bodies: Iterable[bytes], *, verify_signature: bool = True) -> list[LogEntry]:
        """Append several bodies in one transaction (all or none); entries come back without proofs."""
        parsed = [(bytes(b), parse_body(b)) for b in bodies]
        if verify_signature:
            for _, p in parsed:
                verify_body_signature(p)
        out: list[LogEntry] = []
        with self._write() as conn:
            n = self._size(conn)
            for i, (body, p) in enumerate(parsed):
                out.append(self._append_locked(conn, body, n + i, p.index_keys))
        return out

    def append_proposed(self, proposed: dict[str, Any]) -> LogEntry:
        """Append a Rekor API proposed entry (``{kind, apiVersion, spec}``)."""
        return self.append(proposed_to_body(proposed), verify_signature=False)

    def upload_hashedrekord(
        self,
        signature: bytes,
        public_key_or_cert_pem: bytes,
        artifact_sha256: bytes | str,
        *,
        algorithm: str = "sha256",
    ) -> LogEntry:
        """Log a signature over an artifact digest (what ``cosign sign-blob`` uploads)."""
        return self.append(hashedrekord_body(signature, public_key_or_cert_pem, artifact_sha256, algorithm=algorithm))

    def uploader(self) -> LogUploader:
        """A ``tlog=`` hook for `labkit.sign.sign_blob`: logs a hashedrekord, returns the bundle entry.

        The hook takes a `labkit.sign.SignedArtifact` (digest, hash_name, signature, verifying_key).
        """

        def upload(signed: SignedArtifact) -> TransparencyLogEntry:
            entry = self.upload_hashedrekord(
                signed.signature, signed.verifying_key.pem(), signed.digest, algorithm=signed.hash_name
            )
            return entry.to_bundle_entry()

        return upload

    def upload_dsse(self, envelope_json: bytes | str, verifiers: Sequence[bytes]) -> LogEntry:
        """Log a DSSE envelope signed by the given PEM keys or certificates."""
        return self.append(dsse_body(envelope_json, verifiers), verify_signature=False)

    # -- reading ------------------------------------------------------------

    def _row_entry(self, row: tuple[int, bytes, int, bytes]) -> LogEntry:
        idx, body, t, set_sig = row
        return LogEntry(int(idx), bytes(body), int(t), self.log_id, bytes(set_sig), None, self.tree_id)

    def _with_proof(self, entry: LogEntry, size: int | None = None) -> LogEntry:
        with self._read() as conn:
            size = self._size(conn) if size is None else size
            nodes = self._source(conn, size)
            hashes = merkle.inclusion_proof(nodes, entry.log_index, size)
            root = merkle.tree_root(nodes, size)
        note = self._signed_checkpoint(size, root)
        proof = EntryProof(entry.log_index, size, root, tuple(hashes), note.to_text())
        return LogEntry(entry.log_index, entry.body, entry.integrated_time, entry.log_id,
                        entry.signed_entry_timestamp, proof, entry.tree_id)

    def get(self, index: int, *, proof: bool = True) -> LogEntry:
        """The entry at `index`, with an inclusion proof at the current size unless ``proof=False``."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1 << 63:
            raise LogError(f"log index must be a non-negative 64-bit integer, got {index!r}")
        with self._lock:
            row = self._conn.execute(
                "SELECT idx, body, integrated_time, set_sig FROM entries WHERE idx=?", (index,)
            ).fetchone()
        if row is None:
            raise EntryNotFoundError(f"no entry at index {index} (log size {self.size})")
        entry = self._row_entry(row)
        return self._with_proof(entry) if proof else entry

    def get_by_uuid(self, uuid: str, *, proof: bool = True) -> LogEntry:
        """The entry with this UUID (64 hex) or Rekor entry ID (16-hex tree ID + UUID)."""
        u = uuid.strip().lower()
        if len(u) == 80:
            if u[:16] != f"{self.tree_id:016x}":
                raise EntryNotFoundError(f"entry ID {uuid} names another tree than {self.tree_id:016x}")
            u = u[16:]
        if len(u) != 64 or any(c not in "0123456789abcdef" for c in u):
            raise LogError(f"entry UUID must be 64 hex digits (or an 80-hex entry ID), got {uuid!r}")
        with self._lock:
            row = self._conn.execute(
                "SELECT idx, body, integrated_time, set_sig FROM entries WHERE leaf=?", (bytes.fromhex(u),)
            ).fetchone()
        if row is None:
            raise EntryNotFoundError(f"no entry with UUID {u}")
        entry = self._row_entry(row)
        return self._with_proof(entry) if proof else entry

    def search(
        self,
        *,
        hash: str | bytes | None = None,
        public_key: bytes | None = None,
        email: str | None = None,
    ) -> list[int]:
        """Log indexes of entries matching an artifact digest, a PEM key/cert, or an email.

        The digest is ``sha256:<hex>``, hex or raw.
        """
        keys: list[str] = []
        if hash is not None:
            keys.append("sha256:" + hash.hex() if isinstance(hash, bytes) else search_hash(hash))
        if public_key is not None:
            keys.append("sha256:" + hashlib.sha256(_canonical_pem(public_key)).hexdigest())
        if email is not None:
            keys.append(email.strip().lower())
        if not keys:
            raise LogError("search needs a hash, a public key or an email")
        found: set[int] | None = None
        with self._lock:
            for k in keys:
                rows = {int(r[0]) for r in self._conn.execute("SELECT idx FROM search WHERE key=?", (k,))}
                found = rows if found is None else found & rows
        return sorted(found or ())

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[LogEntry]:
        """Entries in index order, without proofs."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT idx, body, integrated_time, set_sig FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end if end is not None else 1 << 62),
            ).fetchall()
        for row in rows:
            yield self._row_entry(row)

    # -- tree and proofs ----------------------------------------------------

    def _check_size(self, size: int, current: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ProofError(f"tree size must be a non-negative integer, got {size!r}")
        if size > current:
            raise ProofError(f"tree size {size} is larger than the log ({current} entries)")

    def root(self, size: int | None = None) -> bytes:
        """The Merkle root of the first `size` entries (default: all)."""
        if isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= self._known_size:
            with self._lock:
                return merkle.tree_root(self._source(self._conn, size), size)
        with self._read() as conn:
            current = self._size(conn)
            size = current if size is None else size
            self._check_size(size, current)
            return merkle.tree_root(self._source(conn, size), size)

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        """Leaf hashes of the first `size` entries (for pictures and checks; O(n))."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT leaf FROM entries WHERE idx < ? ORDER BY idx", (size if size is not None else 1 << 62,)
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def _source(self, conn: sqlite3.Connection, size: int) -> merkle.NodeSource:
        """Where proofs for a committed tree of `size` entries read nodes: the mirror, or cached SELECTs."""
        if self._mirror is not None and size <= MIRROR_MAX:
            self._mirror.sync(conn, size)
            return self._mirror
        return _Nodes(conn, self._cache)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for `index` in the tree of `size` entries (default: all); O(log n) reads."""
        mirror = self._mirror
        if mirror is not None and type(size) is int and 0 <= size <= mirror.size:  # noqa: E721
            return mirror.inclusion_proof(index, size)
        if isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= self._known_size:
            with self._lock:  # every node of a tree no larger than one seen is committed and immutable
                return merkle.inclusion_proof(self._source(self._conn, size), index, size)
        with self._read() as conn:
            current = self._size(conn)
            size = current if size is None else size
            self._check_size(size, current)
            return merkle.inclusion_proof(self._source(conn, size), index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from `size1` to `size2` (default: all); O(log n) reads."""
        if isinstance(size2, int) and not isinstance(size2, bool) and 0 <= size2 <= self._known_size:
            with self._lock:
                return merkle.consistency_proof(self._source(self._conn, size2), size1, size2)
        with self._read() as conn:
            current = self._size(conn)
            size2 = current if size2 is None else size2
            self._check_size(size2, current)
            self._check_size(size1, size2)
            return merkle.consistency_proof(self._source(conn, size2), size1, size2)

    def proof_reads(self, index: int, size: int) -> int:
        """How many stored nodes an inclusion proof reads (to show O(log n))."""
        with self._read() as conn:
            nodes = _Nodes(conn)
            merkle.inclusion_proof(nodes, index, size)
            return nodes.reads

    # -- checkpoints --------------------------------------------------------

    def _signed_checkpoint(self, size: int, root: bytes) -> SignedNote:
        with self._lock:
            row = self._conn.execute("SELECT note FROM checkpoints WHERE size=?", (size,)).fetchone()
            if row is not None:
                return SignedNote.parse(str(row[0]))
            note = sign_note(Checkpoint(self.origin, size, root), self.name, self.key, rule=self.hint_rule)
            self._conn.execute("INSERT OR IGNORE INTO checkpoints VALUES(?,?)", (size, note.to_text()))
            row = self._conn.execute("SELECT note FROM checkpoints WHERE size=?", (size,)).fetchone()
            return SignedNote.parse(str(row[0]))

    def checkpoint(self, size: int | None = None) -> SignedNote:
        """The signed checkpoint for `size` (default: the current size), published on first request."""
        root = self.root(size)
        return self._signed_checkpoint(self.size if size is None else size, root)

    def latest_checkpoint(self) -> str:
        """The current signed checkpoint as text (the `LogSource` protocol of `labkit.tlog.witness`)."""
        return self.checkpoint().to_text()

    def published_checkpoints(self) -> list[SignedNote]:
        """Every checkpoint this log has signed, by size."""
        with self._lock:
            rows = self._conn.execute("SELECT note FROM checkpoints ORDER BY size").fetchall()
        return [SignedNote.parse(str(r[0])) for r in rows]

    def verify_checkpoint(self, note: str | SignedNote) -> Checkpoint:
        """Verify a checkpoint's signature with this log's key and origin."""
        return verify_note(note, self.name, self.public_key, rule=self.hint_rule, origin=self.origin)

    # -- integrity ----------------------------------------------------------

    def check_integrity(self) -> int:
        """Recompute every leaf and stored node from the bodies; returns the size or raises `LogError`.

        O(n): for tests and for reopening after a crash.
        """
        tree = merkle.MemoryTree()
        with self._read() as conn:
            size = self._size(conn)
            for i, (idx, body, leaf) in enumerate(conn.execute("SELECT idx, body, leaf FROM entries ORDER BY idx")):
                if idx != i:
                    raise LogError(f"the log has a gap: index {i} is missing")
                if merkle.leaf_hash(bytes(body)) != bytes(leaf):
                    raise LogError(f"entry {idx}: stored leaf hash does not match its body")
                tree.append_hash(bytes(leaf))
            for node_id, h in conn.execute("SELECT id, hash FROM nodes"):
                level, index = node_id >> _LEVEL_SHIFT, node_id & ((1 << _LEVEL_SHIFT) - 1)
                if tree.node(level, index) != bytes(h):
                    raise LogError(f"stored node at level {level} index {index} is wrong")
            count = conn.execute("SELECT COUNT(*) FROM nodes").fetchone()[0]
        expected = sum(size >> level for level in range(1, max(size, 1).bit_length() + 1))
        if count != expected:
            raise LogError(f"the log stores {count} interior nodes, expected {expected}")
        return size

    def db_bytes(self) -> int:
        """Size on disk of the database and its WAL."""
        total = 0
        for suffix in ("", "-wal"):
            p = self.directory / (DB_NAME + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

    # -- API views ----------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Rekor v1 ``LogInfo``: size, root, signed tree head, tree ID."""
        note = self.checkpoint()
        ck = note.checkpoint()
        return {
            "inactiveShards": [],
            "rootHash": ck.root_hash.hex(),
            "signedTreeHead": note.to_text(),
            "treeID": str(self.tree_id),
            "treeSize": ck.size,
        }

    def public_key_pem(self) -> bytes:
        """The log key as PEM (what ``GET /api/v1/log/publicKey`` returns)."""
        return self.public_key.pem()

    def log_id_b64(self) -> str:
        """The log ID as standard base64 (``logId.keyId`` in bundles and trusted roots)."""
        return base64.b64encode(self.log_id).decode()
