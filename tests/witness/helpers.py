"""A seeded tile log, three witnesses and a 2-of-3 policy for the witness tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from labkit.lab import Lab
from labkit.tlog.tilelog import TileLog
from labkit.witness.cosignature import Cosigner, log_vkey
from labkit.witness.policy import Policy, parse_policy
from labkit.witness.service import Witness

LAB = Lab(seed="witness-tests")
ORIGIN = "log.lab.test"
T0 = 1_790_000_000


def seed(label: str) -> bytes:
    return hashlib.sha256(f"witness-tests/{label}".encode()).digest()


@dataclass
class Setup:
    log: TileLog
    witnesses: list[Witness]
    policy: Policy


def raw_key(log: TileLog) -> bytes:
    return log.public_key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def setup(tmp_path: Path, n: int = 3, quorum: str = "2") -> Setup:
    log = TileLog.open(tmp_path / "log", origin=ORIGIN, lab=LAB)
    cosigners = [Cosigner.ed25519(f"w{i}.lab.test", seed(f"w{i}")) for i in range(n)]
    witnesses = [Witness({ORIGIN: log.public_key}, [c], state=tmp_path / f"w{i}.json", clock=lambda: T0)
                 for i, c in enumerate(cosigners)]
    text = f"log {log_vkey(ORIGIN, raw_key(log))}\n"
    text += "".join(f"witness o{i} {c.public.vkey()}\n" for i, c in enumerate(cosigners))
    text += f"group g {quorum} {' '.join(f'o{i}' for i in range(n))}\nquorum g\n"
    return Setup(log, witnesses, parse_policy(text))
