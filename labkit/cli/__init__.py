"""The `labkit` command line.

Each command group lives in its own module under `labkit.cli` and exposes
``register(subparsers)``. Handlers return an exit code. Heavy imports
(pandas, widgets, the registry client) happen inside handlers, never at
module import, so `labkit verify-bundle` starts fast.

A `LabkitError` is printed as one line (``error: ...``) plus its
diagnostics with ``-v``; an `OSError` (a write into a read-only directory,
a full disk) as one line naming the path and the reason. Neither shows a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from labkit.errors import LabkitError

__all__ = ["main", "build_parser"]

#: Command-group modules, in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "keys",
    "blob",
    "verify",
    "explain",
    "audit",
    "bundle",
    "log",
    "witness",
    "oci",
    "keyless",
    "trust",
    "tuf",
    "attest",
    "policy",
    "attack",
    "demo",
)


#: Commands that print a verification checklist; each takes -v/--verbose.
VERIFY_COMMANDS = ("verify-bundle", "verify-blob", "verify-blob-attestation", "verify", "verify-attestation")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, every command group registered."""
    from labkit import __version__

    parser = argparse.ArgumentParser(
        prog="labkit",
        description="Supply-chain security lab: keys, signatures, transparency log, OCI, keyless, verification.",
    )
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="print error diagnostics")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"labkit.cli.{name}")
        module.register(sub)
    for name in VERIFY_COMMANDS:
        # After the command too (`labkit verify-bundle -v`); SUPPRESS keeps a global `labkit -v` from being reset.
        sub.choices[name].add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
            help="show every step and, under the failed one, its reason code and the spec it enforces",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except LabkitError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if args.verbose:
            print(exc.diagnostics(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:
        from labkit._internal.fsutil import os_error_message

        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
