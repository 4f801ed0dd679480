"""`labkit verify-bundle`: the sigstore-conformance client protocol, offline.

    labkit verify-bundle --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL \
        [--trusted-root FILE] FILE_OR_DIGEST
    labkit verify-bundle --bundle FILE --key KEY [--trusted-root FILE] FILE_OR_DIGEST

Exit 0 only when the bundle verifies; 1 otherwise. The checklist goes to
stdout, one line per step. Without ``--trusted-root`` the pinned Sigstore
public-good trusted root shipped with labkit is used (no network). This
module imports nothing heavy at import time.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

__all__ = ["register", "resolve_artifact"]

_DIGEST = re.compile(r"^sha256:[0-9a-fA-F]{64}$")


def resolve_artifact(value: str) -> object:
    """A path, unless the value is ``sha256:<64 hex>`` and names no existing file (conformance protocol)."""
    from pathlib import Path

    from labkit.verify.verifier import Artifact

    if _DIGEST.match(value) and not os.path.exists(value):
        return Artifact.from_digest(value.lower())
    return Path(value)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._options import add_verifier_options
    from labkit.cli._signing import add_signed_timestamps_option

    p = sub.add_parser(
        "verify-bundle",
        help="verify a Sigstore bundle offline, step by step (sigstore-conformance protocol)",
        description="Verify a Sigstore bundle (v0.1-v0.3) against a trusted root, offline. Exit 0 only when verified.",
    )
    p.add_argument("--bundle", required=True, help="the bundle (.sigstore.json)")
    add_verifier_options(p, "managed public key (PEM) instead of an identity")
    p.add_argument("--trusted-root", default=None, help="trusted_root.json (default: pinned Sigstore public-good root)")
    p.add_argument("--instance", default=None, metavar="URL",
                   help="use the trusted root this TUF repository URL delivers (labkit trust update first)")
    from labkit.cli.tuf import add_cache_option

    add_cache_option(p)
    p.add_argument("--staging", action="store_true", help="Sigstore staging: needs --trusted-root (no network)")
    p.add_argument("--predicate-type", default=None,
                   help="gh: the DSSE in-toto statement must have this predicateType (checked after verification)")
    p.add_argument("--json", action="store_true", help="print the steps as JSON lines instead of a checklist")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the verdict")
    p.add_argument("--witness-policy", default=None, metavar="FILE",
                   help="also require a quorum of witness cosignatures on the checkpoint (C2SP tlog-policy file)")
    add_signed_timestamps_option(p)
    p.add_argument("file_or_digest", metavar="FILE_OR_DIGEST", help="the artifact, or sha256:<hex> of it")
    p.set_defaults(handler=_verify_bundle)


def _key_bytes(ref: str) -> bytes:
    """The ``--key`` file's bytes, or the PEM public key of a pkcs11: / KMS key URI."""
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._keys import verifying_key
    from labkit.signers import is_key_uri

    return verifying_key(ref).pem() if is_key_uri(ref) else read_bytes(ref, "key")


def _tuf_root(args: argparse.Namespace) -> bytes | None:
    """The trusted root ``--instance URL`` delivered over TUF (None without --instance)."""
    from labkit.cli.tuf import instance_trust
    from labkit.errors import InputError

    if args.instance is None:
        return None
    delivered = instance_trust(args)
    if delivered is None:
        raise InputError("verify-bundle --instance takes a TUF repository URL (http://127.0.0.1:PORT or file://DIR)")
    return delivered.trusted_root


def _explain_stale_root(bundle: bytes, root: bytes) -> None:
    """Name the cause and the fix when the trusted root is older than the bundle (labkit.tuf.timemachine)."""
    from labkit.errors import LabkitError
    from labkit.tuf.timemachine import stale_root_cause
    from labkit.verify.trustroot import TrustedRoot

    try:
        cause = stale_root_cause(bundle, TrustedRoot.from_json(root))
    except LabkitError:
        return
    if cause:
        print(f"hint: {cause}", file=sys.stderr)


def _verify_bundle(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._options import verifier_choice
    from labkit.errors import InputError
    from labkit.verify.verifier import explain_bundle

    if args.staging and not args.trusted_root:
        raise InputError(
            "--staging needs --trusted-root: labkit ships only the public-good production root and never fetches one"
        )
    choice = verifier_choice(args)
    policy = choice.identity
    key = _key_bytes(choice.key) if choice.key is not None else None
    bundle = read_bytes(args.bundle, "bundle")
    root = read_bytes(args.trusted_root, "trusted root") if args.trusted_root else _tuf_root(args)
    artifact = resolve_artifact(args.file_or_digest)
    result = explain_bundle(bundle, artifact, root, policy, key,  # type: ignore[arg-type]
                            signed_timestamps=args.signed_timestamps)
    if args.witness_policy:  # the witness quorum option: steps appended after the bundle's own (labkit.witness)
        from labkit.witness.bundle import require_witness_quorum
        from labkit.witness.policy import read_policy

        require_witness_quorum(result, bundle, read_policy(args.witness_policy))
    if args.predicate_type is not None and result.verified:
        from labkit.analyst.inspect import check_predicate_type

        check_predicate_type(result, bundle, args.predicate_type)
    out = sys.stdout
    if args.json:
        import json

        for s in result.steps:
            out.write(json.dumps({
                "id": s.id, "status": s.status.value, "title": s.title, "spec": s.spec, "detail": s.detail,
                "expected": s.expected, "actual": s.actual, "reason": s.reason,
            }, sort_keys=True) + "\n")
        out.write(json.dumps({"verified": result.verified, "reason": result.reason}, sort_keys=True) + "\n")
    elif args.quiet:
        out.write(("VERIFIED" if result.verified else f"REJECTED ({result.reason})") + "\n")
    else:
        out.write(result.checklist(verbose=args.verbose) + "\n")
    if not result.verified:
        step = result.failed_step
        detail = f": {step.detail}" if step is not None and step.detail else ""
        print(f"error: verification failed at {result.reason}{detail}", file=sys.stderr)
        if root is not None and result.reason == "tlog.unknown_log":
            _explain_stale_root(bundle, root)
        return 1
    return 0
