"""`labkit witness`: a C2SP tlog-witness for tile logs, quorum checks and .tlog-proof files.

    labkit witness serve --dir ./w1 --policy policy.txt --name w1.example --port 3100
    labkit witness quorum --policy policy.txt --checkpoint cosigned.txt
    labkit witness proof export --dir ./tlog --index 7 --checkpoint cosigned.txt -o entry7.tlog-proof
    labkit witness proof verify --proof entry7.tlog-proof --entry entry7.json --policy policy.txt
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from pathlib import Path
from typing import Any

from labkit.cli._types import PORT
from labkit.errors import LogError

__all__ = ["register"]


def _cosigners(args: argparse.Namespace) -> list[Any]:
    """The witness's keys: Ed25519 (always) and ML-DSA-44 (--mldsa44); kept 0600 in --dir, or LAB from --seed."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from labkit._internal.fsutil import atomic_write
    from labkit.witness.cosignature import Cosigner, mldsa44_support

    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def seed(label: str) -> bytes:
        if args.seed is not None:
            return hashlib.sha256(f"labkit witness/{args.seed}/{label}".encode()).digest()
        path = d / f"{label}.seed"
        if not path.exists():
            import os

            atomic_write(path, os.urandom(32), mode=0o600, overwrite=False)
        data = path.read_bytes()
        if len(data) != 32:
            raise LogError(f"{path} is not a 32-byte key seed")
        return data

    out = [Cosigner(args.name, ed25519.Ed25519PrivateKey.from_private_bytes(seed("ed25519")))]
    if args.mldsa44:
        ok, why = mldsa44_support()
        if not ok:
            raise LogError(f"--mldsa44: ML-DSA-44 is unavailable here: {why}")
        out.append(Cosigner.mldsa44(args.name, seed("mldsa44")))
    return out


def _logs(args: argparse.Namespace) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from labkit.keys import VerifyingKey
    from labkit.witness.cosignature import parse_vkey
    from labkit.witness.policy import read_policy

    keys = {}
    if args.policy:
        keys.update(read_policy(args.policy).logs)
    for text in args.log or ():
        v = parse_vkey(text)
        v.log_key_hint()
        keys[v.name] = v
    if not keys:
        raise LogError("give the logs to witness: --policy FILE (its `log` lines) or --log VKEY")
    return {o: VerifyingKey.from_key(ed25519.Ed25519PublicKey.from_public_bytes(v.raw)) for o, v in keys.items()}


def _serve(args: argparse.Namespace) -> int:
    from labkit.witness.service import Witness, serve_witness

    witness = Witness(_logs(args), _cosigners(args), state=Path(args.dir) / "state.json")
    try:
        server = serve_witness(witness, host=args.host, port=args.port)
    except OSError as exc:
        raise LogError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    try:
        if args.seed is not None:
            print(f"WARNING: LAB witness: its keys derive from the public seed {args.seed!r}; anyone can cosign as it",
                  file=sys.stderr, flush=True)
        lab = "LAB " if args.seed is not None else ""
        print(f"serving {lab}witness {args.name} for {', '.join(sorted(witness.logs))} at {server.url}", flush=True)
        print(f"url: {server.url}")
        for c in witness.cosigners:
            print(f"vkey ({c.public.algorithm}): {c.public.vkey()}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0


def _quorum(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.witness.policy import explain_quorum, read_policy

    note = read_bytes(args.checkpoint, "checkpoint").decode("utf-8", "replace")
    result = explain_quorum(note, read_policy(args.policy))
    print(result.checklist())
    return 0 if result.verified else 1


class _NoKey:
    """A stand-in log key for reading tiles only (never used to verify)."""


_NO_KEY: Any = _NoKey()


def _export(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._output import refuse_existing, write_output
    from labkit.tlog.checkpoint import SignedNote
    from labkit.tlog.tileclient import DirectorySource, TileClient
    from labkit.witness.proof import export_proof

    if args.output:
        refuse_existing([args.output], force=args.force)
    note = read_bytes(args.checkpoint, "checkpoint").decode("utf-8", "replace")
    # The log's signature and the cosignatures are the verifier's business (`proof verify`); here the
    # tiles only have to prove the entry under the checkpoint's root.
    checkpoint = SignedNote.parse(note).checkpoint()
    client = TileClient(DirectorySource(args.dir), origin=checkpoint.origin, key=_NO_KEY)
    body = client.entry(args.index, checkpoint.size)
    proof = client.verify_inclusion(args.index, body, checkpoint)
    text = export_proof(args.index, proof, SignedNote.parse(note).to_text())
    if args.output:
        write_output(args.output, text.encode(), force=args.force)
        print(f"wrote the proof of entry {args.index} under size {checkpoint.size} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.witness.policy import read_policy
    from labkit.witness.proof import explain_proof

    result = explain_proof(read_bytes(args.proof, "tlog-proof"), read_bytes(args.entry, "log entry"),
                           read_policy(args.policy))
    print(result.checklist())
    return 0 if result.verified else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._output import add_force_option
    from labkit.cli._types import non_negative_int64

    w = sub.add_parser("witness", help="witness tile logs (C2SP tlog-witness), check quorums, .tlog-proof files")
    cmds = w.add_subparsers(dest="witness_command", metavar="SUBCOMMAND")

    p = cmds.add_parser("serve", help="serve POST /add-checkpoint on loopback")
    p.add_argument("--dir", required=True, help="witness directory: keys (0600) and the latest checkpoint per log")
    p.add_argument("--name", default="witness.labkit.local", help="cosigner name (default: witness.labkit.local)")
    p.add_argument("--policy", help="policy file whose `log` lines name the logs to witness")
    p.add_argument("--log", action="append", metavar="VKEY", help="a log to witness, as a vkey (repeatable)")
    p.add_argument("--mldsa44", action="store_true", help="also cosign with ML-DSA-44 (where OpenSSL supports it)")
    p.add_argument("--seed", default=None, help="LAB: derive the witness keys from this public seed")
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default: 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=3100, help="port (0 picks a free one; default: 3100)")
    p.set_defaults(handler=_serve)

    p = cmds.add_parser("quorum", help="check a cosigned checkpoint against a policy's quorum")
    p.add_argument("--policy", required=True)
    p.add_argument("--checkpoint", required=True, help="file holding the cosigned checkpoint")
    p.set_defaults(handler=_quorum)

    proof = cmds.add_parser("proof", help=".tlog-proof files (C2SP tlog-proof)")
    pcmds = proof.add_subparsers(dest="proof_command", metavar="SUBCOMMAND")
    p = pcmds.add_parser("export", help="the proof of one entry of a tile log directory under a cosigned checkpoint")
    p.add_argument("--dir", required=True, help="tile log directory")
    p.add_argument("--index", required=True, type=non_negative_int64())
    p.add_argument("--checkpoint", required=True, help="file holding the (cosigned) checkpoint")
    p.add_argument("-o", "--output", default=None, metavar="FILE", help="write here (atomically) instead of stdout")
    add_force_option(p, "the --output file")
    p.set_defaults(handler=_export)
    p = pcmds.add_parser("verify", help="verify a .tlog-proof offline against an entry and a policy")
    p.add_argument("--proof", required=True)
    p.add_argument("--entry", required=True, help="file holding the logged entry's bytes")
    p.add_argument("--policy", required=True)
    p.set_defaults(handler=_verify)

    def _help(args: argparse.Namespace) -> int:
        w.print_help(sys.stdout)
        return 2

    w.set_defaults(handler=_help)
    proof.set_defaults(handler=lambda args: (proof.print_help(sys.stdout), 2)[1])
