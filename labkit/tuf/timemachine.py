"""A trust time machine: dated trusted-root snapshots, an injected clock, and the "your root is stale" diagnosis.

`TrustHistory` keeps every trusted root a client accepted, under the time it was accepted
(``DIR/<UTC time>.trusted_root.json``), and answers `at(when)`: the root a client held then. With a
`labkit.lab.FixedClock` a notebook can travel: verify today's bundle with last month's root and see why it
fails. `stale_root_cause` names the cause and the fix when a bundle's log is unknown to the root and the
bundle is newer than every log the root knows.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from labkit._internal.fsutil import atomic_write, read_bytes
from labkit.bundle import Bundle
from labkit.errors import LabkitError
from labkit.lab import Clock, SystemClock, utc
from labkit.tuf.errors import TufError
from labkit.verify.trustroot import TrustedRoot

__all__ = ["TrustHistory", "stale_root_cause"]

_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class _Snapshot:
    when: _dt.datetime
    path: Path


class TrustHistory:
    """Dated trusted-root snapshots in `path`; `clock` says what "now" is."""

    def __init__(self, path: str | Path, *, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.clock: Clock = clock or SystemClock()

    def record(self, trusted_root: bytes) -> Path:
        """Keep `trusted_root` as accepted now (it must parse: a root that did not verify is never kept).

        An unchanged root is not stored again: the newest snapshot's path comes back.
        """
        TrustedRoot.from_json(trusted_root)
        held = self.snapshots()
        if held and held[-1].path.read_bytes() == trusted_root:
            return held[-1].path
        when = utc(self.clock.now())
        return atomic_write(self.path / f"{when.strftime(_FORMAT)}.trusted_root.json", trusted_root)

    def snapshots(self) -> list[_Snapshot]:
        """Every snapshot, oldest first."""
        out = []
        for p in self.path.glob("*.trusted_root.json") if self.path.is_dir() else ():
            try:
                when = _dt.datetime.strptime(p.name.split(".", 1)[0], _FORMAT).replace(tzinfo=_dt.timezone.utc)
            except ValueError:
                continue
            out.append(_Snapshot(when, p))
        return sorted(out, key=lambda s: s.when)

    def at(self, when: _dt.datetime | None = None) -> TrustedRoot:
        """The root held at `when` (default: the clock's now): the newest snapshot not after it."""
        moment = utc(when or self.clock.now())
        held = [s for s in self.snapshots() if s.when <= moment]
        if not held:
            raise TufError(f"no trusted root was held at {moment.isoformat()}",
                           hint="Refresh first: labkit trust update --instance URL")
        return TrustedRoot.from_json(read_bytes(held[-1].path, "trusted root snapshot"))


def stale_root_cause(bundle_json: bytes | str, root: TrustedRoot) -> str | None:
    """Cause and fix when the bundle's log is unknown and the bundle is newer than the root's newest log."""
    try:
        bundle = Bundle.from_json(bundle_json)
    except LabkitError:
        return None
    if not root.tlogs:
        return None
    newest = max(t.valid_for.start for t in root.tlogs)
    for entry in bundle.verification_material.tlog_entries:
        if root.tlog(entry.log_id) is not None or not entry.integrated_time:
            continue
        logged = _dt.datetime.fromtimestamp(entry.integrated_time, tz=_dt.timezone.utc)
        if logged > newest:
            return (f"your trust root is older than this bundle: it was logged {logged:%Y-%m-%d %H:%M} UTC by a log "
                    f"the root does not list, and the root's newest log starts {newest:%Y-%m-%d}; "
                    "refresh it (labkit trust update --instance URL) and verify again")
    return None
