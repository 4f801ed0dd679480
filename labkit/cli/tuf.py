"""`labkit tuf` (the instance publishes its trust over TUF) and `labkit trust update` (a client refreshes it).

    labkit tuf init --instance DIR              root, targets, snapshot, timestamp keys; version 1 of each
    labkit tuf publish --instance DIR           after a service or key changed: new targets/snapshot/timestamp
    labkit tuf rotate-root --instance DIR       new root keys; the new root is signed by old and new keys
    labkit tuf status --instance DIR            versions, expiry, thresholds, targets
    labkit tuf root --instance DIR -o root.json the bootstrap root a client starts from
    labkit trust update --instance URL [--root root.json] [--cache DIR]

``--instance URL`` (http://127.0.0.1:PORT as `labkit serve` prints on its ``tuf:`` line, or file://DIR) on
every verify command uses the trusted root that URL delivered (`instance_trust`, `instance_root_json`);
keyless sign-blob, attest, attest-blob and sign sign through the signing config it delivered
(`tuf_signing`: the CA, logs and TSAs it names, `labkit.keyless.remote.sign_with_config`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labkit.signingconfig import SigningConfig
    from labkit.timestamping import Timestamper
    from labkit.tuf.client import Delivered

__all__ = ["TufSigning", "add_cache_option", "instance_root_json", "instance_trust", "is_tuf_url", "register",
           "tuf_signing"]


def is_tuf_url(value: str | None) -> bool:
    """Whether an ``--instance`` value names a TUF repository URL rather than an instance directory."""
    return bool(value) and str(value).startswith(("http://", "https://", "file://"))


def add_cache_option(p: argparse.ArgumentParser) -> None:
    """``--tuf-cache DIR``: where TUF metadata is kept (default $LABKIT_TUF_CACHE or ~/.cache/labkit/tuf)."""
    p.add_argument("--tuf-cache", default=None, metavar="DIR",
                   help="TUF cache directory (default: $LABKIT_TUF_CACHE or ~/.cache/labkit/tuf)")


def instance_trust(args: argparse.Namespace) -> Delivered | None:
    """Refresh the trust ``--instance URL`` delivers over TUF; None when --instance is a directory (or absent)."""
    if not is_tuf_url(getattr(args, "instance", None)):
        return None
    from labkit.tuf.client import refresh

    return refresh(args.instance, cache=getattr(args, "tuf_cache", None))


def instance_root_json(args: argparse.Namespace) -> bytes:
    """The trusted root of ``--instance``: delivered over TUF for a URL, the instance directory's own otherwise."""
    delivered = instance_trust(args)
    if delivered is not None:
        return delivered.trusted_root
    from labkit.keyless.instance import Instance

    with Instance.open(args.instance) as instance:
        return instance.trusted_root_json()


@dataclass(frozen=True)
class TufSigning:
    """What ``--instance URL`` gives a signing command: the delivered signing config, its TSAs, the token."""

    config: SigningConfig
    timestampers: list[Timestamper]
    identity_token: str


def tuf_signing(args: argparse.Namespace, command: str) -> TufSigning | None:
    """``--instance URL`` on a keyless signing command: sign through the signing config it delivered over TUF.

    None when --instance is a directory (or absent). Each timestamp is checked against ``--trusted-root``
    when given, else against the trusted root the URL delivered, before anything is logged.
    """
    delivered = instance_trust(args)
    if delivered is None:
        return None
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._options import signer_choice
    from labkit.errors import InputError
    from labkit.lab import SystemClock
    from labkit.signingconfig import SigningConfig
    from labkit.timestamping import CheckedTimestamper, timestampers_for
    from labkit.verify.trustroot import TrustedRoot

    if getattr(args, "signing_config", None):
        raise InputError("give --instance URL or --signing-config, not both: the instance delivers its config")
    if args.key is None and not args.identity_token:
        raise InputError(f"{command} --instance URL signs through the CA the instance serves: give --identity-token",
                         hint="Mint one from the instance's issuer: labkit token --instance DIR --identity EMAIL.")
    choice = signer_choice(args)  # the one --key / --identity / --identity-token rule of every sign command
    if choice.key is not None or choice.identity_token is None:
        raise InputError(f"{command} --instance URL signs keyless through the instance's CA: drop --key",
                         hint=f"Sign with a key without --instance URL: {command} --key cosign.key ...")
    config = SigningConfig.from_json(delivered.signing_config)
    trusted = getattr(args, "trusted_root", None)
    root = TrustedRoot.from_json(read_bytes(trusted, "trusted root") if trusted else delivered.trusted_root)
    stampers: list[Timestamper] = [CheckedTimestamper(t, root)
                                   for t in timestampers_for(config, now=SystemClock().now())]
    return TufSigning(config, stampers, choice.identity_token)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``tuf {init,publish,rotate-root,status,root}`` and ``trust update``."""
    from labkit.cli._output import add_force_option
    from labkit.cli._types import bounded_int
    from labkit.cli.keyless import add_instance_argument

    p = sub.add_parser("tuf", help="publish the instance's trusted root and signing config over TUF")
    verbs = p.add_subparsers(dest="tuf_command", metavar="VERB", required=True)
    i = verbs.add_parser("init", help="create the instance's TUF repository (DIR/tuf)")
    add_instance_argument(i)
    i.add_argument("--force", action="store_true", help="replace an existing repository (clients must re-bootstrap)")
    i.set_defaults(handler=_init)
    u = verbs.add_parser("publish", help="publish the current trusted root and signing config")
    add_instance_argument(u)
    u.set_defaults(handler=_publish)
    r = verbs.add_parser("rotate-root", help="new root keys, signed by the old and the new keys")
    add_instance_argument(r)
    r.add_argument("--keys", type=bounded_int(1, 16), default=None, help="number of root keys (default: as before)")
    r.add_argument("--threshold", type=bounded_int(1, 16), default=None, help="root threshold (default: as before)")
    r.add_argument("--role", action="append", default=[], choices=["targets", "snapshot", "timestamp"],
                   help="also replace this role's key (repeatable)")
    r.set_defaults(handler=_rotate_root)
    s = verbs.add_parser("status", help="versions, expiry and thresholds of every role")
    add_instance_argument(s)
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(handler=_status)
    o = verbs.add_parser("root", help="write the bootstrap root.json clients start from")
    add_instance_argument(o)
    o.add_argument("-o", "--output", required=True, help="where to write root.json")
    o.add_argument("--version", dest="root_version", type=bounded_int(1, 1 << 30), default=None,
                   help="root version (default: the newest)")
    add_force_option(o, "the --output file")
    o.set_defaults(handler=_root)

    t = sub.add_parser("trust", help="refresh an instance's trust over TUF")
    tv = t.add_subparsers(dest="trust_command", metavar="VERB", required=True)
    up = tv.add_parser("update", help="refresh trusted_root.json and signing_config.v0.2.json through TUF")
    up.add_argument("--instance", required=True, metavar="URL", help="the TUF repository URL (or directory)")
    up.add_argument("--root", default=None, metavar="FILE", help="bootstrap root.json (first use only)")
    add_cache_option(up)
    up.set_defaults(handler=_trust_update)


def _instance(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from labkit.keyless.instance import Instance

    return Instance.open(args.instance)


def _init(args: argparse.Namespace) -> int:
    from labkit.tuf.instance import instance_repository
    from labkit.tuf.repository import describe

    with _instance(args) as inst:
        repo = instance_repository(inst, create=True, force=args.force)
        print(f"created TUF repository {repo.path}")
        print(describe(repo.status()))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from labkit.tuf.instance import instance_repository, targets_from_trust_config

    with _instance(args) as inst:
        result = instance_repository(inst).publish(targets_from_trust_config(inst.client_trust_config_json()))
    changed = ", ".join(result.changed_targets) or "no target changed"
    print(f"published: {changed}; " + ", ".join(f"{k} v{v}" for k, v in result.versions.items()))
    return 0


def _rotate_root(args: argparse.Namespace) -> int:
    from labkit.tuf.instance import instance_repository

    with _instance(args) as inst:
        version = instance_repository(inst).rotate_root(keys=args.keys, threshold=args.threshold, roles=args.role)
    print(f"root v{version}: signed by the previous root's keys and the new ones")
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from labkit.tuf.instance import instance_repository
    from labkit.tuf.repository import describe

    with _instance(args) as inst:
        status = instance_repository(inst).status()
    print(json.dumps(status, indent=2, sort_keys=True) if args.json else describe(status))
    return 0


def _root(args: argparse.Namespace) -> int:
    from labkit.cli._output import refuse_existing, write_output
    from labkit.tuf.instance import instance_repository

    refuse_existing([args.output], force=args.force)
    with _instance(args) as inst:
        data = instance_repository(inst).root_bytes(args.root_version)
    write_output(args.output, data, force=args.force)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _trust_update(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.tuf.client import cache_dir_for, refresh
    from labkit.tuf.timemachine import TrustHistory

    bootstrap = read_bytes(args.root, "bootstrap root") if args.root else None
    got = refresh(args.instance, bootstrap_root=bootstrap, cache=args.tuf_cache)
    # dated snapshots for the trust time machine (labkit.tuf.timemachine)
    TrustHistory(cache_dir_for(got.url, args.tuf_cache) / "history").record(got.trusted_root)
    print(f"trust for {got.url} is up to date: " + ", ".join(f"{k} v{v}" for k, v in got.versions.items()))
    print(f"  trusted_root.json ({len(got.trusted_root)} bytes), signing_config.v0.2.json "
          f"({len(got.signing_config)} bytes)")
    return 0
