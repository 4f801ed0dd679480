"""`labkit` commands for attestations, spelled as cosign users know them.

    labkit attest --type slsaprovenance1 --predicate prov.json --key cosign.key IMAGE
    labkit attest --type cyclonedx --predicate sbom.json --identity alice@lab.test IMAGE
    labkit verify-attestation --type cyclonedx --key cosign.pub IMAGE
    labkit verify-attestation --type cyclonedx --certificate-identity alice@lab.test \\
        --certificate-oidc-issuer https://oidc.labkit.invalid IMAGE
    labkit attest-blob --type custom --predicate notes.txt --key cosign.key --bundle out.json FILE
    labkit verify-blob-attestation --type custom --bundle out.json --key cosign.pub FILE
    labkit predicate-types

Attestations are logged in the lab instance's transparency log
(``--instance DIR``, default ``$LABKIT_HOME`` or ``./.labkit``) and verified
against its trusted root (or ``--trusted-root FILE``). With ``--instance URL``
(a TUF repository, `labkit serve`'s ``tuf:`` line) attest and attest-blob sign
keyless (``--identity-token``) through the signing config it delivered and the
verify commands use the trusted root it delivered. IMAGE is
``oci:DIR:tag`` or a loopback registry reference, as for ``labkit sign``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.attest.attest import Signer
    from labkit.checks import CheckResult
    from labkit.cli._signing import SigningServices
    from labkit.cli.tuf import TufSigning
    from labkit.keyless.instance import Instance

__all__ = ["register"]


def _signer_args(p: argparse.ArgumentParser) -> None:
    from labkit.cli._options import add_signer_options
    from labkit.cli._signing import add_signing_config_options
    from labkit.cli.keyless import add_instance_argument

    p.add_argument("--type", required=True, help="predicate type: a name (slsaprovenance1, cyclonedx, spdx, "
                   "spdxjson, vuln, custom, or a registered one) or a URI")
    p.add_argument("--predicate", required=True, metavar="FILE", help="the predicate file")
    add_signer_options(p, "encrypted private key file (cosign.key; COSIGN_PASSWORD)")
    add_instance_argument(p)
    add_signing_config_options(p)


def _verifier_args(p: argparse.ArgumentParser) -> None:
    from labkit.cli._options import add_verifier_options
    from labkit.cli.keyless import add_instance_argument
    from labkit.cli.tuf import add_cache_option

    p.add_argument("--type", required=True, help="the predicate type that must be attested (name or URI)")
    add_verifier_options(p, "public key (cosign.pub)")
    p.add_argument("--trusted-root", default=None, metavar="FILE", help="TrustedRoot JSON (default: the instance's)")
    p.add_argument("--steps", action="store_true", help="print every check step")
    add_instance_argument(p)
    add_cache_option(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._output import add_force_option

    p = sub.add_parser(
        "attest", help="attest an image: in-toto statement in DSSE, logged, stored as a referrer and .att"
    )
    _signer_args(p)
    p.add_argument("-a", "--annotations", action="append", default=[], metavar="KEY=VALUE",
                   help="key=value pairs signed as the statement subject's annotations")
    p.add_argument("image", metavar="IMAGE")
    p.set_defaults(handler=_attest)

    v = sub.add_parser("verify-attestation", help="verify that an image has a valid attestation of --type")
    _verifier_args(v)
    v.add_argument("-a", "--annotations", action="append", default=[], metavar="KEY=VALUE",
                   help="require these annotations in the signed statement's subject (cosign ignores them here)")
    v.add_argument("image", metavar="IMAGE")
    v.set_defaults(handler=_verify_attestation)

    b = sub.add_parser("attest-blob", help="attest a file into a Sigstore bundle (DSSE in-toto statement)")
    _signer_args(b)
    b.add_argument("--bundle", required=True, metavar="FILE", help="where to write the bundle")
    add_force_option(b, "the --bundle file")
    b.add_argument("file", metavar="FILE")
    b.set_defaults(handler=_attest_blob)

    w = sub.add_parser("verify-blob-attestation", help="verify a blob attestation bundle of --type")
    _verifier_args(w)
    w.add_argument("--bundle", required=True, metavar="FILE", help="the attestation bundle")
    w.add_argument("file", metavar="FILE")
    w.set_defaults(handler=_verify_blob_attestation)

    t = sub.add_parser("predicate-types", help="list the predicate types labkit knows (built-in and registered)")
    t.set_defaults(handler=_types)


def _instance(args: argparse.Namespace) -> Instance:
    from labkit.keyless.instance import Instance

    return Instance.open(args.instance)


def _tuf_signing(args: argparse.Namespace) -> TufSigning | None:
    """``--instance URL``: sign through the signing config it delivered over TUF (None for a directory)."""
    from labkit.cli.tuf import tuf_signing

    return tuf_signing(args, args.command)


def _signer(args: argparse.Namespace, inst: Instance) -> Signer:
    from labkit.attest import key_signer, keyless_signer
    from labkit.cli._options import signer_choice

    choice = signer_choice(args)
    if choice.key is not None:
        from labkit.cli._keys import open_signer

        return key_signer(open_signer(choice.key))
    return keyless_signer(inst, identity=choice.identity, identity_token=choice.identity_token)


def _services(args: argparse.Namespace, inst: Instance) -> SigningServices:
    """The TSAs (and trusted root) of ``--signing-config``/``--trusted-root``; keyless: the instance's own."""
    from labkit.cli._signing import signing_services

    return signing_services(args, inst, keyless=args.key is None)


def _verification(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(trusted root, key, identity policy) from the verifier flags."""
    from labkit._internal.fsutil import read_bytes
    from labkit.cli._options import verifier_choice
    from labkit.cli.tuf import instance_root_json

    choice = verifier_choice(args)
    key = None
    if choice.key is not None:
        from labkit.cli.blob import _load_verifying_key

        key = _load_verifying_key(choice.key)
    identity = choice.identity
    root = read_bytes(args.trusted_root, "trusted root") if args.trusted_root else instance_root_json(args)
    return root, key, identity


def _print_result(result: CheckResult, steps: bool, verbose: bool = False) -> None:
    if steps or verbose or not result.verified:
        print(result.checklist(verbose=verbose), file=sys.stderr)


def _attest(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.attest import attest_image, make_predicate
    from labkit.cli.oci import _layout_identity, _pairs
    from labkit.oci.reference import LayoutReference
    from labkit.oci.signatures import resolve_for_signing
    from labkit.oci.store import open_store

    tuf = _tuf_signing(args)
    inst = _instance(args) if tuf is None else None
    # Check the predicate against its type before asking for a password or logging anything.
    clock = inst.clock if inst is not None else None
    predicate = make_predicate(args.type, read_bytes(args.predicate, "predicate"), clock=clock)
    signer = _signer(args, inst) if inst is not None else None
    store, ref = open_store(args.image)
    desc, warning = resolve_for_signing(store, ref)
    if warning:
        print(warning, file=sys.stderr)
    identity = _layout_identity(ref.path) if isinstance(ref, LayoutReference) else ref.name
    if tuf is not None:  # --instance URL: the CA, logs and TSAs of the signing config it delivered
        from labkit.keyless.remote_attest import attest_image_with_config

        a = attest_image_with_config(tuf.config, store, desc, args.type, predicate, docker_reference=identity,
                                     identity_token=tuf.identity_token, annotations=_pairs(args.annotations, "-a"),
                                     timestampers=tuf.timestampers)
    else:
        assert inst is not None and signer is not None  # no URL: a local instance directory
        services = _services(args, inst)
        a = attest_image(store, desc, args.type, predicate, signer, docker_reference=identity, instance=inst,
                         annotations=_pairs(args.annotations, "-a"), timestampers=services.timestampers)
    for entry in a.bundle.verification_material.tlog_entries:
        print(f"tlog entry created with index: {entry.log_index}", file=sys.stderr)
    print(f"Pushing attestation referrer: {ref.name}@{a.referrer.digest}", file=sys.stderr)
    print(f"{ref.name}@{desc.digest}")
    return 0


def _verify_attestation(args: argparse.Namespace) -> int:
    from labkit.attest import explain_image_attestation
    from labkit.cli.oci import _pairs
    from labkit.errors import VerificationError
    from labkit.oci.store import open_store

    required = _pairs(args.annotations, "-a")
    root, key, identity = _verification(args)
    store, ref = open_store(args.image)
    desc = store.resolve(ref.ref)
    result = explain_image_attestation(store, desc, args.type, trusted_root=root, key=key, identity=identity,
                                       annotations=required)
    _print_result(result, args.steps, args.verbose)
    if not result.verified:
        f = result.failed_step
        raise VerificationError(f"no valid {args.type} attestation for {ref.name}@{desc.digest}"
                                + (f": {f.detail}" if f is not None and f.detail else ""),
                                step=f.id if f else "attestation.found")
    print(f"\nVerification for {ref.name}@{desc.digest} --", file=sys.stderr)
    print("The following checks were performed on each of these signatures:", file=sys.stderr)
    print("  - The attestation's predicate type is the one requested, and the predicate parses as that type",
          file=sys.stderr)
    print("  - Existence of the claims in the transparency log was verified offline", file=sys.stderr)
    print("  - The signature was verified against the " + ("specified public key" if key else "certificate identity"),
          file=sys.stderr)
    # As cosign: the verified DSSE envelope, one JSON object per line (pipe to jq -r .payload | base64 -d).
    assert result.envelope is not None
    print(json.dumps(result.envelope.to_dict(), separators=(",", ":")))
    return 0


def _attest_blob(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.attest import attest_blob, make_predicate
    from labkit.cli._output import refuse_existing, write_output

    refuse_existing([args.bundle], force=args.force)  # before anything is logged
    tuf = _tuf_signing(args)
    inst = _instance(args) if tuf is None else None
    # Check the predicate against its type before asking for a password or logging anything.
    clock = inst.clock if inst is not None else None
    predicate = make_predicate(args.type, read_bytes(args.predicate, "predicate"), clock=clock)
    read_bytes(args.file, "file")  # a clear error for a missing file before anything is logged
    if tuf is not None:  # --instance URL: the CA, logs and TSAs of the signing config it delivered
        from labkit.keyless.remote_attest import attest_blob_with_config

        bundle = attest_blob_with_config(tuf.config, args.file, args.type, predicate,
                                         identity_token=tuf.identity_token, timestampers=tuf.timestampers)
    else:
        assert inst is not None  # no URL: a local instance directory
        signer = _signer(args, inst)
        services = _services(args, inst)
        bundle = attest_blob(args.file, args.type, predicate, signer, instance=inst,
                             timestampers=services.timestampers)
    write_output(args.bundle, bundle.to_json().encode("utf-8"), force=args.force)
    for entry in bundle.verification_material.tlog_entries:
        print(f"tlog entry created with index: {entry.log_index}", file=sys.stderr)
    print(f"Wrote bundle to file {args.bundle}", file=sys.stderr)
    return 0


def _verify_blob_attestation(args: argparse.Namespace) -> int:
    from labkit._internal.fsutil import read_bytes
    from labkit.attest import explain_blob_attestation
    from labkit.errors import VerificationError

    root, key, identity = _verification(args)
    bundle = read_bytes(args.bundle, "bundle")
    read_bytes(args.file, "file")
    result = explain_blob_attestation(bundle, args.file, args.type, trusted_root=root, key=key, identity=identity)
    _print_result(result, args.steps, args.verbose)
    if not result.verified:
        f = result.failed_step
        raise VerificationError(f"attestation of type {args.type} does not verify"
                                + (f": {f.id}: {f.detail}" if f is not None else ""),
                                step=f.id if f else "")
    print("Verified OK", file=sys.stderr)
    return 0


def _types(args: argparse.Namespace) -> int:
    from labkit.attest import predicate_types

    for t in predicate_types():
        names = ", ".join([t.name, *t.aliases])
        origin = "built-in" if t.builtin else "registered"
        print(f"{names:<40} {t.uri}  ({origin}{': ' + t.description if t.description else ''})")
    return 0
