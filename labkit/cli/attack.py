"""`labkit attack`: the attack lab (list, run one scenario, the matrix).

``labkit attack run ID`` exits 0 only when the attack reproduces against its
vulnerable mode(s) AND labkit's verifier rejects it with the expected reason
code; 1 otherwise. Vulnerable verifier modes are reachable only here and in
`labkit.attacks`, never from ``labkit verify``.
"""

from __future__ import annotations

import argparse
import json


def _list(args: argparse.Namespace) -> int:
    from labkit.attacks.catalogue import scenarios

    for s in scenarios():
        print(f"{s.number:>2}  {s.id:<18} {s.title}")
        if args.verbose_list:
            print(f"    refs: {', '.join(s.refs)}")
            print(f"    fixed: {s.fixed_behaviour}")
            print(f"    expected reason: {s.expected_reason}")
    return 0


def _target(args: argparse.Namespace) -> object:
    from labkit.attacks.scenario import RegistryTarget

    if not args.registry:
        return None
    from labkit.oci.reference import is_loopback_registry

    host = args.registry.split("://", 1)[-1].split("/", 1)[0]
    if not is_loopback_registry(host):
        from labkit.errors import AttackError

        raise AttackError(f"attack scenarios only run against a loopback registry, not {host}")
    url = args.registry if "://" in args.registry else f"http://{args.registry}"
    return RegistryTarget(url, args.registry_storage)


def _run(args: argparse.Namespace) -> int:
    from labkit.attacks.catalogue import get_scenario
    from labkit.attacks.scenario import RegistryTarget

    scenario = get_scenario(args.id)
    target = _target(args)
    assert target is None or isinstance(target, RegistryTarget)
    outcome = scenario.run(registry=target)
    if args.json:
        print(json.dumps(outcome.to_dict(), indent=2))
    else:
        print(outcome.report())
    return 0 if outcome.ok else 1


def _matrix(args: argparse.Namespace) -> int:
    from labkit.attacks.matrix import matrix_html, run_all, summary_frame

    outcomes = run_all(args.ids or None)
    frame = summary_frame(outcomes)
    if args.html:
        from labkit.attacks.matrix import matrix_frame

        print(matrix_html(matrix_frame(outcomes)))
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.max_columns", 20):
            print(frame.drop(columns=["attack"]).to_string())
    return 0 if all(o.ok for o in outcomes) else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    p = sub.add_parser("attack", help="the attack lab: reproduce supply-chain attacks and show labkit catching them")
    cmds = p.add_subparsers(dest="attack_command", metavar="SUBCOMMAND")
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])

    ls = cmds.add_parser("list", help="list the scenarios")
    ls.add_argument("-l", "--long", dest="verbose_list", action="store_true", help="refs, fix and reason code too")
    ls.set_defaults(handler=_list)

    run = cmds.add_parser("run", help="run one scenario; exit 0 only if it reproduces AND labkit rejects it")
    run.add_argument("id", help="scenario id (see `labkit attack list`)")
    run.add_argument("--json", action="store_true", help="print the outcome as JSON")
    run.add_argument("--registry", help="play registry scenarios against this loopback registry (host:port or URL)")
    run.add_argument("--registry-storage", help="the registry's storage root, for tag-history forensics")
    run.set_defaults(handler=_run)

    mx = cmds.add_parser("matrix", help="run every scenario and print the attack matrix")
    mx.add_argument("ids", nargs="*", help="only these scenarios")
    mx.add_argument("--html", action="store_true", help="print the full matrix as a deterministic HTML table")
    mx.set_defaults(handler=_matrix)
