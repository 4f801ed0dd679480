"""The Rekor v2 benchmark script runs (tiny sizes) and prints the JSON lines it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tlog_v2_smoke() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tlog_v2.py"), "--sizes", "300,700", "--samples", "20",
         "--appends", "60", "--writers", "6", "--v1-api-appends", "10"],
        capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
    ).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    benches = {d["bench"] for d in lines}
    assert {"v2.append_service", "v2.append_http", "v1.append_api", "v2.append_bulk", "v1.append_bulk",
            "v2.inclusion", "v1.inclusion", "v2.consistency"} <= benches
    service = next(d for d in lines if d["bench"] == "v2.append_service")
    assert service["entries"] == 60 and service["batches"] <= 60
    bulk = [d for d in lines if d["bench"] == "v2.append_bulk"]
    assert [d["size"] for d in bulk] == [300, 700] and all(d["bytes_per_entry"] > 0 for d in bulk)
