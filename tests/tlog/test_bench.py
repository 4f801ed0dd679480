"""The transparency-log benchmark script runs (tiny sizes) and prints the JSON lines it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tlog_smoke() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tlog.py"), "--sizes", "300", "--samples", "20",
         "--api-appends", "10"],
        capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
    ).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    benches = {d["bench"] for d in lines}
    assert {"tlog.append_api", "tlog.append_bulk", "tlog.inclusion", "tlog.consistency", "tlog.vs_pymerkle"} <= benches
    inclusion = next(d for d in lines if d["bench"] == "tlog.inclusion")
    assert inclusion["size"] == 300 and inclusion["max_nodes_read"] <= 2 * 9 + 2
