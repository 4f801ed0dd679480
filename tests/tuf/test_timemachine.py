"""labkit.tuf.timemachine: dated trusted-root snapshots on an injected clock, and the stale-root diagnosis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from labkit.keys import generate
from labkit.lab import FixedClock, Lab
from labkit.tuf.errors import TufError
from labkit.tuf.timemachine import TrustHistory, stale_root_cause
from labkit.verify import TrustedRoot

CASE = Path(__file__).parent.parent / "vendor" / "conformance" / "bundle-verify"
UTC = dt.timezone.utc


def _root(start: dt.datetime) -> TrustedRoot:
    return TrustedRoot.for_log("http://127.0.0.1:1", generate(lab=Lab(seed="tm"), label="log").public_key(),
                               start=start)


def test_history_answers_the_root_held_at_a_time(tmp_path: Path) -> None:
    clock = FixedClock(dt.datetime(2026, 1, 1, tzinfo=UTC))
    history = TrustHistory(tmp_path, clock=clock)
    with pytest.raises(TufError, match="no trusted root"):
        history.at()
    roots = CASE.parent / "trust-roots"
    history.record((roots / "staging_trusted_root.json").read_bytes())
    clock.set(dt.datetime(2026, 2, 1, tzinfo=UTC))
    history.record((roots / "production_trusted_root.json").read_bytes())
    assert [s.when.month for s in history.snapshots()] == [1, 2]
    january = history.at(dt.datetime(2026, 1, 15, tzinfo=UTC))
    now = history.at()
    assert january.tlogs != now.tlogs
    with pytest.raises(TufError):
        history.at(dt.datetime(2025, 12, 31, tzinfo=UTC))


def test_stale_root_names_cause_and_fix() -> None:
    bundle = (CASE / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    old = _root(dt.datetime(2020, 1, 1, tzinfo=UTC))
    cause = stale_root_cause(bundle, old)
    assert cause is not None and cause.startswith("your trust root is older than this bundle") and "refresh" in cause
    newer = _root(dt.datetime(2099, 1, 1, tzinfo=UTC))
    assert stale_root_cause(bundle, newer) is None


def test_verify_bundle_prints_the_cause_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from labkit.cli import main
    from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json

    key = generate(lab=Lab(seed="tm"), label="log").public_key()
    log = LogEntryKey("http://127.0.0.1:1", key, key.key_id(), dt.datetime(2020, 1, 1, tzinfo=UTC))
    doc = trusted_root(tlogs=[log], certificate_authorities=[], ctlogs=[], timestamp_authorities=[])
    (tmp_path / "old_root.json").write_bytes(trusted_root_json(doc))
    code = main(["verify-bundle", "--bundle", str(CASE / "happy-path-v0.3" / "bundle.sigstore.json"),
                 "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "-q",
                 "--trusted-root", str(tmp_path / "old_root.json"), str(CASE / "a.txt")])
    assert code == 1
    err = capsys.readouterr().err
    assert "hint: your trust root is older than this bundle" in err and "refresh it" in err, err
