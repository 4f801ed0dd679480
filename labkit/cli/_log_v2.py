"""`labkit log ... --api v2`: serve and read a tile-backed (Rekor v2) log.

    labkit log serve --api v2 --dir ./tlog --port 3001     # POST /api/v2/log/entries, tiles under /api/v2
    labkit log info  --api v2 --dir ./tlog                 # the verified checkpoint, read from disk
    labkit log proof --api v2 --url http://127.0.0.1:3001 --log-key log.pub --index 0
    labkit log proof --api v2 --url http://127.0.0.1:8080/ --origin 127.0.0.1:3001 --log-key log.pub --first 1

Every read goes through `labkit.tlog.tileclient.TileClient` (proofs from tiles
alone: Rekor v2 serves none). A URL with no path is a labkit server and gets
``/api/v2`` appended; any other URL is the tile prefix itself (a static web
server over the log directory).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from labkit.errors import LogError

__all__ = ["info_v2", "open_v2_client", "proof_v2", "serve_v2"]


def _lab(args: argparse.Namespace) -> Any:
    from labkit.lab import Lab, SystemClock

    return Lab(seed=args.seed, clock=SystemClock()) if args.seed is not None else None


def _lab_line(seed: str) -> str:
    return f"LAB log: its key is derived from the public seed {seed!r}; anyone can sign as this log"


def serve_v2(args: argparse.Namespace) -> int:
    """Serve a tile log directory until Ctrl-C: banner with url, origin, key and trusted-root entry."""
    from labkit.tlog.rekor2 import trusted_root_tlog
    from labkit.tlog.rekor2_server import PREFIX, serve_rekor2

    try:
        server = serve_rekor2(args.dir, host=args.host, port=args.port, lab=_lab(args), origin=args.origin)
    except OSError as exc:
        raise LogError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    try:
        log = server.log
        if log.lab:
            print(f"WARNING: {_lab_line(args.seed)}", file=sys.stderr, flush=True)
        lab = "LAB " if log.lab else ""
        entry = trusted_root_tlog(server.url, log.public_key, log.key_id, _dt.datetime.now(_dt.timezone.utc))
        print(f"serving {lab}Rekor v2 log {log.origin} ({log.size} entries) at {server.url}", flush=True)
        print(f"url: {server.url}")
        print(f"tiles: {server.url}{PREFIX}")
        print(f"origin: {log.origin}")
        print(log.public_key.pem().decode(), end="")
        print("trusted-root tlog entry: " + json.dumps(entry, sort_keys=True), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0


def _prefix(url: str) -> str:
    parts = urlsplit(url)
    return url.rstrip("/") + "/api/v2" if parts.path in ("", "/") and not url.endswith("/") else url


def open_v2_client(args: argparse.Namespace) -> Any:
    """A `TileClient` over --dir (key and origin from the log) or --url (--log-key, --origin)."""
    from labkit._internal.fsutil import read_bytes
    from labkit.keys import load_public_key
    from labkit.tlog.tileclient import DirectorySource, HTTPSource, TileClient
    from labkit.tlog.tilelog import TileLog, origin_for_url

    if args.dir:
        log = TileLog.open(args.dir, lab=_lab(args))
        key = load_public_key(read_bytes(args.log_key, "log key")) if args.log_key else log.public_key
        if log.lab:
            print(_lab_line(args.seed))
        return TileClient(DirectorySource(args.dir), origin=args.origin or log.origin, key=key)
    if not args.log_key:
        raise LogError("--url with --api v2 needs --log-key: the log's public key file (PEM)",
                       hint="`labkit log serve --api v2` prints it; a checkpoint is verified against it.")
    key = load_public_key(read_bytes(args.log_key, "log key"))
    parts = urlsplit(args.url)
    origin = args.origin or origin_for_url(f"{parts.scheme}://{parts.netloc}")
    return TileClient(HTTPSource(_prefix(args.url)), origin=origin, key=key)


def info_v2(args: argparse.Namespace) -> int:
    import base64

    client = open_v2_client(args)
    checkpoint, note = client.checkpoint()
    print(f"origin:    {checkpoint.origin}")
    print(f"tree size: {checkpoint.size}")
    print(f"root hash: {checkpoint.root_hash.hex()} ({base64.b64encode(checkpoint.root_hash).decode()})")
    print()
    print(note, end="")
    return 0


def proof_v2(args: argparse.Namespace) -> int:
    from labkit.tlog import merkle

    client = open_v2_client(args)
    checkpoint, _ = client.checkpoint()
    if args.index is not None:
        body = client.entry(args.index, checkpoint.size)
        proof = client.verify_inclusion(args.index, body, checkpoint)
        out: dict[str, Any] = {"logIndex": args.index, "treeSize": checkpoint.size,
                               "rootHash": checkpoint.root_hash.hex(), "hashes": [h.hex() for h in proof],
                               "verified": True}
    elif args.first is not None:
        last = checkpoint.size if args.last is None else args.last
        if not args.first <= last <= checkpoint.size:
            raise LogError(f"need first <= last <= {checkpoint.size} (the checkpoint's size), got {args.first}, {last}")
        # Proofs between sizes below the checkpoint's come from the checkpoint's tiles (older partial
        # tiles may be gone); the new root is the checkpoint's own when `last` is its size.
        nodes = client.nodes(checkpoint.size)
        new_root = checkpoint.root_hash if last == checkpoint.size else nodes.root(last)
        proof = merkle.consistency_proof(nodes, args.first, last) if 0 < args.first < last else []
        if args.first:
            merkle.verify_consistency(args.first, last, nodes.root(args.first), new_root, proof)
        out = {"firstSize": args.first, "lastSize": last, "hashes": [h.hex() for h in proof], "verified": True}
    else:
        raise LogError("give --index for an inclusion proof or --first (and --last) for a consistency proof")
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0
