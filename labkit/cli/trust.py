"""Trust files made to order, with cosign 3.1's verbs: ``signing-config create`` and ``trusted-root create``.

    labkit signing-config create --fulcio "url=…,api-version=1,start-time=…" --rekor "url=…,api-version=1,…" \\
        --tsa "url=…/api/v1/timestamp,api-version=1,start-time=…,operator=…" --oidc-provider "url=…,…" \\
        --rekor-config ANY --tsa-config EXACT:1 --out signing_config.json
    labkit trusted-root create --fulcio "url=…,certificate-chain=ca.pem" --rekor "url=…,public-key=rekor.pub,\\
        start-time=…" --ctfe "url=…,public-key=ctfe.pub,start-time=…" --tsa "url=…,certificate-chain=tsa.pem" \\
        --out trusted_root.json

Each service flag repeats; a value is cosign's comma-separated ``key=value`` list.
The model and the selection rules live in `labkit.signingconfig`; the
trusted root is written by `labkit.keyless.trustroot` and read back by
`labkit.verify.trustroot` before it is written, so a file this makes always parses.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from typing import TYPE_CHECKING

from labkit.errors import InputError

if TYPE_CHECKING:
    from cryptography import x509

    from labkit.keyless.trustroot import CAEntry, LogEntryKey

__all__ = ["add_trusted_root_create_options", "register", "trusted_root_create"]

_SERVICE_HELP = '"url=…,api-version=N,start-time=RFC3339[,end-time=RFC3339][,operator=NAME]" (repeatable)'


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``signing-config create``."""
    from labkit.cli._output import add_force_option

    p = sub.add_parser("signing-config", help="make a Sigstore signing config (signingconfig.v0.2)")
    verbs = p.add_subparsers(dest="signing_config_command", metavar="VERB")
    c = verbs.add_parser("create", help="create a signing config from service specs (cosign signing-config create)")
    for flag, what in (("--fulcio", "CA"), ("--rekor", "transparency log"), ("--tsa", "timestamp authority"),
                       ("--oidc-provider", "OIDC provider")):
        c.add_argument(flag, action="append", default=[], metavar="SPEC", help=f"a {what}: {_SERVICE_HELP}")
    c.add_argument("--rekor-config", default="ANY", metavar="ANY|ALL|EXACT:n", help="which logs to use (default ANY)")
    c.add_argument("--tsa-config", default="ANY", metavar="ANY|ALL|EXACT:n", help="which TSAs to use (default ANY)")
    c.add_argument("--out", default=None, metavar="FILE", help="write here (default: standard output)")
    add_force_option(c, "the --out file")
    c.set_defaults(handler=_signing_config_create)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _emit(data: bytes, out: str | None, force: bool) -> None:
    from labkit.cli._output import refuse_existing, write_output

    if out:
        refuse_existing([out], force=force)
        write_output(out, data, force=force)
        print(f"Wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode())


def _signing_config_create(args: argparse.Namespace) -> int:
    from labkit.signingconfig import SigningConfig, parse_selector, parse_service_spec

    config = SigningConfig(
        ca_urls=tuple(parse_service_spec(s) for s in args.fulcio),
        oidc_urls=tuple(parse_service_spec(s) for s in args.oidc_provider),
        rekor_tlog_urls=tuple(parse_service_spec(s) for s in args.rekor),
        tsa_urls=tuple(parse_service_spec(s) for s in args.tsa),
        rekor_tlog_config=parse_selector(args.rekor_config),
        tsa_config=parse_selector(args.tsa_config),
    )
    data = config.to_json()
    SigningConfig.from_json(data)  # what we write must read back
    _emit(data, args.out, args.force)
    return 0


# -- trusted-root create ----------------------------------------------------------------------------


def add_trusted_root_create_options(q: argparse.ArgumentParser) -> None:
    """``trusted-root create``'s flags, on the existing ``trusted-root`` command."""
    q.add_argument("--fulcio", action="append", default=[], metavar="SPEC",
                   help='a CA: "url=…,certificate-chain=PEM[,start-time=…][,end-time=…]" (repeatable)')
    q.add_argument("--rekor", action="append", default=[], metavar="SPEC",
                   help='a log: "url=…,public-key=PEM,start-time=…[,end-time=…]" (repeatable)')
    q.add_argument("--ctfe", action="append", default=[], metavar="SPEC",
                   help='a CT log: "url=…,public-key=PEM,start-time=…[,end-time=…]" (repeatable)')
    q.add_argument("--tsa", action="append", default=[], metavar="SPEC",
                   help='a TSA: "url=…,certificate-chain=PEM[,start-time=…][,end-time=…]" (repeatable)')
    q.add_argument("--out", default=None, metavar="FILE", help="create: write here (default: standard output)")


def _spec(text: str, flag: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in required + optional or key in fields:
            raise InputError(f"{flag} {text!r}: bad part {part!r}; keys are {', '.join(required + optional)}")
        fields[key] = value.strip()
    missing = [k for k in required if not fields.get(k)]
    if missing:
        raise InputError(f"{flag} {text!r} lacks {', '.join(k + '=' for k in missing)}")
    return fields


def _time(fields: dict[str, str], key: str, flag: str) -> _dt.datetime | None:
    if not fields.get(key):
        return None
    try:
        when = _dt.datetime.fromisoformat(fields[key].replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{flag}: {key} is not an RFC 3339 time: {fields[key]!r}") from None
    if when.tzinfo is None:
        raise InputError(f"{flag}: {key} has no time zone: {fields[key]!r}")
    return when


def _chain(path: str, flag: str) -> list[x509.Certificate]:
    from cryptography import x509

    from labkit._internal.fsutil import read_bytes

    try:
        chain = x509.load_pem_x509_certificates(read_bytes(path, f"{flag} certificate chain"))
    except ValueError:
        raise InputError(f"{flag}: {path} is not a PEM certificate chain") from None
    if not chain:
        raise InputError(f"{flag}: {path} holds no certificate")
    return chain


def _ca(text: str, flag: str) -> CAEntry:
    from labkit.keyless.trustroot import CAEntry

    f = _spec(text, flag, ("url", "certificate-chain"), ("start-time", "end-time"))
    chain = _chain(f["certificate-chain"], flag)
    start = _time(f, "start-time", flag) or chain[0].not_valid_before_utc
    name = chain[0].subject.get_attributes_for_oid(_cn_oid())
    org = chain[0].subject.get_attributes_for_oid(_org_oid())
    return CAEntry(f["url"], chain, start, _time(f, "end-time", flag),
                   organization=str(org[0].value) if org else "",
                   common_name=str(name[0].value) if name else "")


def _cn_oid() -> x509.ObjectIdentifier:
    from cryptography.x509.oid import NameOID

    return NameOID.COMMON_NAME


def _org_oid() -> x509.ObjectIdentifier:
    from cryptography.x509.oid import NameOID

    return NameOID.ORGANIZATION_NAME


def _log(text: str, flag: str) -> LogEntryKey:
    from labkit._internal.fsutil import read_bytes
    from labkit.keyless.trustroot import LogEntryKey
    from labkit.keys import load_public_key

    f = _spec(text, flag, ("url", "public-key", "start-time"), ("end-time",))
    key = load_public_key(read_bytes(f["public-key"], f"{flag} public key"))
    start = _time(f, "start-time", flag)
    assert start is not None  # required above
    return LogEntryKey(f["url"], key, key.key_id(), start, _time(f, "end-time", flag))


def trusted_root_create(args: argparse.Namespace) -> int:
    """``labkit trusted-root create``: a TrustedRoot from the given services, checked by labkit's own reader."""
    from labkit.keyless.trustroot import trusted_root, trusted_root_json
    from labkit.verify.trustroot import TrustedRoot

    if not args.rekor:
        raise InputError("a trusted root needs at least one --rekor log")
    doc = trusted_root(
        tlogs=[_log(s, "--rekor") for s in args.rekor],
        certificate_authorities=[_ca(s, "--fulcio") for s in args.fulcio],
        ctlogs=[_log(s, "--ctfe") for s in args.ctfe],
        timestamp_authorities=[_ca(s, "--tsa") for s in args.tsa],
    )
    data = trusted_root_json(doc)
    TrustedRoot.from_json(data)  # what we write must read back
    _emit(data, args.out, args.force)
    return 0
