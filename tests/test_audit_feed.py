"""`labkit audit`'s parallel feed: continuous, bounded, and never left waiting when the run stops."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from labkit import audit as audit_mod
from labkit.audit import AnyOf, AuditPolicy, AuditRow, audit
from labkit.verify.policy import Identity

CONF = Path(__file__).resolve().parent / "vendor" / "conformance" / "bundle-verify"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
POLICY = AuditPolicy(AnyOf((Identity(identity=BEACON, issuer="https://token.actions.githubusercontent.com"),)))


def _many(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        os.link(CONF / "a.txt", folder / f"{i:04d}.txt")
        os.link(CONF / "happy-path-v0.3" / "bundle.sigstore.json", folder / f"{i:04d}.txt.sigstore.json")
    return folder


def test_feed_holds_at_its_window_and_wakes_on_close() -> None:
    feed = audit_mod._Feed(iter([("bundle", str(i), None) for i in range(10)]), 3)
    drawn: list[object] = []
    worker = threading.Thread(target=lambda: drawn.extend(feed))
    worker.start()
    time.sleep(0.3)
    assert len(drawn) == 3  # three in flight, none received: the feeder waits
    feed.done_one()
    time.sleep(0.3)
    assert len(drawn) == 4
    feed.close()
    worker.join(timeout=10)
    assert not worker.is_alive()


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_input_counted_across_many_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    monkeypatch.setattr(audit_mod, "_WINDOW", 8)
    summary = audit([_many(tmp_path / "many", 120)], POLICY, jobs=jobs, keep_rows=False, chunksize=4)
    assert (summary.total, summary.verified, sum(summary.failed.values())) == (120, 120, 0)


def _broken_check(item: tuple[str, str, str | None]) -> AuditRow:
    raise RuntimeError("worker broke")


def test_worker_error_ends_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_mod, "_WINDOW", 8)
    monkeypatch.setattr(audit_mod, "_check", _broken_check)
    folder = _many(tmp_path / "many", 60)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            audit([folder], POLICY, jobs=2, keep_rows=False, chunksize=2)
        except RuntimeError as exc:
            errors.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=120)
    assert not runner.is_alive(), "audit hung after a worker error"
    assert errors and "worker broke" in str(errors[0])
