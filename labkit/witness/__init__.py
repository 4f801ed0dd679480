"""Witnesses for tile logs (C2SP tlog-witness, tlog-cosignature, tlog-policy, tlog-proof).

* `labkit.witness.cosignature` — Ed25519 (``cosignature/v1``) and ML-DSA-44
  (``subtree/v1``) cosignatures, signed-note verifier keys (vkeys);
* `labkit.witness.policy` — the policy file (logs, witnesses, groups, quorum)
  and the quorum check on a cosigned checkpoint;
* `labkit.witness.service` — the witness: ``add-checkpoint`` with its
  404/403/409/422 answers, persisted state, a WSGI app;
* `labkit.witness.proof` — ``.tlog-proof`` export and offline verification;
* `labkit.witness.bundle` — the quorum check on a bundle's checkpoint,
  applied after `labkit.verify.verifier.explain_bundle`.

The v1 consistency witness (Rekor v1 API) is `labkit.tlog.witness`.
"""

from __future__ import annotations

__all__: list[str] = []
