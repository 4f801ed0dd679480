"""`labkit` commands for container images, spelled as cosign users know them.

    labkit image build --layout DIR --tag v1 --file app.py:/app/app.py
    labkit image copy oci:DIR:v1 127.0.0.1:5000/labkit/demo:v1
    labkit sign --key cosign.key --tlog-upload=false 127.0.0.1:5000/labkit/demo@sha256:...
    labkit sign --identity alice@example.com --instance .labkit oci:DIR:v1        (keyless, lab instance)
    labkit verify --key cosign.pub --insecure-ignore-tlog 127.0.0.1:5000/labkit/demo:v1
    labkit sign --key cosign.key --tlog-dir ./log --new-bundle-format 127.0.0.1:5000/labkit/demo@sha256:...
    labkit log trusted-root --dir ./log -o log_root.json
    labkit verify --key cosign.pub --trusted-root log_root.json --check-docker-reference \
        --require-bundle-format 127.0.0.1:5000/labkit/demo:v1
    labkit triangulate 127.0.0.1:5000/labkit/demo:v1
    labkit tree oci:DIR:v1

IMAGE is ``oci:DIR:tag`` / ``oci:DIR@sha256:...`` (an OCI layout directory)
or ``HOST:PORT/repo:tag`` / ``...@sha256:...`` (a loopback registry).
A tag is resolved to a digest once; the digest is what gets signed and
verified. Signing by tag prints cosign's warning.

``verify --key`` checks each signature's transparency-log entry (its SET,
bound to the signature, key and payload) against ``--trusted-root`` or the
``--instance``'s root; ``--insecure-ignore-tlog`` skips that.
``--check-docker-reference`` (or ``--docker-reference REF``) and
``--require-bundle-format`` are labkit's fixes for cross-repository replay and
the downgrade to the legacy ``.sig``; cosign has neither.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.cli.blob import GoBoolAction
from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.keyless.instance import Instance
    from labkit.keys import VerifyingKey
    from labkit.oci.descriptor import Descriptor
    from labkit.oci.digest import Digest
    from labkit.oci.reference import Reference
    from labkit.oci.signatures import Store
    from labkit.verify.legacy import ProofSource
    from labkit.verify.policy import IdentityPolicy
    from labkit.verify.trustroot import TrustedRoot

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._options import add_signer_options, add_verifier_options
    from labkit.cli._output import add_force_option
    from labkit.cli._signing import add_signing_config_options
    from labkit.cli.keyless import add_instance_argument
    from labkit.cli.tuf import add_cache_option

    p = sub.add_parser("sign", help="sign a container image (cosign .sig storage; optionally a bundle referrer)")
    add_signer_options(p)
    add_instance_argument(p)
    p.add_argument("-a", "--annotations", action="append", default=[], metavar="KEY=VALUE",
                   help="extra key=value pairs signed in the payload's 'optional' section")
    p.add_argument("--new-bundle-format", action=GoBoolAction, default=False,
                   help="also store a Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3)")
    p.add_argument("--tlog-upload", action=GoBoolAction, default=True,
                   help="upload to the transparency log (default true; --tlog-upload=false to skip)")
    p.add_argument("--tlog-dir", default=None, help="local transparency-log directory to upload to (labkit log)")
    p.add_argument("--rekor-url", default=None,
                   help="a running log (labkit log serve, Rekor v1 API) to upload to; loopback only")
    p.add_argument("--tlog-seed", default=None,
                   help="LAB: the public seed that log's key was made with (default: the log's own key file)")
    p.add_argument("--sign-container-identity", default=None,
                   help="docker-reference to put in the payload (default: the repository)")
    add_signing_config_options(p)
    p.add_argument("image", metavar="IMAGE", nargs="?")
    p.set_defaults(handler=_sign)

    v = sub.add_parser("verify", help="verify the signatures of a container image (key, or identity and issuer)")
    add_verifier_options(v)
    v.add_argument("--trusted-root", default=None, metavar="FILE",
                   help="Sigstore TrustedRoot JSON. Keyless: the CA and logs (default: the lab instance's). "
                   "With --key: the logs whose signed entry timestamp (SET) every signature must carry "
                   "(for a --tlog-dir log: labkit log trusted-root --dir DIR)")
    add_instance_argument(v)
    add_cache_option(v)
    v.add_argument("-a", "--annotations", action="append", default=[], metavar="KEY=VALUE",
                   help="require these annotations in the signed payload")
    v.add_argument("--insecure-ignore-tlog", action=GoBoolAction, default=False,
                   help="with --key and no --trusted-root/--instance: accept signatures without checking a "
                   "transparency-log entry")
    v.add_argument("--check-docker-reference", action=GoBoolAction, default=False,
                   help="require the signed docker-reference (bundle: subject name) to be the repository "
                   "verified; stops a .sig copied into another repository from verifying there (cosign ignores "
                   "it). Cost: mirrors and copies in other repositories must be re-signed, or verified with "
                   "--docker-reference naming the signed repository")
    v.add_argument("--docker-reference", default=None, metavar="REF",
                   help="the docker-reference signatures must name (implies --check-docker-reference; default: "
                   "the repository verified, as labkit sign writes it)")
    v.add_argument("--require-bundle-format", action=GoBoolAction, default=False,
                   help="only Sigstore bundle referrers (OCI 1.1, cosign v3) count; none is a failure "
                   "(format.no_bundle), never a fallback to the legacy .sig (stops the downgrade attack)")
    v.add_argument("--steps", action="store_true", help="print every check step")
    v.add_argument("image", metavar="IMAGE", nargs="?")
    v.set_defaults(handler=_verify)

    t = sub.add_parser("triangulate", help="print where the signatures (or attestations) of an image are stored")
    t.add_argument("--type", default="signature", choices=("signature", "attestation", "sbom", "digest"),
                   help="which related artifact (default: signature)")
    t.add_argument("image", metavar="IMAGE")
    t.set_defaults(handler=_triangulate)

    r = sub.add_parser("tree", help="show the supply-chain artifacts stored for an image")
    r.add_argument("--svg", default=None, metavar="FILE", help="also write the image graph as SVG")
    add_force_option(r, "the --svg file")
    r.add_argument("image", metavar="IMAGE")
    r.set_defaults(handler=_tree)

    i = sub.add_parser("image", help="build and copy lab images (OCI layout and registry)")
    isub = i.add_subparsers(dest="image_command", metavar="COMMAND")
    b = isub.add_parser("build", help="build a small reproducible image into an OCI layout")
    b.add_argument("--layout", required=True, help="OCI layout directory (created if missing)")
    b.add_argument("--tag", required=True, help="tag to give the image")
    b.add_argument("--file", action="append", default=[], metavar="SRC[:DEST]",
                   help="add a file (at DEST inside the image, default its name)")
    b.add_argument("--dir", default=None, help="add every file under this directory")
    b.add_argument("--spec", default=None, help="JSON or YAML image spec: {tag, files|layers, config, annotations}")
    b.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="config Env entry")
    b.add_argument("--cmd", default=None, help="config Cmd as a JSON list")
    b.set_defaults(handler=_image_build)
    c = isub.add_parser("copy", help="copy an image between layouts and registries, digests unchanged")
    c.add_argument("src", metavar="SRC")
    c.add_argument("dst", metavar="DST")
    c.set_defaults(handler=_image_copy)
    i.set_defaults(handler=lambda args: (i.print_help(), 2)[1])


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{what} must be KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _image_arg(args: argparse.Namespace) -> str:
    """IMAGE, also when a bare Go-style boolean flag swallowed it."""
    spilled = getattr(args, "spilled_file", None)
    if args.image and spilled:
        raise InputError(f"expected one IMAGE, got {spilled!r} and {args.image!r}")
    image = args.image or spilled
    if not image:
        raise InputError("missing the IMAGE argument")
    return str(image)


def _layout_identity(path: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", Path(path).resolve().name.lower()).strip("-") or "image"
    return f"localhost/{name}"


def _sign(args: argparse.Namespace) -> int:
    from labkit.cli._keys import open_signer
    from labkit.cli._options import signer_choice
    from labkit.oci.reference import LayoutReference
    from labkit.oci.signatures import resolve_for_signing, sign_image, signature_tag
    from labkit.oci.store import open_store

    if signer_choice(args).key is None:
        return _sign_keyless(args)
    from labkit.cli._signing import signing_services

    services = signing_services(args, None, keyless=False)
    rekor2 = False
    if services.tlog_urls and not args.tlog_dir:
        args.rekor_url = services.tlog_urls[0]
        rekor2 = services.tlog_services[0].major_api_version == 2
        if rekor2 and not args.new_bundle_format:
            raise InputError("the signing config selects a Rekor v2 log, whose entries have no SET for the legacy "
                             ".sig signature: add --new-bundle-format")
    if args.tlog_upload and not (args.tlog_dir or args.rekor_url):
        raise InputError(
            "no transparency log is configured for image signing; pass --tlog-dir DIR, --rekor-url URL"
            " or --tlog-upload=false",
            hint="Pass --tlog-dir with a labkit log directory or --rekor-url with a running `labkit log serve`, "
            "or --tlog-upload=false to sign without a log entry.",
        )
    if args.tlog_dir and args.rekor_url:
        raise InputError("pass one log: --tlog-dir or --rekor-url, not both")
    annotations = _pairs(args.annotations, "-a")
    store, ref = open_store(_image_arg(args))
    key = open_signer(args.key)
    desc, warning = resolve_for_signing(store, ref)
    if warning:
        print(warning, file=sys.stderr)
    identity = args.sign_container_identity or (
        _layout_identity(ref.path) if isinstance(ref, LayoutReference) else ref.name
    )
    log: Any = None
    if args.tlog_upload and rekor2:
        from labkit.tlog.uploaders import Rekor2ImageLog

        log = Rekor2ImageLog(args.rekor_url)  # hashedrekord 0.0.2 for both; time from the TSA's timestamp
    elif args.tlog_upload and args.rekor_url:
        from labkit.tlog.client import RekorClient

        log = RekorClient(args.rekor_url)  # same upload calls as a local log, over the Rekor v1 API
    elif args.tlog_upload:
        from labkit.lab import Lab, SystemClock
        from labkit.tlog.store import TransparencyLog

        lab = Lab(seed=args.tlog_seed, clock=SystemClock()) if args.tlog_seed is not None else None
        log = TransparencyLog.open(args.tlog_dir, lab=lab)
    try:
        result = sign_image(store, desc, key, docker_reference=identity, annotations=annotations,
                            new_bundle_format=args.new_bundle_format, tlog=log,
                            timestampers=services.timestampers)
        if log is not None and rekor2 and result.bundle is not None:
            for entry in result.bundle.verification_material.tlog_entries:
                print(f"tlog entry created with index: {entry.log_index}", file=sys.stderr)
        elif log is not None:
            rekor = result.layer.annotations.get("dev.sigstore.cosign/bundle", "{}")
            index = json.loads(rekor).get("Payload", {}).get("logIndex")
            print(f"tlog entry created with index: {index}", file=sys.stderr)
    finally:
        if log is not None and hasattr(log, "close"):
            log.close()
    print(f"Pushing signature to: {ref.name}:{signature_tag(desc.digest)}", file=sys.stderr)
    if result.bundle_referrer is not None:
        print(f"Pushing bundle referrer: {ref.name}@{result.bundle_referrer.digest}", file=sys.stderr)
    print(f"{ref.name}@{desc.digest}")
    return 0


def _sign_keyless(args: argparse.Namespace) -> int:
    """Keyless: ephemeral key, certificate from the lab instance's CA, entry in its log."""
    from labkit.cli.tuf import is_tuf_url, tuf_signing
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_image_keyless
    from labkit.oci.reference import LayoutReference
    from labkit.oci.signatures import resolve_for_signing, signature_tag
    from labkit.oci.store import open_store

    if not args.tlog_upload:
        raise InputError("keyless signing always uploads to the log: the certificate is only trusted through it")
    if args.signing_config and not args.new_bundle_format:
        raise InputError("a signing config's timestamps go into the Sigstore bundle: add --new-bundle-format",
                         hint="cosign's legacy .sig signature has no room for a timestamp.")
    if is_tuf_url(args.instance) and not args.new_bundle_format:
        raise InputError("sign --instance URL signs through the signing config it delivers, whose timestamps go "
                         "into the Sigstore bundle: add --new-bundle-format",
                         hint="cosign's legacy .sig signature has no room for a timestamp.")
    tuf = tuf_signing(args, "sign")
    store, ref = open_store(_image_arg(args))
    desc, warning = resolve_for_signing(store, ref)
    if warning:
        print(warning, file=sys.stderr)
    identity = args.sign_container_identity or (
        _layout_identity(ref.path) if isinstance(ref, LayoutReference) else ref.name
    )
    if tuf is not None:  # --instance URL: cosign v3's bundle referrer through the delivered signing config
        from labkit.keyless.remote_attest import sign_image_with_config

        result = sign_image_with_config(tuf.config, store, desc, docker_reference=identity,
                                        identity_token=tuf.identity_token, annotations=_pairs(args.annotations, "-a"),
                                        timestampers=tuf.timestampers)
        return _print_bundle_signed(result, ref, desc)
    with Instance.open(args.instance) as instance:
        if args.new_bundle_format:
            return _sign_keyless_bundle(args, instance, store, ref, desc, identity)
        sign_image_keyless(instance, store, desc, docker_reference=identity, identity=args.identity,
                           identity_token=args.identity_token, annotations=_pairs(args.annotations, "-a"))
    print(f"Pushing signature to: {ref.name}:{signature_tag(desc.digest)}", file=sys.stderr)
    print(f"{ref.name}@{desc.digest}")
    return 0


def _sign_keyless_bundle(args: argparse.Namespace, instance: Instance, store: Store, ref: Reference,
                         desc: Descriptor, identity: str) -> int:
    """Keyless ``--new-bundle-format``: cosign v3's bundle referrer (DSSE sign/v1 statement), logged in the
    instance's log (Rekor v1 or v2) and timestamped by the TSAs the signing config selects."""
    from labkit.attest.attest import COSIGN_SIGN_PREDICATE, attest_image, keyless_signer
    from labkit.cli._signing import signing_services

    services = signing_services(args, instance, keyless=True)
    signer = keyless_signer(instance, identity=args.identity, identity_token=args.identity_token)
    result = attest_image(store, desc, COSIGN_SIGN_PREDICATE, {}, signer, docker_reference=identity,
                          instance=instance, legacy_att=False, annotations=_pairs(args.annotations, "-a"),
                          timestampers=services.timestampers)
    return _print_bundle_signed(result, ref, desc)


def _print_bundle_signed(result: Any, ref: Any, desc: Any) -> int:
    for entry in result.bundle.verification_material.tlog_entries:
        print(f"tlog entry created with index: {entry.log_index}", file=sys.stderr)
    print(f"Pushing bundle referrer: {ref.name}@{result.referrer.digest}", file=sys.stderr)
    print(f"{ref.name}@{desc.digest}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._options import verifier_choice
    from labkit.cli.blob import _load_verifying_key
    from labkit.oci.store import open_store

    choice = verifier_choice(args)
    if choice.key is None:
        return _verify_keyless(args, choice.identity)
    root: Any = None
    if args.trusted_root or args.instance:
        from labkit.verify.trustroot import TrustedRoot

        if args.trusted_root:
            root = TrustedRoot.from_json(read_bytes(args.trusted_root, "trusted root"), source=args.trusted_root)
        else:  # --instance DIR, or --instance URL: the trusted root it delivered over TUF
            from labkit.cli.tuf import instance_root_json

            root = TrustedRoot.from_json(instance_root_json(args))
    elif args.insecure_ignore_tlog:
        print("WARNING: Skipping tlog verification is an insecure practice", file=sys.stderr)
    else:
        raise InputError(
            "no trusted root to check the signatures' transparency-log entries (SET) against; pass "
            "--trusted-root FILE (for a --tlog-dir log: labkit log trusted-root --dir DIR -o FILE) or --instance DIR, "
            "or --insecure-ignore-tlog=true to verify against the key alone",
            hint="Pass --trusted-root FILE (for a --tlog-dir log: labkit log trusted-root --dir DIR -o FILE) "
            "or --instance DIR; or --insecure-ignore-tlog=true to verify against the key alone.",
        )
    key = _load_verifying_key(choice.key)
    store, ref = open_store(_image_arg(args))
    desc = store.resolve(ref.ref)
    return _report(args, store, ref, desc.digest, key=key, trusted_root=root)


def _verify_keyless(args: argparse.Namespace, policy: IdentityPolicy | None) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.cli.tuf import instance_root_json, is_tuf_url
    from labkit.keyless.instance import Instance
    from labkit.oci.store import open_store
    from labkit.verify.trustroot import TrustedRoot

    store, ref = open_store(_image_arg(args))
    desc = store.resolve(ref.ref)
    if not args.trusted_root and is_tuf_url(args.instance):  # the trusted root the URL delivered over TUF
        root = TrustedRoot.from_json(instance_root_json(args))
        return _report(args, store, ref, desc.digest, trusted_root=root, identity=policy)
    with Instance.open(args.instance) as instance:
        if args.trusted_root:
            root = TrustedRoot.from_json(read_bytes(args.trusted_root, "trusted root"))
        else:
            root = TrustedRoot.from_json(instance.trusted_root_json())
        return _report(args, store, ref, desc.digest, trusted_root=root, identity=policy, tlog=instance.tlog)


def _report(args: argparse.Namespace, store: Store, ref: Reference, digest: Digest, *,
            key: VerifyingKey | None = None, trusted_root: TrustedRoot | None = None,
            identity: IdentityPolicy | None = None, tlog: ProofSource | None = None) -> int:
    from labkit.oci.reference import LayoutReference
    from labkit.oci.signatures import list_bundles, list_signatures
    from labkit.verify.image import explain_image_signatures, verify_image

    required = _pairs(args.annotations, "-a")
    docker_reference = args.docker_reference
    if docker_reference is None and args.check_docker_reference:
        # What labkit sign puts in the payload by default.
        docker_reference = _layout_identity(ref.path) if isinstance(ref, LayoutReference) else ref.name
    kw: dict[str, Any] = {"annotations": required, "trusted_root": trusted_root, "identity": identity, "tlog": tlog,
                          "docker_reference": docker_reference, "require_bundle_format": args.require_bundle_format}
    desc_digest = digest
    if args.steps or args.verbose:
        report = explain_image_signatures(store, desc_digest, key, **kw)
        for row in report.rows():
            sig = f"[{row['signature']}] " if row["signature"] else ""
            failed = row["status"].startswith("fail")
            print(f"{row['status']:>7}  {sig}{row['step']}: {row['check']}"
                  + (f" (expected {row['expected']}, got {row['actual']})" if failed else ""))
            if failed and args.verbose and row.get("spec"):
                print(f"         spec: {row['spec']}")
    report = verify_image(store, desc_digest, key, **kw)
    print(f"\nVerification for {ref.name}@{desc_digest} --", file=sys.stderr)
    print("The following checks were performed on each of these signatures:", file=sys.stderr)
    print("  - The cosign claims were validated", file=sys.stderr)
    if docker_reference is not None:
        print(f"  - The signed docker-reference was checked to be {docker_reference}", file=sys.stderr)
    if args.require_bundle_format:
        print("  - Only Sigstore bundle referrers were considered (no fallback to the legacy .sig)", file=sys.stderr)
    if key is not None:
        if trusted_root is not None:
            print("  - Existence of the claims in the transparency log was verified offline", file=sys.stderr)
        print("  - The signatures were verified against the specified public key", file=sys.stderr)
    else:
        print("  - Existence of the claims in the transparency log was verified offline", file=sys.stderr)
        print("  - The code-signing certificate was verified using trusted certificate authority certificates",
              file=sys.stderr)
    good = {s.subject for s in report.verified_signatures}
    out: list[Any] = []
    if args.require_bundle_format:
        # The new format signs an in-toto statement; print the verified ones.
        for bref, data in list_bundles(store, desc_digest):
            if f"bundle {bref.digest.short()}" in good:
                envelope = json.loads(data).get("dsseEnvelope", {})
                out.append(json.loads(base64.b64decode(envelope.get("payload", ""))))
    else:
        for i, layer in enumerate(list_signatures(store, desc_digest)):
            if any(w.startswith(f"sig[{i}] ") for w in good):
                out.append(json.loads(layer.payload))
    print(json.dumps(out, separators=(",", ":")))
    return 0


def _triangulate(args: argparse.Namespace) -> int:
    from labkit.oci.reference import LayoutReference
    from labkit.oci.signatures import signature_tag
    from labkit.oci.store import open_store

    store, ref = open_store(args.image)
    desc = store.resolve(ref.ref if not isinstance(ref, LayoutReference) else ref.ref)
    if args.type == "digest":
        print(f"{ref.name}@{desc.digest}")
        return 0
    suffix = {"signature": "sig", "attestation": "att", "sbom": "sbom"}[args.type]
    print(f"{ref.name}:{signature_tag(desc.digest, suffix)}")
    return 0


def _tree(args: argparse.Namespace) -> int:
    from labkit.cli._output import refuse_existing, write_output
    from labkit.display.oci import image_graph
    from labkit.oci.descriptor import NotFoundError, parse_manifest
    from labkit.oci.signatures import BUNDLE_ARTIFACT_TYPE, signature_tag
    from labkit.oci.store import open_store

    if args.svg:
        refuse_existing([args.svg], force=args.force)
    store, ref = open_store(args.image)
    desc = store.resolve(ref.ref)
    print(f"📦 Supply Chain Security Related artifacts for an image: {ref}")
    found = False
    for suffix, title in (("sig", "🔐 Signatures"), ("att", "💾 Attestations"), ("sbom", "📦 SBOMs")):
        tag = signature_tag(desc.digest, suffix)
        try:
            data, _ = store.get_manifest(tag)
        except NotFoundError:
            continue
        found = True
        print(f"└── {title} for an image tag: {ref.name}:{tag}")
        for layer in parse_manifest(data).layers:
            print(f"   └── 🍒 {layer.digest}")
    referrers = store.referrers(desc.digest)
    if referrers:
        found = True
        print(f"└── 🔗 Referrers of {ref.name}@{desc.digest}")
        for r in referrers:
            kind = "Sigstore bundle" if r.artifact_type == BUNDLE_ARTIFACT_TYPE else (r.artifact_type or "artifact")
            print(f"   └── 🍒 {r.digest} ({kind})")
    if not found:
        print(f"No Supply Chain Security Related Artifacts found for image {ref}")
    if args.svg:
        write_output(args.svg, image_graph(store, desc.digest).to_svg().encode(), force=args.force)
    return 0


def _image_build(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.oci.builder import build_from_dict, build_image, files_from_directory
    from labkit.oci.layout import OCILayout

    files: dict[str, bytes | str] = {}
    if args.dir:
        files.update(files_from_directory(args.dir))
    for item in args.file:
        src, sep, dest = item.partition(":")
        data = read_bytes(src, "file")
        files[(dest if sep else Path(src).name).lstrip("/")] = data
    config: dict[str, Any] = {}
    if args.env:
        config["Env"] = [f"{k}={v}" for k, v in _pairs(args.env, "--env").items()]
    if args.cmd:
        from labkit._internal import jsonio

        cmd = jsonio.loads(args.cmd, what="--cmd (a JSON list of strings)")
        if not isinstance(cmd, list) or not all(isinstance(x, str) for x in cmd):
            raise InputError("--cmd must be a JSON list of strings")
        config["Cmd"] = cmd
    store = OCILayout.init(args.layout)
    if args.spec:
        from labkit.cli._documents import read_json_or_yaml

        spec = read_json_or_yaml(args.spec, "image spec")
        if not isinstance(spec, dict):
            raise InputError("image spec must be a mapping")
        spec = dict(spec, tag=args.tag)
        built = build_from_dict(store, spec)
    else:
        if not files:
            raise InputError("nothing to build: give --file, --dir or --spec")
        built = build_image(store, files, config=config, tag=args.tag)
    print(f"oci:{args.layout}@{built.digest}")
    return 0


def _image_copy(args: argparse.Namespace) -> int:
    from labkit.oci.reference import LayoutReference, parse_reference
    from labkit.oci.store import copy_image, open_destination, open_store

    src, sref = open_store(args.src)
    dref = parse_reference(args.dst)
    tag = dref.tag
    if dref.digest is not None:
        raise InputError("the destination takes a tag, not a digest")
    if tag is None and not isinstance(dref, LayoutReference):
        tag = "latest"
    with open_destination(dref) as (dst, _):  # a failed copy leaves no layout it created behind
        desc = copy_image(src, sref.ref, dst, tag=tag)
    print(f"{dref.name}@{desc.digest}")
    return 0
