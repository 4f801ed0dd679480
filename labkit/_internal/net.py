"""The one loopback rule labkit's network clients share: labkit talks to services on this machine only."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True when `host` (a name or an IP address, without port) is this machine: ``localhost`` or 127.0.0.0/8, ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
