"""`labkit audit PATH... --policy FILE`: verify many bundles against identity rules, on every core.

    labkit audit release/ --policy audit.yaml [--jobs N] [--format text|json|html] [-o REPORT] [--progress]

Exit 0 when every bundle verified and nothing is unsigned; 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `audit` command."""
    from labkit.cli._output import add_force_option

    p = sub.add_parser("audit", help="verify many bundles (a release, a directory) against a policy file, in parallel")
    p.add_argument("paths", nargs="+", metavar="PATH", help="bundle files, artifacts, or directories of them")
    p.add_argument("--policy", required=True, help="policy file (JSON or YAML): rules, optional trusted_root")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: every core)")
    p.add_argument("--format", choices=("text", "json", "html"), default="text", help="summary format")
    p.add_argument("-o", "--output", default=None, help="write the summary here instead of stdout")
    p.add_argument("--progress", action="store_true", help="show a progress counter on stderr")
    p.add_argument("--summary-only", action="store_true", help="counts only, no row per input (flat memory)")
    add_force_option(p)
    p.set_defaults(handler=_audit)


def _audit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from labkit.audit import audit, policy_from_doc
    from labkit.cli._documents import read_json_or_yaml
    from labkit.cli._output import refuse_existing, write_output
    from labkit.errors import InputError

    if args.jobs is not None and not 1 <= args.jobs <= 256:
        raise InputError("--jobs must be between 1 and 256")
    if args.output:
        refuse_existing([args.output], force=args.force)
    policy = policy_from_doc(read_json_or_yaml(args.policy, "audit policy"), Path(args.policy).parent)

    def progress(n: int) -> None:
        if n % 50 == 0:
            print(f"\raudited {n}", end="", file=sys.stderr, flush=True)

    summary = audit(args.paths, policy, jobs=args.jobs, keep_rows=not args.summary_only,
                    progress=progress if args.progress else None)
    if args.progress:
        print(f"\raudited {summary.total}", file=sys.stderr)
    if args.format == "json":
        import json

        text = json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n"
    elif args.format == "html":
        text = summary.html() + "\n"
    else:
        text = summary.text() + "\n"
    if args.output:
        write_output(args.output, text.encode(), force=args.force)
    else:
        sys.stdout.write(text)
    return 0 if summary.verified == summary.total else 1
