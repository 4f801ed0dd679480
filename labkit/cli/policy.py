"""`labkit policy evaluate`: an admission dry run.

    labkit policy evaluate policy.yaml --layout registry.lab/shop/web=./oci registry.lab/shop/web:v1
    labkit policy evaluate policy.yaml 127.0.0.1:5000/shop/web:v1 127.0.0.1:5000/shop/api:v2

Prints ``allow``/``deny`` per image with the reason and exits 1 if any
image is denied (2 for a policy labkit does not understand). Images in a
loopback registry are read from it; ``--layout REPO=DIR`` serves the
repository ``REPO`` from an OCI layout directory. Signatures are checked
against the lab instance's trusted root (or ``--trusted-root FILE``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from labkit.errors import InputError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli.keyless import add_instance_argument

    p = sub.add_parser("policy", help="evaluate admission policies (ClusterImagePolicy, Kyverno verifyImages)")
    psub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    e = psub.add_parser("evaluate", help="allow or deny each image under the policies in POLICY.yaml")
    e.add_argument("policy", metavar="POLICY.yaml")
    e.add_argument("images", metavar="IMAGE", nargs="+")
    e.add_argument("--layout", action="append", default=[], metavar="REPO=DIR",
                   help="serve repository REPO (e.g. registry.lab/shop/web) from the OCI layout DIR")
    e.add_argument("--trusted-root", default=None, metavar="FILE", help="TrustedRoot JSON (default: the instance's)")
    e.add_argument("--no-match", default="deny", choices=("deny", "warn", "allow"),
                   help="decision for an image no policy matches (policy-controller default: deny)")
    e.add_argument("--output", default="text", choices=("text", "json"), help="output format")
    add_instance_argument(e)
    e.set_defaults(handler=_evaluate)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from labkit._internal.fsutil import read_bytes
    from labkit.errors import PolicyError
    from labkit.oci.layout import OCILayout
    from labkit.oci.reference import is_loopback_registry
    from labkit.oci.registry import RegistryClient
    from labkit.policy import evaluate, load_policies
    from labkit.policy.glob import ImageName
    from labkit.policy.sources import OCIEvidenceSource

    try:
        policies = load_policies(read_bytes(args.policy, "policy"), source=args.policy)
    except PolicyError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"What to check: {exc.hint}", file=sys.stderr)
        return 2
    stores: dict[str, Any] = {}
    for item in args.layout:
        repo, sep, path = item.partition("=")
        if not sep or not repo or not path:
            raise InputError(f"--layout must be REPO=DIR, got {item!r}")
        stores[repo] = OCILayout.open(path)
    if args.trusted_root:
        root = read_bytes(args.trusted_root, "trusted root")
    else:
        from labkit.keyless.instance import Instance

        root = Instance.open(args.instance).trusted_root_json()

    def lookup(name: ImageName) -> Any:
        if is_loopback_registry(name.registry):
            return RegistryClient(f"http://{name.registry}").repository(name.repository)
        return None

    source = OCIEvidenceSource(root, stores, lookup=lookup)
    decisions = evaluate(policies, args.images, source, no_match=args.no_match)
    if args.output == "json":
        print(json.dumps([{"image": d.image, "decision": d.verdict, "reason": d.reason,
                           "warnings": list(d.warnings)} for d in decisions], indent=2))
    else:
        width = max(len(d.image) for d in decisions)
        for d in decisions:
            print(f"{d.verdict:<5}  {d.image:<{width}}  {d.reason}")
            for w in d.warnings:
                print(f"{'':<5}  {'':<{width}}  warning: {w}")
    return 0 if all(d.allowed for d in decisions) else 1
