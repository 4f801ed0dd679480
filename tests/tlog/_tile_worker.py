"""A child process that appends batches to a tile log until killed (used by the SIGKILL test).

Usage: python -m tests.tlog._tile_worker DIR FIRST OUT_FILE
Writes one line per batch to OUT_FILE: the signed checkpoint returned, base64.
"""

from __future__ import annotations

import base64
import sys

from labkit.lab import Lab
from labkit.tlog.tilelog import TileLog


def main() -> None:
    directory, first, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = TileLog.open(directory, origin="tiles.labkit.invalid", lab=Lab(seed="tile-kill"))
    n = first
    with open(out, "a", buffering=1) as fh:
        for round_ in range(1000000):
            size = (37, 300, 1200, 5)[round_ % 4]
            _, note = log.append([f"entry {n + i}".encode() * 4 for i in range(size)])
            n += size
            fh.write(base64.b64encode(note.encode()).decode() + "\n")


if __name__ == "__main__":
    main()
