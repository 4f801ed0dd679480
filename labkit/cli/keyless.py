"""`labkit` commands for the local keyless instance: ``init``, ``trusted-root``, ``token``.

    labkit init [DIR] --seed workshop       create a reproducible lab instance
    labkit trusted-root -o trusted_root.json
    labkit token --identity alice@example.com
    labkit serve                            Fulcio + Rekor + OIDC on loopback for Sigstore clients

``--instance DIR`` (default ``$LABKIT_HOME`` or ``./.labkit``) picks the instance.
Keyless ``sign-blob`` (no ``--key``) calls `labkit.keyless.sign.sign_blob_keyless`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from labkit.cli._types import MAX_LIFETIME_SECONDS, bounded_int

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance
    from labkit.tuf.server import TufServer

__all__ = ["add_instance_argument", "register"]


def add_instance_argument(p: argparse.ArgumentParser) -> None:
    """The ``--instance DIR`` option every keyless command shares."""
    p.add_argument("--instance", default=None, metavar="DIR",
                   help="lab instance directory (default: $LABKIT_HOME or ./.labkit); on verify and keyless sign "
                   "commands also a TUF repository URL (labkit serve's tuf: line, or file://DIR)")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._output import add_force_option
    from labkit.cli.trust import add_trusted_root_create_options

    p = sub.add_parser("init", help="create a local keyless instance (OIDC issuer, CA, logs, OCI layout)")
    p.add_argument("dir", nargs="?", default=None, help="directory (default: $LABKIT_HOME or ./.labkit)")
    p.add_argument("--seed", default=None, help="derive every key from this public seed (reproducible lab)")
    p.add_argument("--force", action="store_true", help="replace an existing instance")
    p.add_argument("--timestamp-only", action="store_true",
                   help="sign with RFC 3161 timestamps and no log entry (verify with --signed-timestamps N)")
    p.add_argument("--rekor-api", type=bounded_int(1, 2), default=1, metavar="N",
                   help="the Rekor API its bundles log through: 1 (SQLite log, SET) or 2 (tile log, hashedrekord "
                   "0.0.2, an RFC 3161 timestamp instead of a SET)")
    p.set_defaults(handler=_init)

    q = sub.add_parser("trusted-root", help="print or write the instance's Sigstore TrustedRoot JSON")
    add_instance_argument(q)
    q.add_argument("-o", "--output", default=None, help="write here instead of standard output")
    add_force_option(q, "the --output file")
    q.add_argument("--client-trust-config", action="store_true",
                   help="wrap it in a ClientTrustConfig (for sigstore --trust-config)")
    q.add_argument("action", nargs="?", choices=["create"],
                   help="create: make a trusted root from --fulcio/--rekor/--ctfe/--tsa (cosign trusted-root create)")
    add_trusted_root_create_options(q)
    q.set_defaults(handler=_trusted_root)

    t = sub.add_parser("token", help="mint an identity token (JWT) from the instance's OIDC issuer")
    add_instance_argument(t)
    t.add_argument("--identity", default=None, help="email or URI the token names (sub/email)")
    t.add_argument("--audience", default="sigstore", help="aud claim (default: sigstore)")
    t.add_argument("--expires-in", type=bounded_int(1, MAX_LIFETIME_SECONDS), default=600, metavar="SECONDS",
                   help="lifetime (default 600)")
    t.add_argument("--github-repository", default=None, metavar="OWNER/REPO",
                   help="mint a GitHub-Actions-shaped workflow token for this repository")
    t.add_argument("--github-workflow", default=".github/workflows/release.yml", help="workflow path")
    t.add_argument("--github-ref", default="refs/heads/main", help="git ref")
    t.add_argument("--decode", action="store_true", help="print the decoded header and claims instead")
    t.set_defaults(handler=_token)

    s = sub.add_parser("serve", help="serve the instance's OIDC issuer, CA (Fulcio v2 API) and log on 127.0.0.1")
    add_instance_argument(s)
    s.add_argument("--trust-config", default=None, metavar="FILE",
                   help="where to write the ClientTrustConfig for clients (default: DIR/trust_config.json, "
                   "rewritten on every start)")
    add_force_option(s, "the --trust-config file")
    s.set_defaults(handler=_serve)


def _warn_if_lab(inst: Instance, out: TextIO) -> None:
    """Say LAB when the instance's keys come from a public seed."""
    lab = getattr(inst, "lab", None)
    if lab is not None:
        print(f"WARNING: LAB instance: every key derives from the public seed {lab.seed!r}; "
              "never trust it for real use", file=out, flush=True)


def _init(args: argparse.Namespace) -> int:
    from labkit.keyless.instance import Instance

    inst = Instance.create(args.dir, seed=args.seed, force=args.force, timestamp_only=args.timestamp_only,
                           rekor_api=args.rekor_api)
    mode = (f"lab (seed {args.seed!r}): LAB keys, derivable by anyone from the public seed; never for real use"
            if args.seed is not None else "real (random keys in keys/, mode 0600)")
    print(f"created labkit instance: {mode}")
    print(f"  OIDC issuer:     {inst.issuer.url}")
    print(f"  CA:              {inst.ca.intermediate_cert.subject.rfc4514_string()}")
    print(f"  transparency log {inst.url('tlog_url')} (log ID {inst.tlog_key.public_key().key_id().hex()[:16]}…)")
    if inst.rekor_api == 2:
        print(f"  Rekor v2 log     {inst.url('tlog2_url')} (tile log in tlog2/; signing config majorApiVersion 2)")
    print(f"  CT log           {inst.ctlog.base_url} (log ID {inst.ctlog.log_id.hex()[:16]}…)")
    print(f"  timestamps       {inst.url('tsa_url')} ({inst.tsa.chain[0].subject.rfc4514_string()})")
    print("  trusted root:    trusted_root.json")
    return 0


def _trusted_root(args: argparse.Namespace) -> int:
    from labkit.cli._output import refuse_existing, write_output
    from labkit.errors import InputError
    from labkit.keyless.instance import Instance

    if args.action == "create":
        from labkit.cli.trust import trusted_root_create

        return trusted_root_create(args)
    if args.fulcio or args.rekor or args.ctfe or args.tsa or args.out:
        raise InputError("--fulcio, --rekor, --ctfe, --tsa and --out belong to `labkit trusted-root create`")
    if args.output:
        refuse_existing([args.output], force=args.force)
    inst = Instance.open(args.instance)
    data = inst.client_trust_config_json() if args.client_trust_config else inst.trusted_root_json()
    if args.output:
        write_output(args.output, data, force=args.force)
    else:
        sys.stdout.write(data.decode())
    _warn_if_lab(inst, sys.stderr)
    return 0


def _token(args: argparse.Namespace) -> int:
    import json

    from labkit.errors import InputError
    from labkit.keyless.instance import Instance
    from labkit.keyless.oidc import decode_unverified, github_claims

    inst = Instance.open(args.instance)
    claims = None
    if args.github_repository:
        claims = github_claims(args.github_repository, args.github_workflow, args.github_ref)
    elif not args.identity:
        raise InputError("give --identity (an email or URI) or --github-repository")
    token = inst.issuer.mint(args.identity, audience=args.audience, lifetime=args.expires_in, claims=claims)
    if args.decode:
        decoded = decode_unverified(token)
        print(json.dumps({"header": decoded.header, "claims": decoded.claims}, indent=2))
    else:
        print(token)
    return 0


@contextlib.contextmanager
def _serve_tuf(inst: Instance, trust_config: bytes) -> Iterator[TufServer]:
    """Publish the served trust config over the instance's TUF repository (made on first use) and serve it."""
    from labkit.tuf.instance import instance_repository, targets_from_trust_config
    from labkit.tuf.server import TufServer

    if (inst.path / "tuf" / "repo" / "1.root.json").exists():
        repo = instance_repository(inst)
        repo.publish(targets_from_trust_config(trust_config))
    else:
        repo = instance_repository(inst, create=True, trust_config=trust_config)
    server = TufServer(repo.repo_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _serve(args: argparse.Namespace) -> int:
    import threading

    from labkit.cli._output import refuse_existing, write_output
    from labkit.keyless.instance import Instance
    from labkit.keyless.server import InstanceServer

    if args.trust_config:
        refuse_existing([args.trust_config], force=args.force)
    inst = Instance.open(args.instance)
    with InstanceServer(inst) as server:
        # The instance's own trust_config.json is rewritten on each start (the ports change); a named file is not.
        target = args.trust_config or (inst.path / "trust_config.json")
        write_output(target, server.client_trust_config_json(), force=args.force or not args.trust_config)
        print(f"issuer + CA: {server.url}", flush=True)
        print(f"log:         {server.tlog_url}", flush=True)
        print(f"timestamps:  {server.tsa_url}", flush=True)
        print(f"trust config: {target} (sigstore --trust-config {target} ...)", flush=True)
        _warn_if_lab(inst, sys.stdout)  # served on the real clock (Instance.open): real clients check times
        with _serve_tuf(inst, server.client_trust_config_json()) as tuf:
            print(f"tuf:         {tuf.url} (sigstore --instance {tuf.url} trust-instance root.json; "
                  "labkit tuf root -o root.json)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    inst.close()
    return 0
