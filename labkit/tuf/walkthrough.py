"""Teaching views of a TUF repository and of a refresh (notebook 16): table rows, never paths or ports.

`role_rows` summarises each top-level role's metadata, `target_rows` the targets, and `refresh_trace`
runs `labkit.tuf.client.refresh` and explains every file it fetched, in order (TUF specification §5).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tuf.api.metadata import Metadata, Snapshot, Targets, Timestamp

from labkit.attacks.scenario import Outcome
from labkit.lab import FixedClock, Lab
from labkit.tuf.client import Delivered, refresh
from labkit.tuf.repository import TufRepository

__all__ = ["attack_rows", "lab_for_tuf", "refresh_trace", "role_rows", "target_rows"]

#: The lab clock of a TUF walkthrough: python-tuf's client checks expiry against the real clock, so lab
#: metadata is signed "in 2036" and stays valid (and the stored notebook output identical) for years.
LAB_TUF_TIME = _dt.datetime(2036, 1, 1, 12, 0, 0, tzinfo=_dt.timezone.utc)


def lab_for_tuf(seed: str) -> Lab:
    """A `Lab` with seeded keys whose clock stands at `LAB_TUF_TIME`."""
    return Lab(seed=seed, clock=FixedClock(LAB_TUF_TIME))


def role_rows(repo: TufRepository) -> list[dict[str, object]]:
    """One row per role: version, expiry, keys, threshold and the signatures its metadata carries."""
    root = repo.root
    loaded: dict[str, Metadata[Any]] = {"root": root, "targets": repo.load("targets", Targets),
              "snapshot": repo.load("snapshot", Snapshot), "timestamp": repo.load("timestamp", Timestamp)}
    rows: list[dict[str, object]] = []
    for role, md in loaded.items():
        delegation = root.signed.roles[role]
        rows.append({"role": role, "version": md.signed.version,
                     "expires": md.signed.expires.strftime("%Y-%m-%d %H:%M UTC"),
                     "keys": ", ".join(k[:12] for k in delegation.keyids),
                     "threshold": f"{delegation.threshold} of {len(delegation.keyids)}",
                     "signatures": len(md.signatures)})
    return rows


def target_rows(repo: TufRepository) -> list[dict[str, object]]:
    """One row per target: its name, length, sha256 and the file name a consistent snapshot serves."""
    targets = repo.load("targets", Targets).signed.targets
    return [{"target": name, "length": t.length, "sha256": t.hashes["sha256"][:16] + "…",
             "served as": f"targets/{t.hashes['sha256'][:8]}….{name}"} for name, t in sorted(targets.items())]


def _explain(name: str, found: bool, in_targets: bool) -> tuple[str, str]:
    if in_targets:
        target = name.split(".", 1)[-1]
        return f"targets/<sha256>.{target}", f"target {target}: its length and sha256 must match the targets entry"
    parts = name.split(".")
    if parts[-2:] == ["root", "json"] and parts[0].isdigit():
        if not found:
            return name, f"no root version {parts[0]}: the trusted root is the newest (the walk stops)"
        return name, (f"root version {parts[0]}: signed by a threshold of the previous root's keys and of its "
                      "own, version one higher; it becomes the trusted root")
    if name == "timestamp.json":
        return name, ("timestamp (never cached by version): timestamp key's signature, not expired, version "
                      "not lower than before; names the snapshot version, length and hash")
    if len(parts) == 3 and parts[1] == "snapshot":
        return name, (f"snapshot version {parts[0]}: the hash the timestamp named, snapshot key's signature, "
                      "not expired; names the targets version")
    if len(parts) == 3 and parts[1] == "targets":
        return name, (f"targets version {parts[0]}: the version the snapshot named, targets key's signature, "
                      "not expired; lists each target's length and hashes")
    return name, "fetched" if found else "not found"


def refresh_trace(url: str, *, bootstrap_root: bytes | None = None,
                  cache: str | os.PathLike[str] | None = None) -> tuple[Delivered, list[dict[str, object]]]:
    """Refresh `url` (see `labkit.tuf.client.refresh`) and explain each file it fetched, in order.

    A refresh that fails raises its `TufError`; the rows name files only (no host, port or directory).
    """
    fetched: list[tuple[str, bool]] = []
    delivered = refresh(url, bootstrap_root=bootstrap_root, cache=cache, trace=fetched)
    rows: list[dict[str, object]] = []
    for n, (fetched_url, found) in enumerate(fetched, start=1):
        path = Path(unquote(urlsplit(fetched_url).path))
        file, why = _explain(path.name, found, path.parent.name == "targets")
        rows.append({"step": n, "file": file, "found": "yes" if found else "no (404)", "checked": why})
    return delivered, rows


def attack_rows(outcomes: Iterable[Outcome]) -> list[dict[str, object]]:
    """One row per played TUF attack: each client's verdict and the error class of a refusal (no ports, no paths)."""
    rows: list[dict[str, object]] = []
    for out in outcomes:
        verdicts = {v.mode: v for v in out.verdicts}
        row: dict[str, object] = {"attack": out.scenario.id}
        for mode, v in verdicts.items():
            row[mode] = v.verdict.value
        refusals = [v.reason for v in out.verdicts if not v.accepted and v.reason]
        row["refused with"] = ", ".join(refusals)
        rows.append(row)
    return rows
