"""A child process that appends to a shared log (used by the concurrency and SIGKILL tests).

Usage: python -m tests.tlog._worker DIR WORKER_ID COUNT OUT_FILE
Writes one line per append to OUT_FILE: index, then the signed checkpoint returned, base64.
"""

from __future__ import annotations

import base64
import hashlib
import sys

from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.store import TransparencyLog


def main() -> None:
    directory, worker, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    lab = Lab(seed="concurrency")
    log = TransparencyLog.open(directory, lab=lab)
    signer = generate("ecdsa-p256", lab=lab, label="signer")
    pem = signer.public_key().pem()
    with open(out, "a", buffering=1) as fh:
        for i in range(count):
            digest = hashlib.sha256(f"{worker}/{i}".encode()).digest()
            entry = log.upload_hashedrekord(signer.sign_digest(digest), pem, digest)
            assert entry.inclusion_proof is not None
            note = base64.b64encode(entry.inclusion_proof.checkpoint.encode()).decode()
            fh.write(f"{entry.log_index} {note}\n")


if __name__ == "__main__":
    main()
