"""`labkit bundle {inspect,convert}`: any bundle from the wild, decoded and rewritten as a v0.3 bundle.

    labkit bundle inspect FILE [--json]          # decode every claim, verify nothing
    labkit bundle convert IN -o OUT [--index N]  # PEP 740 / npm wrapper (or old bundle) -> bundle JSON

Inputs may be a Sigstore bundle, a PEP 740 attestation or provenance object, or
an npm registry attestation response (recognised automatically).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `bundle` command group."""
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
    conv.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    conv.set_defaults(handler=_convert)


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
    from labkit._internal.fsutil import atomic_write, read_bytes
    from labkit.analyst.convert import convert_document

    out = convert_document(read_bytes(args.file, "bundle"), index=args.index)
    atomic_write(args.output, out.to_json(indent=2).encode() + b"\n", overwrite=args.force)
    print(f"wrote {args.output} ({out.media_type})")
    return 0
