"""`labkit bundle {inspect,convert}`: any bundle from the wild, decoded and rewritten as a v0.3 bundle.

    labkit bundle inspect FILE [--json]          # decode every claim, verify nothing
    labkit bundle convert IN -o OUT [--index N]  # PEP 740 / npm wrapper (or old bundle) -> bundle JSON
    labkit bundle upgrade IN -o OUT [--log-dir DIR | --log-url URL]   # v0.1/v0.2 -> v0.3
    labkit bundle create --artifact F --signature S (--certificate C | --key K) --rekor-bundle R -o OUT

Inputs may be a Sigstore bundle, a PEP 740 attestation or provenance object, or
an npm registry attestation response (recognised automatically).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labkit.bundle import Bundle

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `bundle` command group."""
    from labkit.cli._output import add_force_option

    p = sub.add_parser("bundle", help="inspect and convert Sigstore bundles, PEP 740 and npm attestations")
    group = p.add_subparsers(dest="bundle_command", metavar="SUBCOMMAND", required=True)

    ins = group.add_parser(
        "inspect",
        help="decode what a bundle claims (identity, log entries, timestamps, subjects); verifies nothing",
        description="Decode a bundle, PEP 740 attestation/provenance or npm attestation response. "
                    "It does not perform any verification: use verify-bundle for that.",
    )
    ins.add_argument("file", metavar="FILE", help="the bundle or wrapper (JSON)")
    ins.add_argument("--json", action="store_true", help="print a JSON document instead of a tree")
    ins.set_defaults(handler=_inspect)

    conv = group.add_parser(
        "convert",
        help="write a PEP 740 attestation / npm attestation (or any bundle) as a bundle other clients verify",
    )
    conv.add_argument("file", metavar="IN", help="the bundle or wrapper (JSON)")
    conv.add_argument("-o", "--output", required=True, help="where to write the bundle (.sigstore.json)")
    conv.add_argument("--index", type=int, default=None, help="which bundle, when the input holds several")
    add_force_option(conv)
    conv.set_defaults(handler=_convert)

    up = group.add_parser("upgrade", help="rewrite a v0.1/v0.2 bundle as v0.3, fetching a missing inclusion proof")
    up.add_argument("file", metavar="IN", help="the bundle")
    up.add_argument("-o", "--output", required=True, help="where to write the v0.3 bundle")
    _log_options(up)
    add_force_option(up)
    up.set_defaults(handler=_upgrade)

    cr = group.add_parser(
        "create", help="make a bundle from cosign's legacy material (signature, certificate, rekorBundle)"
    )
    cr.add_argument("--artifact", required=True, help="the signed file (blob or simple-signing payload)")
    cr.add_argument("--signature", default=None, help="the signature (.sig, base64 or raw)")
    cr.add_argument("--certificate", default=None, help="the signing certificate (PEM)")
    cr.add_argument("--certificate-chain", default=None, help="intermediate certificates (PEM)")
    cr.add_argument("--key", default=None, help="the signer's public key (PEM), for key-signed material")
    cr.add_argument("--rekor-bundle", default=None,
                    help="the rekorBundle JSON, or cosign's legacy bundle file {base64Signature, cert, rekorBundle}")
    cr.add_argument("-o", "--output", required=True, help="where to write the bundle (v0.3 with a log, else v0.1)")
    _log_options(cr)
    add_force_option(cr)
    cr.set_defaults(handler=_create)


def _log_options(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--log-dir", default=None,
                     help="a labkit log directory or keyless instance (labkit init) to take inclusion proofs from")
    src.add_argument("--log-url", default=None, help="a loopback Rekor v1 log URL to take inclusion proofs from")


def _proofs(args: argparse.Namespace) -> tuple[object, object]:
    """(ProofSource or None, the log to close or None)."""
    from labkit.analyst.convert import log_proofs

    if args.log_dir:
        from pathlib import Path

        from labkit.keyless.instance import INSTANCE_FILE, Instance
        from labkit.tlog.store import TransparencyLog

        if (Path(args.log_dir) / INSTANCE_FILE).exists():  # a keyless instance: its log, with its key
            inst = Instance.open(args.log_dir)
            return log_proofs(inst.tlog.get), inst
        log = TransparencyLog.open(args.log_dir, create=False)
        return log_proofs(log.get), log
    if args.log_url:
        from labkit.tlog.client import RekorClient

        return log_proofs(RekorClient(args.log_url).get_by_index), None
    return None, None


def _write(args: argparse.Namespace, bundle: Bundle) -> None:
    from labkit.bundle import Bundle
    from labkit.cli._output import write_output

    assert isinstance(bundle, Bundle)
    write_output(args.output, bundle.to_json(indent=2).encode() + b"\n", force=args.force)
    print(f"wrote {args.output} ({bundle.media_type})")


def _upgrade(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.analyst.convert import to_v03
    from labkit.bundle import Bundle
    from labkit.cli._output import refuse_existing

    refuse_existing([args.output], force=args.force)
    bundle = Bundle.from_json(read_bytes(args.file, "bundle"))
    proofs, log = _proofs(args)
    try:
        out = to_v03(bundle, proofs)  # type: ignore[arg-type]
    finally:
        if log is not None:
            log.close()  # type: ignore[attr-defined]
    _write(args, out)
    return 0


def _create(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.analyst.convert import create_from_legacy

    def opt(path: str | None, what: str) -> bytes | None:
        return None if path is None else read_bytes(path, what)

    proofs, log = _proofs(args)
    try:
        out = create_from_legacy(
            read_bytes(args.artifact, "artifact"), signature=opt(args.signature, "signature"),
            certificate_pem=opt(args.certificate, "certificate"), chain_pem=opt(args.certificate_chain, "chain"),
            key_pem=opt(args.key, "key"), rekor_bundle=opt(args.rekor_bundle, "rekor bundle"),
            proofs=proofs,  # type: ignore[arg-type]
        )
    finally:
        if log is not None:
            log.close()  # type: ignore[attr-defined]
    _write(args, out)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    import json

    from labkit._internal.fsutil import read_bytes
    from labkit.analyst.inspect import inspect_document

    reports = inspect_document(read_bytes(args.file, "bundle"))
    if args.json:
        doc = {"verified": False, "note": reports[0].note, "bundles": [r.to_dict() for r in reports]}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write("\n\n".join(r.text() for r in reports) + "\n")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.analyst.convert import convert_document

    _write(args, convert_document(read_bytes(args.file, "bundle"), index=args.index))
    return 0
