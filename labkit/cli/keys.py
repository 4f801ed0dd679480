"""`labkit` commands: ``generate-key-pair`` and ``public-key``, as cosign spells them.

    labkit generate-key-pair [--key-algorithm ecdsa-p256] [--output-key-prefix cosign] [--force] [--lab-seed SEED]
    labkit generate-key-pair --kms pkcs11:…|awskms://127.0.0.1:PORT/alias/NAME  (writes only <prefix>.pub)
    labkit public-key --key cosign.key [--outfile cosign.pub [--force]]

The password comes from ``COSIGN_PASSWORD`` or a prompt, as with cosign.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    from labkit.cli._output import add_force_option

    p = sub.add_parser(
        "generate-key-pair",
        help="generate a key pair: <prefix>.key (encrypted, cosign format) and <prefix>.pub",
        description="Generate a key pair in cosign's encrypted format. Password: COSIGN_PASSWORD or a prompt.",
    )
    p.add_argument(
        "--key-algorithm",
        default="ecdsa-p256",
        help="ecdsa-p256 (default), ecdsa-p384, ed25519, rsa-3072, rsa-4096",
    )
    p.add_argument("--output-key-prefix", default="cosign", help="write <prefix>.key and <prefix>.pub (default cosign)")
    p.add_argument("--force", action="store_true", help="overwrite existing key files")
    p.add_argument(
        "--lab-seed",
        default=None,
        metavar="SEED",
        help="LAB MODE: derive the key from a public seed (reproducible, never for real use)",
    )
    p.add_argument("--kms", default=None, metavar="URI",
                   help="create the key in its home (a pkcs11: token object or awskms://127.0.0.1:PORT/alias/NAME) "
                   "and write only <prefix>.pub")
    p.set_defaults(handler=_generate_key_pair)

    q = sub.add_parser("public-key", help="print the public key of a private key file")
    q.add_argument("--key", required=True, help="encrypted private key file (cosign.key), or a pkcs11: / "
                   "awskms:// key URI")
    q.add_argument("--outfile", default=None, help="write the PEM here instead of stdout")
    add_force_option(q, "the --outfile file")
    q.set_defaults(handler=_public_key)


def _generate_key_pair(args: argparse.Namespace) -> int:
    from labkit.keyfile import read_password, save_key_pair
    from labkit.keys import generate
    from labkit.lab import Lab

    if args.kms is not None:
        return _generate_in_home(args)
    lab = Lab(seed=args.lab_seed) if args.lab_seed is not None else None
    key = generate(args.key_algorithm, lab=lab)
    if lab is not None:
        print(
            f"WARNING: LAB key derived from the public seed {args.lab_seed!r}; anyone with the seed has it.",
            file=sys.stderr,
        )
    password = read_password(confirm=True)
    paths = save_key_pair(
        key, args.output_key_prefix, password=password, force=args.force, allow_lab=lab is not None, lab=lab
    )
    print(f"Private key written to {paths.private}")
    print(f"Public key written to {paths.public}")
    return 0


def _generate_in_home(args: argparse.Namespace) -> int:
    """``--kms URI``: the private key is created on the token / in the KMS; only ``<prefix>.pub`` is written."""
    from labkit.cli._output import refuse_existing, write_output
    from labkit.errors import InputError
    from labkit.signers.resolve import create_in_home

    if args.lab_seed is not None:
        raise InputError("--lab-seed and --kms exclude each other: a key in its home is never derived from a seed")
    pub_path = args.output_key_prefix + ".pub"
    refuse_existing([pub_path], force=args.force)  # before the key is created
    public = create_in_home(args.kms, args.key_algorithm)
    write_output(pub_path, public.pem(), force=args.force)
    print(f"Created {public.algorithm.value} key in its home: {args.kms.split('?')[0]}", file=sys.stderr)
    print(f"Public key written to {pub_path}")
    return 0


def _public_key(args: argparse.Namespace) -> int:
    from labkit.cli._keys import verifying_key
    from labkit.cli._output import refuse_existing, write_output

    if args.outfile:
        refuse_existing([args.outfile], force=args.force)  # before asking for the password
    pem = verifying_key(args.key).pem()
    if args.outfile:
        write_output(args.outfile, pem, force=args.force)
        print(f"Public key written to {args.outfile}", file=sys.stderr)
    else:
        sys.stdout.write(pem.decode("ascii"))
    return 0
