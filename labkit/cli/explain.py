"""`labkit explain "ERROR TEXT"`: find the troubleshooting case for an error message, optionally reproduce it.

    labkit explain "none of the expected identities matched what was in the certificate"
    labkit explain --reproduce "no signatures found"
    labkit explain --list
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `explain` command."""
    p = sub.add_parser("explain", help="explain a verification error message from cosign, gh, sigstore-python, ...",
                       description="Match an error text against labkit's troubleshooting catalogue (each case "
                                   "reproduced offline). Unknown text: says so and lists the closest cases.")
    p.add_argument("text", nargs="?", default=None, metavar="ERROR_TEXT", help="the error message (quote it)")
    p.add_argument("--reproduce", action="store_true", help="run the best case's offline reproduction too")
    p.add_argument("--list", action="store_true", help="list every case")
    p.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace) -> int:
    from labkit.errors import InputError
    from labkit.troubleshoot import CASES, explain, reproduce

    if args.list:
        for case in CASES:
            print(f"{case.id:28} {case.title}")
        return 0
    if args.text is None:
        raise InputError("give the error text to explain (quoted), or --list")
    match = explain(args.text)
    print(match.text())
    if args.reproduce and match.cases:
        print("\nreproduced offline with labkit:")
        print(reproduce(match.cases[0]).text())
    return 0 if match.exact else 1
