"""Write the sample predicates in data/ from the demo image labkit builds.

    .venv/bin/python tools/make_samples.py          # (re)write data/
    .venv/bin/python tools/make_samples.py --check  # fail if data/ is stale

Nothing here is hand-written: the image is built by `labkit.oci.builder`,
read back from its OCI layout, and described by `labkit.attest.samples`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from labkit.attest import samples
from labkit.lab import FixedClock
from labkit.oci.layout import OCILayout

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def generate() -> dict[str, bytes]:
    """File name -> bytes of every sample."""
    with tempfile.TemporaryDirectory() as tmp:
        store = OCILayout.init(Path(tmp) / "oci")
        samples.build_demo_image(store)
        contents = samples.read_image(store, "v1")
    clock = FixedClock()
    docs = {
        "demo-image.sbom.cyclonedx.json": samples.cyclonedx_sbom(contents, clock=clock),
        "demo-image.sbom.spdx.json": samples.spdx_sbom(contents, clock=clock),
        "demo-image.provenance.slsa-v1.json": samples.slsa_provenance(contents, clock=clock),
    }
    return {name: (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode() for name, doc in docs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, data in generate().items():
        path = DATA / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            from labkit._internal.fsutil import atomic_write

            atomic_write(path, data)
            print(f"wrote data/{name}")
    if stale:
        print("stale samples (run tools/make_samples.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
