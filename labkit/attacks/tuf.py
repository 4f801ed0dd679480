"""Scenario 16: attacks on trust delivery that TUF stops (TUF specification §1.5.2 "Attacks", §5 client workflow).

Each scenario builds a lab instance's TUF repository, lets an attacker tamper with what is served
(`labkit.tuf.simulator.TamperingRepository`, over loopback HTTP) and refreshes twice: with a naive client
(``naive-tuf-client``: signatures by any key the bootstrap root lists, no expiry, no version memory, no root
walk, the newest ``targets.json``) that accepts, and with labkit's ngclient refresh (`labkit.tuf.client`)
that refuses with python-tuf's error class (the verdict's reason is ``tuf.<class>``).

The family is listed explicitly in `TUF_SCENARIOS` (family 12 of `labkit.attacks.catalogue.CATALOGUE`, so
``labkit attack run tuf-freeze`` plays one); ``run_tuf_scenario(id)`` plays one from Python.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Root, Targets, Timestamp

from labkit._internal import jsonio
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario
from labkit.errors import AttackError, VerificationError
from labkit.lab import FixedClock, Lab, SystemClock, utc
from labkit.tuf.client import refresh
from labkit.tuf.repository import TufRepository
from labkit.tuf.simulator import TamperingRepository, attacker_signer

__all__ = ["TUF_SCENARIOS", "run_tuf_scenario"]

NAIVE_MODE = "naive-tuf-client"
HONEST = b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "note": "honest"}\n'
EVIL = b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "note": "attacker"}\n'
_CONFIG = b'{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"}\n'
_REFS = ("TUF specification v1.0 §1.5.2", "TUF specification v1.0 §5")


def _naive_refresh(lookup: Callable[[str], bytes | None], bootstrap_root: bytes) -> bytes:
    """The naive client: returns ``trusted_root.json`` when every file is signed by some key of the bootstrap root."""
    root = Metadata[Root].from_bytes(bootstrap_root).signed

    def get(name: str) -> Metadata[Any]:
        data = lookup(name)
        if data is None:
            raise _reject("tuf.missing", f"{name} is missing")
        md: Metadata[Any] = Metadata.from_bytes(data)
        if not any(k in root.keys and _signed_by(root, k, md) for k in md.signatures):
            raise _reject("tuf.unsigned", f"{name} carries no signature by a key the root lists")
        return md

    get("/timestamp.json")
    targets = get("/targets.json").signed
    assert isinstance(targets, Targets)
    info = targets.targets.get("trusted_root.json")
    data = lookup(f"/targets/{info.hashes['sha256']}.trusted_root.json") if info is not None else None
    if info is None or data is None or hashlib.sha256(data).hexdigest() != info.hashes["sha256"]:
        raise _reject("tuf.target", "trusted_root.json is missing or does not match its hash")
    return data


def _signed_by(root: Root, keyid: str, md: Metadata[Any]) -> bool:
    try:
        root.keys[keyid].verify_signature(md.signatures[keyid], md.signed_bytes)
    except Exception:
        return False
    return True


def _reject(reason: str, message: str) -> VerificationError:
    return VerificationError(message, step="tuf", reason=reason)


@dataclass
class _Setup:
    lab: Lab
    dir: Path
    repo: TufRepository
    sim: TamperingRepository
    url: str

    def labkit(self, out: Outcome, bootstrap: bytes) -> None:
        """Refresh with labkit's ngclient client through the tampering server (its cache persists per URL)."""
        got = refresh(self.url, bootstrap_root=bootstrap, cache=self.dir / "cache")
        out.evidence["labkit_trusted_root"] = got.trusted_root.decode()

    def honest_refresh(self, bootstrap: bytes | None) -> None:
        self.sim.capture()
        refresh(self.url, bootstrap_root=bootstrap, cache=self.dir / "cache")


@contextmanager
def _setup(lab: Lab, *, age: _dt.timedelta = _dt.timedelta(0)) -> Iterator[_Setup]:
    """A lab TUF repository published `age` ago (on a fixed clock), targets ``HONEST`` and a config, served."""
    with tempfile.TemporaryDirectory(prefix="labkit-tuf-attack-") as tmp:
        clock = FixedClock(utc(SystemClock().now()) - age) if age else SystemClock()
        targets = {"trusted_root.json": HONEST, "signing_config.v0.2.json": _CONFIG}
        repo = TufRepository.create(Path(tmp) / "tuf", targets, clock=clock, lab=lab)
        sim = TamperingRepository(repo)
        server = sim.serve()
        try:
            yield _Setup(lab, Path(tmp), repo, sim, server.url)
        finally:
            server.stop()


def _judge(out: Outcome, setup: _Setup, bootstrap: bytes) -> Outcome:
    def naive() -> None:
        out.evidence["naive_trusted_root"] = _naive_refresh(setup.sim.lookup, bootstrap).decode()

    out.judge_call(NAIVE_MODE, naive)
    out.judge_call(LABKIT_MODE, lambda: setup.labkit(out, bootstrap))
    return out


def _freeze(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab, age=_dt.timedelta(days=3)) as s:
        out.step("repository", "published timestamp v1 three days ago (it expired after one day)")
        out.step("attacker", "freezes the mirror: keeps serving that signed, expired metadata")
        out.touch("metadata", "timestamp.json", "v1, expired")
        return _judge(out, s, s.repo.root_bytes())


def _rollback(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab) as s:
        bootstrap = s.repo.root_bytes()
        old = dict(s.sim.files)
        s.repo.publish({"trusted_root.json": EVIL.replace(b"attacker", b"rotated-out CA")})
        s.repo.publish({"trusted_root.json": HONEST.replace(b"honest", b"honest v3")})
        s.honest_refresh(bootstrap)
        out.step("client", "refreshed to timestamp, snapshot and targets v3")
        s.sim.files = {**s.sim.files, **old}
        out.step("attacker", "replays the v1 metadata (still unexpired, validly signed): an older trusted root")
        out.touch("metadata", "timestamp.json", "v1 replayed")
        return _judge(out, s, bootstrap)


def _mix_and_match(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab) as s:
        bootstrap = s.repo.root_bytes()
        old_targets = s.sim.files["/1.targets.json"]
        s.repo.publish({"trusted_root.json": HONEST.replace(b"honest", b"honest v2")})
        s.sim.capture()
        s.sim.files["/2.targets.json"] = s.sim.files["/targets.json"] = old_targets
        out.step("attacker", "serves the current timestamp and snapshot with the old targets v1 in place of v2")
        out.touch("metadata", "2.targets.json", "holds targets v1")
        return _judge(out, s, bootstrap)


def _fast_forward(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab) as s:
        bootstrap = s.repo.root_bytes()
        leaked = s.sim.stolen_signer("timestamp")
        s.repo.rotate_root(roles=["timestamp"])
        s.sim.capture()
        out.step("repository", "a leaked timestamp key pushed version 999; the operator rotated the timestamp key "
                               "(root v2) to recover")
        ts = Metadata[Timestamp].from_bytes(s.sim.files["/timestamp.json"])
        ts.signed.version = 999
        s.sim.put("/timestamp.json", ts, [leaked])
        out.step("attacker", "keeps serving timestamp v999 signed with the leaked, rotated-out key")
        out.touch("metadata", "timestamp.json", "v999, old key")
        return _judge(out, s, bootstrap)


def _expired_root(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab, age=_dt.timedelta(days=400)) as s:
        s.repo.clock = SystemClock()
        s.repo.publish({"trusted_root.json": HONEST})  # fresh timestamp and snapshot; root v1 expired 35 days ago
        s.sim.capture()
        out.step("repository", "root v1 expired 35 days ago and was never re-signed; the rest is fresh")
        out.touch("metadata", "1.root.json", "expired")
        return _judge(out, s, s.repo.root_bytes())


def _compromised_timestamp(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab) as s:
        bootstrap = s.repo.root_bytes()
        stolen = s.sim.stolen_signer("timestamp")
        s.sim.forge_chain(("trusted_root.json", EVIL), 2, lambda role: stolen)
        out.step("attacker", "has only the timestamp key: signs timestamp, snapshot and targets v2 with it, "
                             "naming its own trusted root")
        out.touch("target", "trusted_root.json", "attacker's")
        return _judge(out, s, bootstrap)


def _wrong_rotation(scenario: Scenario, lab: Lab) -> Outcome:
    out = scenario.outcome()
    with _setup(lab) as s:
        bootstrap = s.repo.root_bytes()
        roles = ("root", "targets", "snapshot", "timestamp")
        mine: dict[str, CryptoSigner] = {r: attacker_signer(lab, r) for r in roles}
        root = Metadata[Root].from_bytes(bootstrap)
        root.signed.version = 2
        for role, signer in mine.items():
            for keyid in list(root.signed.roles[role].keyids):
                root.signed.revoke_key(keyid, role)
            root.signed.add_key(signer.public_key, role)
        root.signed.roles["root"].threshold = 1
        root_bytes = s.sim.put("/2.root.json", root, [mine["root"]])
        s.sim.forge_chain(("trusted_root.json", EVIL), 2, lambda role: mine[role])
        out.step("attacker", "publishes root v2 naming its own keys, signed by its new root key only (not by v1's)")
        out.touch("metadata", "2.root.json", "self-signed")
        out.evidence["forged_root"] = jsonio.loads(root_bytes, what="forged root", error=AttackError)

        def naive() -> None:  # the naive client "rotates" to any root that verifies with its own keys
            out.evidence["naive_trusted_root"] = _naive_refresh(s.sim.lookup, root_bytes).decode()

        out.judge_call(NAIVE_MODE, naive)
        out.judge_call(LABKIT_MODE, lambda: s.labkit(out, bootstrap))
        return out


def _scenario(id: str, title: str, summary: str, fixed: str, reason: str,
              fn: Callable[[Scenario, Lab], Outcome]) -> Scenario:
    return Scenario(id, 12, title, _REFS, summary, fixed, reason, (NAIVE_MODE, LABKIT_MODE), fn)


#: The explicit catalogue of TUF attacks, in teaching order.
TUF_SCENARIOS: tuple[Scenario, ...] = (
    _scenario("tuf-freeze", "Freeze: a mirror keeps serving old, expired metadata",
              "The attacker serves the signed metadata of three days ago forever.",
              "refuse expired timestamp/snapshot/targets (TUF §5.4.3)", "tuf.ExpiredMetadataError", _freeze),
    _scenario("tuf-rollback", "Rollback: older, still valid metadata is replayed",
              "After the client saw v3, the attacker replays v1.",
              "remember the versions trusted and refuse lower ones (TUF §5.4.3)", "tuf.BadVersionNumberError",
              _rollback),
    _scenario("tuf-mix-and-match", "Mix and match: current snapshot, old targets",
              "The attacker serves targets v1 where the snapshot names v2.",
              "targets must be the version the snapshot names (TUF §5.6.2)", "tuf.BadVersionNumberError",
              _mix_and_match),
    _scenario("tuf-fast-forward", "Fast-forward: a leaked timestamp key's version 999 after the key was rotated",
              "The operator recovered by rotating the timestamp key; the attacker keeps signing with the old one.",
              "walk every root version and check each role against the newest root's keys (TUF §5.3, §5.3.11)",
              "tuf.UnsignedMetadataError", _fast_forward),
    _scenario("tuf-expired-root", "Expired root: a root nobody re-signed",
              "The root expired; the timestamp, snapshot and targets are fresh.",
              "refuse an expired final root (TUF §5.3.10)", "tuf.ExpiredMetadataError", _expired_root),
    _scenario("tuf-compromised-timestamp-key", "Compromised timestamp key signs a whole chain",
              "With the timestamp key only, the attacker signs snapshot and targets naming its trusted root.",
              "each role's metadata must be signed by that role's keys to its threshold (TUF §5.5.3, §5.6.3)",
              "tuf.UnsignedMetadataError", _compromised_timestamp),
    _scenario("tuf-wrong-root-rotation", "Root rotation signed by the new keys only",
              "The attacker publishes root v2 with its own keys, signed only by them.",
              "a new root must be signed by a threshold of the old root's keys and of its own (TUF §5.3.4)",
              "tuf.UnsignedMetadataError", _wrong_rotation),
)


def run_tuf_scenario(id: str, lab: Lab | None = None) -> Outcome:
    """Play TUF scenario `id` (a fresh repository, lab keys from ``attack/<id>``)."""
    for scenario in TUF_SCENARIOS:
        if scenario.id == id:
            return scenario.run(lab)
    raise AttackError(f"unknown TUF attack {id!r}; known: {', '.join(s.id for s in TUF_SCENARIOS)}")
