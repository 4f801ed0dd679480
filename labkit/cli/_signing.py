"""``--signing-config FILE`` and ``--trusted-root FILE`` on every signing command, as cosign v3 takes them.

    add_signing_config_options(p)
    services = signing_services(args, instance)        # timestampers (and a log URL) the config selects
    bundle = sign_...(..., timestampers=services.timestampers)
    # with --trusted-root, each timestamp is verified against it as it arrives, before anything is logged

Without ``--signing-config`` a keyless command uses the lab instance's own
signing config (its TSA, in process); a keyed one uses none (no timestamp),
as before. Service URLs given as flags (``--rekor-url``) and a signing config
exclude each other (cosign: "cannot specify service URLs and use signing config").
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.bundle import Bundle
    from labkit.keyless.instance import Instance
    from labkit.sign import LogUploader
    from labkit.signingconfig import Service, SigningConfig
    from labkit.timestamping import Timestamper
    from labkit.verify.trustroot import TrustedRoot

__all__ = ["SigningServices", "add_signed_timestamps_option", "add_signing_config_options", "served_config",
           "signing_services"]


def add_signing_config_options(p: argparse.ArgumentParser) -> None:
    """Add ``--signing-config`` and ``--trusted-root``."""
    p.add_argument("--signing-config", default=None, metavar="FILE",
                   help="Sigstore signing config v0.2 (or a ClientTrustConfig): the services to sign through; "
                   "its TSAs timestamp the signature")
    p.add_argument("--trusted-root", default=None, metavar="FILE",
                   help="Sigstore TrustedRoot: the new bundle's timestamps must verify against it")


def add_signed_timestamps_option(p: argparse.ArgumentParser) -> None:
    """Add ``--signed-timestamps N``: the timestamp-only policy (N verified RFC 3161 timestamps, no log needed)."""
    from labkit.cli._types import bounded_int
    from labkit.verify.timestamp import MAX_TIMESTAMPS

    p.add_argument("--signed-timestamps", type=bounded_int(0, MAX_TIMESTAMPS), default=0, metavar="N",
                   help="accept a bundle without a transparency-log entry when N of its RFC 3161 timestamps "
                   "verify (and require N in any case); default 0: a log entry is required")


@dataclass
class SigningServices:
    """What a signing command talks to besides its key: timestampers, an optional log URL, the root to check by."""

    config: SigningConfig | None = None
    timestampers: list[Timestamper] = field(default_factory=list)
    tlog_urls: list[str] = field(default_factory=list)
    tlog_services: list[Service] = field(default_factory=list)
    root: TrustedRoot | None = None

    def uploader(self) -> LogUploader | None:
        """The upload hook for the first log the config selects (by its API version), or None."""
        from labkit.tlog.uploaders import uploader_for

        if not self.tlog_services:
            return None
        return uploader_for(self.tlog_services[0].url, self.tlog_services[0].major_api_version)

    def check(self, bundle: Bundle) -> None:
        """Verify the bundle's timestamps against ``--trusted-root`` (nothing to do without one)."""
        from labkit.timestamping import check_timestamps

        if self.root is not None:
            check_timestamps(bundle, self.root)


def signing_services(args: argparse.Namespace, instance: Instance | None, *, keyless: bool) -> SigningServices:
    """Read ``--signing-config`` / ``--trusted-root`` and select the services for this signing.

    Without ``--signing-config``, keyless signing uses `instance`'s own signing config; keyed signing none.
    """
    from labkit._internal.fsutil import read_bytes
    from labkit.lab import SystemClock
    from labkit.signingconfig import SigningConfig
    from labkit.timestamping import CheckedTimestamper, timestampers_for
    from labkit.tlog.uploaders import SUPPORTED_REKOR_APIS
    from labkit.verify.trustroot import TrustedRoot

    config: SigningConfig | None = None
    if args.signing_config:
        if getattr(args, "rekor_url", None):
            raise InputError("give --signing-config or --rekor-url, not both: the signing config names the log",
                             hint="cosign v3 refuses to mix service URLs with a signing config; so does labkit.")
        config = SigningConfig.from_json(read_bytes(args.signing_config, "signing config"))
    elif instance is not None and keyless:
        config = instance.signing_config()
    services = SigningServices(config=config)
    if args.trusted_root:
        services.root = TrustedRoot.from_json(read_bytes(args.trusted_root, "trusted root"))
    if config is None:
        return services
    if instance is not None and keyless and args.signing_config and config.ca_urls:
        ca = config.ca(instance.clock.now())
        if ca.url != instance.url("ca_url"):
            raise InputError(f"the signing config's CA {ca.url} is neither this instance's ({instance.url('ca_url')}) "
                             "nor served on loopback",
                             hint="Use the trust config `labkit serve` wrote, or `labkit signing-config create "
                             "--fulcio url=http://127.0.0.1:PORT,...`.")
    if instance is not None:
        services.timestampers = instance.timestampers(config)
        own = {instance.url("tlog_url"), instance.url("tlog2_url")}
    else:
        services.timestampers = timestampers_for(config, now=SystemClock().now())
        own = set()
    if services.root is not None:
        services.timestampers = [CheckedTimestamper(t, services.root) for t in services.timestampers]
    now = instance.clock.now() if instance is not None else SystemClock().now()
    services.tlog_services = [s for s in config.tlogs(now, SUPPORTED_REKOR_APIS) if s.url not in own]
    services.tlog_urls = [s.url for s in services.tlog_services]
    return services


def served_config(args: argparse.Namespace) -> SigningConfig | None:
    """``--signing-config`` when the CA it selects is served on loopback (sign over HTTP), else None (in process)."""
    import ipaddress
    from urllib.parse import urlsplit

    from labkit._internal.fsutil import read_bytes
    from labkit.lab import SystemClock
    from labkit.signingconfig import SigningConfig

    if not args.signing_config:
        return None
    config = SigningConfig.from_json(read_bytes(args.signing_config, "signing config"))
    if not config.ca_urls:
        return None
    host = urlsplit(config.ca(SystemClock().now()).url).hostname or ""
    try:
        return config if host == "localhost" or ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None
