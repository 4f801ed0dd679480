"""Conversions to the v0.3 bundle other Sigstore clients verify.

* `convert_document`: a wrapper (PEP 740 object, npm response) or a bundle, read
  through the one recogniser (`labkit.analyst.wrappers`) and the strict bundle
  reader, written back as protobuf JSON. Wrapper bundles are v0.3 already;
  v0.1/v0.2 bundles are upgraded by `to_v03`.
* `to_v03`: v0.1/v0.2 to v0.3 (protobuf-specs ``sigstore_bundle.proto``: a v0.3
  bundle carries the leaf as ``certificate`` and every entry an inclusion proof
  with a checkpoint). A missing proof is taken from a `ProofSource`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from labkit.analyst.inspect import read_document
from labkit.analyst.wrappers import unwrap
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, InclusionProof, TransparencyLogEntry, check_version_rules
from labkit.errors import BundleFormatError

__all__ = ["ProofSource", "convert_document", "to_v03"]

#: Gives the inclusion proof (with checkpoint) of an entry a bundle lacks it for, or None.
ProofSource = Callable[[TransparencyLogEntry], "InclusionProof | None"]


def _pick(data: bytes | str, index: int | None) -> Bundle:
    found = unwrap(read_document(data))
    if index is None and len(found) > 1:
        labels = "; ".join(f"[{i}] {u.label}" for i, u in enumerate(found))
        raise BundleFormatError(f"the input holds {len(found)} bundles; choose one with --index N",
                                details={"bundles": labels})
    i = 0 if index is None else index
    if not 0 <= i < len(found):
        raise BundleFormatError(f"--index {i} is out of range: the input holds {len(found)} bundle(s)")
    return Bundle.from_dict(found[i].doc)


def to_v03(bundle: Bundle, proofs: ProofSource | None = None) -> Bundle:
    """The same signature as a v0.3 bundle; raises `BundleFormatError` when a proof is missing and not found."""
    out = copy.deepcopy(bundle)
    vm = out.verification_material
    if vm.certificate_chain is not None:
        vm.certificate, vm.certificate_chain = vm.certificate_chain[0], None  # v0.3: the leaf only
    for i, entry in enumerate(vm.tlog_entries):
        if entry.inclusion_proof is not None and entry.inclusion_proof.checkpoint:
            continue
        proof = proofs(entry) if proofs is not None else None
        if proof is None or not proof.checkpoint:
            raise BundleFormatError(
                f"tlogEntries[{i}] (log index {entry.log_index}) has no inclusion proof with a checkpoint, which a "
                "v0.3 bundle requires; give the log (--log-dir or --log-url) to fetch it",
                details={"logIndex": entry.log_index},
            )
        entry.inclusion_proof = proof
    out.media_type = BUNDLE_V03_MEDIA_TYPE
    check_version_rules(out)
    return out


def convert_document(data: bytes | str, *, index: int | None = None, proofs: ProofSource | None = None) -> Bundle:
    """The bundle the input carries (wrapper or bundle; `index` picks one of several), as v0.3."""
    bundle = _pick(data, index)
    return bundle if bundle.version >= (0, 3) else to_v03(bundle, proofs)
