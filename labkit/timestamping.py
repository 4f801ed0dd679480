"""Signed timestamps on a bundle: the one step every signing command takes when its signing config names a TSA.

cosign and sigstore-python ask each TSA the signing config selects
(``tsaUrls`` under ``tsaConfig``) for an RFC 3161 timestamp over the
signature bytes and put the replies in ``timestampVerificationData`` (the
message signature's bytes, or the DSSE envelope's signature). `add_timestamps`
is that step for any bundle labkit makes, keyed or keyless, blob or image,
signature or attestation; `timestampers_for` turns a signing config into
timestampers: the lab instance's own TSA in process (its ``.invalid`` URL
never resolves), any other URL over loopback HTTP.

With a trusted root, `CheckedTimestamper` verifies each reply as it comes
back, before the signature is logged or the bundle written, so a TSA the
verifier will not trust is an error at signing time rather than a surprise
at verification.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import ipaddress
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from labkit.bundle import Bundle
from labkit.errors import InputError
from labkit.signingconfig import SigningConfig
from labkit.tsa.authority import TimestampAuthority
from labkit.tsa.client import HTTPTimestamper, LocalTimestamper, Timestamper
from labkit.verify.timestamp import verify_timestamp
from labkit.verify.trustroot import TrustedRoot

__all__ = ["CheckedTimestamper", "Timestamper", "add_timestamps", "check_timestamps", "timestampers_for"]


def _bundle_signature(bundle: Bundle) -> bytes:
    """The signature bytes a timestamp is over: the message signature, or the DSSE envelope's one signature."""
    if bundle.message_signature is not None:
        return bundle.message_signature.signature
    envelope = bundle.dsse_envelope
    if envelope is None or len(envelope.signatures) != 1:
        raise InputError("a bundle to timestamp needs a message signature or a DSSE envelope with one signature")
    return envelope.signatures[0].sig


def add_timestamps(bundle: Bundle, timestampers: Sequence[Timestamper]) -> Bundle:
    """A copy of `bundle` with one timestamp from each of `timestampers` (the bundle itself when there are none)."""
    if not timestampers:
        return bundle
    signature = _bundle_signature(bundle)
    stamps = [t.timestamp(signature) for t in timestampers]
    material = dataclasses.replace(
        bundle.verification_material, rfc3161_timestamps=[*bundle.verification_material.rfc3161_timestamps, *stamps]
    )
    return dataclasses.replace(bundle, verification_material=material)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def timestampers_for(
    config: SigningConfig,
    *,
    now: _dt.datetime,
    local: Mapping[str, TimestampAuthority] | None = None,
) -> list[Timestamper]:
    """One timestamper per TSA `config` selects at `now`: in process for `local` URLs, else loopback HTTP."""
    local = local or {}
    out: list[Timestamper] = []
    for service in config.tsas(now):
        if service.url in local:
            out.append(LocalTimestamper(local[service.url]))
        elif _loopback(service.url):
            out.append(HTTPTimestamper(service.url))
        else:
            raise InputError(
                f"refusing to contact the TSA at {service.url}: labkit talks to loopback services only",
                hint="Serve a TSA with `labkit serve` and name its http://127.0.0.1:PORT/api/v1/timestamp URL.",
            )
    return out


class CheckedTimestamper:
    """A timestamper whose every timestamp must verify against `root` before it is used (before any log entry)."""

    def __init__(self, inner: Timestamper, root: TrustedRoot) -> None:
        self.inner = inner
        self.root = root

    def timestamp(self, signature: bytes) -> bytes:
        """The inner timestamper's reply, verified against the trusted root (`TimestampError` otherwise)."""
        stamp = self.inner.timestamp(signature)
        verify_timestamp(stamp, signature, self.root)
        return stamp


def check_timestamps(bundle: Bundle, root: TrustedRoot) -> None:
    """Raise the verifier's `TimestampError` unless every timestamp in `bundle` verifies against `root`."""
    signature = _bundle_signature(bundle)
    for stamp in bundle.verification_material.rfc3161_timestamps:
        verify_timestamp(stamp, signature, root)
