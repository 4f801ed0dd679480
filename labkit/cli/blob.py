"""`labkit` commands: ``sign-blob`` and ``verify-blob``, with a key or keyless, as cosign spells them.

    labkit sign-blob --key cosign.key --bundle file.sigstore.json --tlog-upload=false FILE
    labkit sign-blob --key cosign.key --bundle file.sigstore.json --rekor-url http://127.0.0.1:PORT FILE
    labkit verify-blob --key cosign.pub --bundle file.sigstore.json --insecure-ignore-tlog FILE

Without ``--key`` both are keyless against the lab instance (``labkit init``):

    labkit sign-blob --identity alice@example.com --bundle file.sigstore.json FILE
    labkit verify-blob --bundle file.sigstore.json --certificate-identity alice@example.com \
        --certificate-oidc-issuer http://127.0.0.1/oidc FILE

Bundles are Sigstore bundle v0.3 JSON. As in cosign, a bundle without a
log entry only verifies with ``--insecure-ignore-tlog``.
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.verify.policy import Identity

__all__ = ["GoBoolAction", "parse_bool", "register"]


def parse_bool(value: str) -> bool:
    """Go-style boolean flag values (``--tlog-upload=false``)."""
    v = value.strip().lower()
    if v in ("1", "t", "true", "yes", "y", "on"):
        return True
    if v in ("0", "f", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {value!r}")


class GoBoolAction(argparse.Action):
    """A Go-style boolean flag: ``--flag``, ``--flag=true`` or ``--flag=false``.

    argparse's optional value would swallow the positional FILE after a bare
    ``--flag``; when the value is not a boolean it is kept as the file instead.
    """

    def __init__(self, option_strings: list[str], dest: str, *, nargs: str = "?", metavar: str = "BOOL",
                 default: bool | None = None, required: bool = False, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=nargs, metavar=metavar, default=default, required=required,
                         help=help)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
        values: str | Sequence[Any] | None, option_string: str | None = None,
    ) -> None:
        if values is None:
            setattr(namespace, self.dest, True)
            return
        try:
            setattr(namespace, self.dest, parse_bool(str(values)))
        except argparse.ArgumentTypeError:
            setattr(namespace, self.dest, True)
            namespace.spilled_file = str(values)


def _file_arg(args: argparse.Namespace) -> str:
    spilled = getattr(args, "spilled_file", None)
    if args.file and spilled:
        raise InputError(f"expected one file, got {spilled!r} and {args.file!r}")
    file = args.file or spilled
    if not file:
        raise InputError("missing the FILE argument")
    return str(file)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._options import add_signer_options, add_verifier_options
    from labkit.cli._output import add_force_option
    from labkit.cli._signing import add_signed_timestamps_option, add_signing_config_options
    from labkit.cli.keyless import add_instance_argument

    p = sub.add_parser("sign-blob", help="sign a file (with a key, or keyless) and write a Sigstore bundle")
    add_signer_options(p, "encrypted private key file (cosign.key); omit to sign keyless")
    add_instance_argument(p)
    from labkit.cli.tuf import add_cache_option

    add_cache_option(p)
    p.add_argument("--bundle", default=None, help="write the Sigstore bundle (v0.3 JSON) here")
    p.add_argument("--output-signature", default=None, help="also write the base64 signature here")
    add_force_option(p, "the --bundle and --output-signature files")
    p.add_argument(
        "--tlog-upload", action=GoBoolAction, default=True,
        help="upload to the transparency log (default true; --tlog-upload=false to skip)",
    )
    p.add_argument("--rekor-url", default=None, help="transparency log (Rekor v1 API) to upload to; loopback only")
    add_signing_config_options(p)
    p.add_argument("file", nargs="?", help="the file to sign ('-' for standard input)")
    p.set_defaults(handler=_sign_blob)

    q = sub.add_parser("verify-blob", help="verify a file against a Sigstore bundle (key, or identity and issuer)")
    add_verifier_options(q)
    add_instance_argument(q)
    add_cache_option(q)
    q.add_argument("--bundle", required=True, help="Sigstore bundle JSON")
    q.add_argument(
        "--insecure-ignore-tlog", action=GoBoolAction, default=False,
        help="accept a bundle without a transparency-log entry",
    )
    q.add_argument("--trusted-root", default=None,
                   help="Sigstore TrustedRoot JSON (default: the lab instance's for keyless, else public-good)")
    add_signed_timestamps_option(q)
    q.add_argument("file", nargs="?", help="the file that was signed ('-' for standard input)")
    q.set_defaults(handler=_verify_blob)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse the files sign-blob writes up front (before any log entry) if they exist without --force."""
    from labkit.cli._output import refuse_existing

    refuse_existing([p for p in (args.output_signature, args.bundle) if p], force=args.force)


def _write_outputs(args: argparse.Namespace, signature: bytes, bundle_json: str) -> None:
    from labkit.cli._output import write_output

    if args.output_signature:
        write_output(args.output_signature, signature, force=args.force)
        print(f"Signature wrote in the file {args.output_signature}", file=sys.stderr)
    if args.bundle:
        write_output(args.bundle, bundle_json.encode("utf-8"), force=args.force)
        print(f"Wrote bundle to file {args.bundle}", file=sys.stderr)


def _sign_blob(args: argparse.Namespace) -> int:
    from labkit.cli._keys import open_signer
    from labkit.cli._options import signer_choice
    from labkit.sign import sign_blob

    file = _file_arg(args)
    choice = signer_choice(args)
    _check_outputs(args)
    if choice.key is None:
        return _sign_blob_keyless(args, file)
    from labkit.cli._signing import signing_services

    services = signing_services(args, None, keyless=False)
    uploader = None
    if args.tlog_upload:
        uploader = services.uploader()  # the log the signing config selects, by its API version
        rekor_url = args.rekor_url
        if uploader is None and not rekor_url:
            raise InputError(
                "no transparency log is configured: pass --rekor-url URL, or --tlog-upload=false to skip the log",
                hint="Pass --rekor-url http://127.0.0.1:PORT (a `labkit` log server), "
                "or --tlog-upload=false to sign without a log entry (as with cosign).",
            )
        if uploader is None:
            from labkit.tlog.client import RekorClient

            uploader = RekorClient(rekor_url).uploader()
    key = open_signer(args.key)
    # "-" reads the artifact from standard input (held in memory), as cosign does.
    bundle = sign_blob(sys.stdin.buffer.read() if file == "-" else file, key, tlog=uploader,
                       timestampers=services.timestampers)
    ms = bundle.message_signature
    assert ms is not None
    sig_b64 = base64.b64encode(ms.signature).decode("ascii")
    _write_outputs(args, sig_b64.encode("ascii"), bundle.to_json())
    print(sig_b64)
    return 0


def _sign_blob_keyless(args: argparse.Namespace, file: str) -> int:
    """Keyless: ephemeral key, token from the instance's issuer, certificate, log entry, bundle."""
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_blob_keyless

    if not args.tlog_upload:
        raise InputError("keyless signing always uploads to the log: the certificate is only trusted through it")
    data = sys.stdin.buffer.read() if file == "-" else file
    from labkit.cli._signing import served_config, signing_services
    from labkit.cli.tuf import tuf_signing

    tuf = tuf_signing(args, "sign-blob")  # --instance URL: the services its TUF-delivered signing config names
    config = None if tuf is not None else served_config(args)
    if tuf is not None:
        from labkit.keyless.remote import sign_blob_with_config

        bundle = sign_blob_with_config(tuf.config, data, identity_token=tuf.identity_token,
                                       timestampers=tuf.timestampers)
    elif config is not None:
        # The signing config names served (loopback) services: sign through them, no instance needed.
        from labkit.keyless.remote import sign_blob_with_config

        if not args.identity_token:
            raise InputError("signing through a served CA needs --identity-token (mint one: labkit token ...)")
        services = signing_services(args, None, keyless=True)
        bundle = sign_blob_with_config(config, data, identity_token=args.identity_token,
                                       timestampers=services.timestampers)
    else:
        with Instance.open(args.instance) as instance:
            services = signing_services(args, instance, keyless=True)
            bundle = sign_blob_keyless(instance, data, identity=args.identity, identity_token=args.identity_token,
                                       timestampers=services.timestampers)
    ms = bundle.message_signature
    assert ms is not None
    _write_outputs(args, base64.b64encode(ms.signature), bundle.to_json())
    print(base64.b64encode(ms.signature).decode("ascii"))
    return 0


def _verify_blob_keyless(args: argparse.Namespace, file: str, policy: Identity) -> int:
    """Keyless: the certificate must chain to the trusted root and name the expected identity and issuer."""
    from labkit._internal.fsutil import read_bytes
    from labkit.cli.tuf import instance_trust
    from labkit.verify import Artifact, TrustedRoot, explain_bundle

    delivered = None if args.trusted_root else instance_trust(args)
    if args.trusted_root:
        root = TrustedRoot.from_json(read_bytes(args.trusted_root, "trusted root"))
    elif delivered is not None:  # --instance URL: the trusted root it delivered over TUF
        root = TrustedRoot.from_json(delivered.trusted_root)
    else:
        from labkit.keyless.instance import Instance

        with Instance.open(args.instance) as instance:
            root = TrustedRoot.from_json(instance.trusted_root_json())
    artifact = Artifact.from_bytes(sys.stdin.buffer.read()) if file == "-" else Artifact.from_path(file)
    result = explain_bundle(read_bytes(args.bundle, "bundle"), artifact, root, policy=policy,
                            signed_timestamps=args.signed_timestamps)
    if args.verbose:
        print(result.checklist(verbose=True), file=sys.stderr)
    result.raise_for_failure()
    print("Verified OK")
    return 0


def _load_verifying_key(path: str):  # type: ignore[no-untyped-def]
    from labkit.cli._keys import verifying_key

    return verifying_key(path)


def _verify_blob(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._options import verifier_choice
    from labkit.errors import VerificationError
    from labkit.hashing import digest_file
    from labkit.verify import Artifact, TrustedRoot, explain_bundle
    from labkit.verify.steps import StepStatus

    file = _file_arg(args)
    choice = verifier_choice(args)
    if choice.key is None:
        assert choice.identity is not None
        return _verify_blob_keyless(args, file, choice.identity)
    key = _load_verifying_key(choice.key)
    bundle = read_bytes(args.bundle, "bundle")
    artifact: Artifact
    if file == "-":
        artifact = Artifact.from_bytes(sys.stdin.buffer.read())
    elif key.algorithm.hash_name == "sha256" and key.algorithm.value != "ed25519":
        # ECDSA P-256 and RSA check the prehashed digest: stream the file, constant memory.
        artifact = Artifact(digest_file(file, "sha256").digest)
    else:
        artifact = Artifact.from_path(file)
    root = TrustedRoot.from_json(read_bytes(args.trusted_root, "trusted root")) if args.trusted_root else None
    result = explain_bundle(bundle, artifact, root, key=key, signed_timestamps=args.signed_timestamps)
    if args.verbose:
        print(result.checklist(verbose=True), file=sys.stderr)
    if result.verified:
        print("Verified OK")
        return 0
    failed = result.failed_step
    if (
        args.insecure_ignore_tlog
        and failed is not None
        and failed.reason_code == "tlog.missing"
        and all(s.status is StepStatus.PASSED for s in result.steps[: result.steps.index(failed)])
    ):
        print("WARNING: Skipping tlog verification is an insecure practice", file=sys.stderr)
        print("Verified OK")
        return 0
    if failed is not None and failed.reason_code == "tlog.missing":
        raise VerificationError(
            "bundle has no transparency-log entry (--insecure-ignore-tlog accepts that)",
            step="tlog.entries", reason="tlog.missing",
            hint="Pass --insecure-ignore-tlog=true to accept a bundle signed with --tlog-upload=false.",
        )
    result.raise_for_failure()
    return 1
