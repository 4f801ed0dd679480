"""The witness: consistency with older checkpoints, and split views caught with both roots."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labkit.errors import CheckpointError, ProofError, VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.checkpoint import Checkpoint, sign_note
from labkit.tlog.entries import hashedrekord_body
from labkit.tlog.store import TransparencyLog
from labkit.tlog.witness import Witness


def _bodies(lab: Lab, tag: str, n: int) -> list[bytes]:
    k = generate("ecdsa-p256", lab=lab, label="signer")
    out = []
    for i in range(n):
        d = hashlib.sha256(f"{tag}{i}".encode()).digest()
        out.append(hashedrekord_body(k.sign_digest(d), k.public_key().pem(), d))
    return out


def _witness(log: TransparencyLog) -> Witness:
    return Witness(log.name, log.public_key, origin=log.origin, key=generate("ed25519", lab=Lab(seed="w"), label="w"))


def test_consistency_over_growth(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    log.append_many(_bodies(lab, "a", 5))
    old = log.latest_checkpoint()
    log.append_many(_bodies(lab, "b", 6))
    w = _witness(log)
    result = w.explain_consistency(old, log)
    assert result.verified, result.rows()
    assert [s.id for s in result.steps] == [
        "witness.old_checkpoint", "witness.new_checkpoint", "witness.origin", "witness.size", "witness.consistency"]
    assert w.verify_consistency(old, log).size == 11
    assert w.update(log).size == 11
    cosigned = w.cosign(log.latest_checkpoint())
    assert len(cosigned.signatures) == 2


def test_forked_log_fails_consistency_and_split_view_is_reported(tmp_path: Path, lab: Lab) -> None:
    honest = TransparencyLog.open(tmp_path / "a", lab=lab)
    evil = TransparencyLog.open(tmp_path / "b", lab=lab)  # same key: the log operator forks its own log
    common = _bodies(lab, "c", 4)
    honest.append_many(common)
    evil.append_many(common)
    old = honest.latest_checkpoint()
    honest.append_many(_bodies(lab, "h", 3))
    evil.append_many(_bodies(lab, "e", 3))
    a, b = honest.latest_checkpoint(), evil.latest_checkpoint()
    w = _witness(honest)
    split = w.detect_split_view(a, b)
    assert split is not None and split.size == 7
    assert {split.root_a, split.root_b} == {honest.root(), evil.root()}
    assert honest.root().hex() in str(split) and evil.root().hex() in str(split)
    with pytest.raises(ProofError, match="split view"):
        w.check_pair(a, b)
    assert w.detect_split_view(a, a) is None
    # the forked log is still consistent with the shared prefix (the fork happened later)
    assert w.explain_consistency(old, evil).verified
    # but the honest log's checkpoint is not a prefix of the evil log's history
    honest.append_many(_bodies(lab, "h2", 2))
    bigger_old = evil.latest_checkpoint()  # size 7 on the evil branch
    result = w.explain_consistency(bigger_old, honest)
    assert not result.verified and result.failed_step is not None and result.failed_step.id == "witness.consistency"
    with pytest.raises(VerificationError) as err:
        w.verify_consistency(bigger_old, honest)
    assert err.value.reason == "witness.consistency"


def test_forgeries_are_not_split_views(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    log.append_many(_bodies(lab, "a", 2))
    w = _witness(log)
    forger = generate("ecdsa-p256", lab=lab, label="forger")
    fake = sign_note(Checkpoint(log.origin, 2, hashlib.sha256(b"x").digest()), log.name, forger).to_text()
    with pytest.raises(CheckpointError):
        w.detect_split_view(log.latest_checkpoint(), fake)
    assert not w.explain_consistency(fake, log).verified


def test_shrinking_log_is_rejected(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path / "big", lab=lab)
    log.append_many(_bodies(lab, "a", 5))
    small = TransparencyLog.open(tmp_path / "small", lab=lab)
    small.append_many(_bodies(lab, "a", 3))
    result = _witness(log).explain_consistency(log.latest_checkpoint(), small)
    assert result.failed_step is not None and result.failed_step.id == "witness.size"
