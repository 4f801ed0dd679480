"""`labkit log`: serve a transparency log on loopback and query it.

    labkit log serve --dir ./mylog --port 3000          # Rekor v1 API on http://127.0.0.1:3000
    labkit log info  --url http://127.0.0.1:3000         # size, root, signed checkpoint
    labkit log get   --url http://127.0.0.1:3000 --index 0
    labkit log proof --dir ./mylog --first 3 --last 8    # consistency proof, verified
    labkit log proof --dir ./mylog --index 2             # inclusion proof, verified
    labkit log search --url http://127.0.0.1:3000 --hash sha256:<hex>
    labkit log witness --url http://127.0.0.1:3000 --checkpoint old.txt
    labkit log trusted-root --dir ./mylog -o log_root.json  # for labkit verify --key --trusted-root
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from labkit.cli._types import PORT, bounded_int
from labkit.errors import LogError

if TYPE_CHECKING:
    from labkit._internal.jsonio import JSONValue
    from labkit.tlog.client import RekorClient
    from labkit.tlog.store import TransparencyLog

__all__ = ["register"]


def _add_source(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--url", help="a running log, e.g. http://127.0.0.1:3000 (loopback only)")
    g.add_argument("--dir", help="a log directory on this machine")
    p.add_argument("--seed", default=None,
                   help="LAB: the public seed the --dir log was created with (default: the log's own key file)")
    p.add_argument("--name", default="labkit.local", help="log name for --dir (default: labkit.local)")


def _add_api(p: argparse.ArgumentParser, *, serve: bool = False) -> None:
    """--api v1 (Rekor v1, SQLite) or v2 (Rekor v2: tlog-tiles directory, proofs from tiles)."""
    p.add_argument("--api", choices=("v1", "v2"), default="v1",
                   help="v1: Rekor v1 API (default); v2: Rekor v2, a tlog-tiles directory (proofs from tiles)")
    p.add_argument("--origin", default=None,
                   help="v2: checkpoint origin (default: the served host:port, or the log's own)")
    if not serve:
        p.add_argument("--log-key", default=None, metavar="PEM",
                       help="v2: the log's public key (required with --url; default for --dir: the log's)")


def _open_local(args: argparse.Namespace, *, create: bool = False) -> Any:
    """The --dir log: its own random key, or the seeded LAB key with an explicit --seed; only `serve` creates."""
    from labkit.lab import Lab, SystemClock
    from labkit.tlog.store import TransparencyLog

    lab = Lab(seed=args.seed, clock=SystemClock()) if args.seed is not None else None
    return TransparencyLog.open(args.dir, lab=lab, name=args.name, create=create)


def _lab_origin(src: TransparencyLog | RekorClient) -> str | None:
    """Where the log's key comes from when it is public lab material (a seed), else None."""
    from labkit.keys import lab_key_origin
    from labkit.tlog.store import TransparencyLog

    return src.lab_origin if isinstance(src, TransparencyLog) else lab_key_origin(src.public_key())


def _lab_line(origin: str) -> str:
    return f"LAB log: its key is derived from a public seed ({origin}); anyone can sign as this log"


def _source(args: argparse.Namespace) -> Any:
    if args.url:
        from labkit.tlog.client import RekorClient

        return RekorClient(args.url)
    return _open_local(args)


def _print_json(value: JSONValue) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def _serve(args: argparse.Namespace) -> int:
    from labkit.tlog.server import serve

    if args.api == "v2":
        from labkit.cli._log_v2 import serve_v2

        return serve_v2(args)

    log = _open_local(args, create=True)
    origin = log.lab_origin

    def ready(url: str) -> None:
        if origin is not None:
            print(f"WARNING: {_lab_line(origin)}", file=sys.stderr, flush=True)
        lab = "LAB log " if origin is not None else ""
        print(f"serving {lab}{log.origin} ({log.size} entries) at {url}", flush=True)
        if args.room_page:
            print(f"room page (read-only, for the projector): {url}/room", flush=True)

    try:
        serve(log, host=args.host, port=args.port, max_body=args.max_body, ready=ready, room_page=args.room_page)
    except OSError as exc:
        raise LogError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0


def _info(args: argparse.Namespace) -> int:
    if args.api == "v2":
        from labkit.cli._log_v2 import info_v2

        return info_v2(args)
    src = _source(args)
    info = src.log_info() if args.url else src.info()
    origin = _lab_origin(src)
    if origin is not None:
        print(_lab_line(origin))
    print(f"tree size: {info['treeSize']}")
    print(f"root hash: {info['rootHash']}")
    print(f"tree ID:   {info['treeID']}")
    print()
    print(info["signedTreeHead"], end="")
    return 0


def _get(args: argparse.Namespace) -> int:
    src = _source(args)
    if args.index is not None:
        entry = src.get_by_index(args.index) if args.url else src.get(args.index)
    else:
        entry = src.get_by_uuid(args.uuid)
    _print_json({entry.entry_id: entry.to_api()})
    return 0


def _proof(args: argparse.Namespace) -> int:
    from labkit.tlog import merkle
    from labkit.tlog.checkpoint import SignedNote

    if args.api == "v2":
        from labkit.cli._log_v2 import proof_v2

        return proof_v2(args)
    src = _source(args)
    if args.index is not None:
        entry = src.get_by_index(args.index) if args.url else src.get(args.index)
        p = entry.inclusion_proof
        if p is None:
            raise LogError("the log returned no inclusion proof")
        merkle.verify_inclusion(p.log_index, p.tree_size, merkle.leaf_hash(entry.body), list(p.hashes), p.root_hash)
        _print_json({"logIndex": p.log_index, "treeSize": p.tree_size, "rootHash": p.root_hash.hex(),
                     "hashes": [h.hex() for h in p.hashes], "verified": True})
        return 0
    if args.first is None:
        raise LogError("give --index for an inclusion proof or --first (and --last) for a consistency proof")
    latest = SignedNote.parse(src.latest_checkpoint()).checkpoint()
    last = latest.size if args.last is None else args.last
    proof = src.consistency_proof(args.first, last)
    out: dict[str, Any] = {"firstSize": args.first, "lastSize": last, "hashes": [h.hex() for h in proof]}
    if not args.url:
        merkle.verify_consistency(args.first, last, src.root(args.first), src.root(last), proof)
        out["verified"] = True
    _print_json(out)
    return 0


def _search(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes

    src = _source(args)
    pem = read_bytes(args.public_key, "public key") if args.public_key else None
    if args.url:
        ids = src.search(hash=args.hash, public_key=pem, email=args.email)
    else:
        ids = [src.get(i, proof=False).entry_id for i in src.search(hash=args.hash, public_key=pem, email=args.email)]
    for i in ids:
        print(i)
    return 0


def _witness(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.tlog.checkpoint import SignedNote
    from labkit.tlog.witness import Witness

    src = _source(args)
    old = read_bytes(args.checkpoint, "checkpoint").decode("utf-8", "replace")
    key = src.public_key() if args.url else src.public_key
    origin = SignedNote.parse(old).checkpoint().origin
    witness = Witness(args.log_name or origin.split(" - ")[0], key, origin=origin)
    result = witness.explain_consistency(old, src)
    for s in result.steps:
        print(f"[{s.status:7}] {s.id}: {s.title}" + (f" ({s.actual})" if s.actual else ""))
    return 0 if result.verified else 1


def _trusted_root(args: argparse.Namespace) -> int:
    """A Sigstore TrustedRoot naming this log (its key, log ID, validity), e.g. for ``labkit verify --key``."""
    import datetime as _dt

    from labkit.cli._output import refuse_existing, write_output
    from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json
    from labkit.lab import DEFAULT_LAB_TIME
    from labkit.verify.trustroot import parse_rfc3339

    if args.output:
        refuse_existing([args.output], force=args.force)
    src = _source(args)
    try:
        if args.url:
            key = src.public_key()
            size = int(src.log_info()["treeSize"])
            first = src.get_by_index(0) if size else None
            base_url = args.base_url or args.url
        else:
            key = src.public_key
            first = src.get(0, proof=False) if src.size else None
            base_url = args.base_url or f"https://{args.name}"
    finally:
        if not args.url:
            src.close()
    origin = _lab_origin(src)
    if origin is not None:
        print(f"WARNING: {_lab_line(origin)}", file=sys.stderr)
    if args.valid_from:
        start = parse_rfc3339(args.valid_from, "--valid-from")
    else:
        # A lab log's key (seeded) is valid from the lab epoch, or from its first entry if that is older.
        start = DEFAULT_LAB_TIME
        if first is not None:
            start = min(start, _dt.datetime.fromtimestamp(first.integrated_time, tz=_dt.timezone.utc))
    # protobuf-specs sigstore_trustroot.proto: the log is identified by logId = SHA-256(DER SPKI) (Rekor v1).
    data = trusted_root_json(trusted_root(tlogs=[LogEntryKey(base_url, key, key.key_id(), start)],
                                          certificate_authorities=[]))
    if args.output:
        write_output(args.output, data, force=args.force)
        print(f"wrote the trusted root of {key.key_id().hex()[:16]}… to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._output import add_force_option
    from labkit.cli._types import non_negative_int64

    log = sub.add_parser("log", help="run and query a transparency log (Rekor v1 API subset)")
    cmds = log.add_subparsers(dest="log_command", metavar="SUBCOMMAND")

    p = cmds.add_parser("serve", help="serve a log directory on loopback")
    p.add_argument("--dir", required=True, help="log directory (created if missing, with a random key in it)")
    p.add_argument("--seed", default=None,
                   help="LAB: derive the log key from this public seed instead (reproducible, never for real use)")
    p.add_argument("--name", default="labkit.local", help="log name in checkpoints (default: labkit.local)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default: 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=3000, help="port (0 picks a free one; default: 3000)")
    p.add_argument("--max-body", type=bounded_int(1, 1 << 30), default=1 << 20,
                   help="largest request body in bytes (1 to 2^30; default: 1 MiB)")
    p.add_argument("--room-page", action="store_true",
                   help="also serve a read-only, auto-refreshing HTML page at /room for the projector (v1 API)")
    _add_api(p, serve=True)
    p.set_defaults(handler=_serve, url=None)

    p = cmds.add_parser("info", help="tree size, root hash and signed checkpoint")
    _add_source(p)
    _add_api(p)
    p.set_defaults(handler=_info)

    p = cmds.add_parser("get", help="an entry by index or UUID, as Rekor returns it")
    _add_source(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--index", type=non_negative_int64())
    g.add_argument("--uuid")
    p.set_defaults(handler=_get)

    p = cmds.add_parser("proof", help="an inclusion (--index) or consistency (--first/--last) proof")
    _add_source(p)
    p.add_argument("--index", type=non_negative_int64())
    p.add_argument("--first", type=non_negative_int64())
    p.add_argument("--last", type=non_negative_int64())
    _add_api(p)
    p.set_defaults(handler=_proof)

    p = cmds.add_parser("search", help="entries by artifact hash, public key file or email")
    _add_source(p)
    p.add_argument("--hash")
    p.add_argument("--public-key")
    p.add_argument("--email")
    p.set_defaults(handler=_search)

    p = cmds.add_parser("witness", help="check the log is consistent with an older checkpoint")
    _add_source(p)
    p.add_argument("--checkpoint", required=True, help="file holding an older signed checkpoint")
    p.add_argument("--log-name", help="key name on the log's signature line (default: from the origin)")
    p.set_defaults(handler=_witness)

    p = cmds.add_parser("trusted-root", help="a Sigstore TrustedRoot for this log (labkit verify --key --trusted-root)")
    _add_source(p)
    p.add_argument("--base-url", default=None, help="baseUrl to record (default: the --url, or https://NAME)")
    p.add_argument("--valid-from", default=None, metavar="RFC3339",
                   help="start of the key's validity (default: the lab epoch, or the first entry's time if older)")
    p.add_argument("-o", "--output", default=None, metavar="FILE", help="write here (atomically) instead of stdout")
    add_force_option(p, "the --output file")
    p.set_defaults(handler=_trusted_root)

    def _help(args: argparse.Namespace) -> int:
        log.print_help(sys.stdout)
        return 2

    log.set_defaults(handler=_help)
