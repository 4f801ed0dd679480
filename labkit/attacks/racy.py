"""Scenario 9: racy signature storage (cosign's read-append-write of ``sha256-<hex>.sig``).

cosign's ``WriteSignatures`` GETs the ``.sig`` manifest, appends a layer and
PUTs the whole manifest back, unconditionally (cosign SIGNATURE_SPEC: "racy").
Two signers at once both read N layers and both write N+1: the last writer
wins and the other signature disappears. labkit's `attach_signature`
appends under the layout lock, or on a registry writes a per-signer claim
tag and converges until ``.sig`` holds every claim.
"""

from __future__ import annotations

import threading
from typing import Any

from labkit.attacks.sandbox import SandboxRegistry
from labkit.attacks.scenario import LABKIT_MODE, Outcome, Scenario, define
from labkit.attacks.tags import _ns, open_registry
from labkit.attacks.vulnerable import LegacySignature
from labkit.errors import LabkitError, VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.descriptor import Descriptor
from labkit.oci.digest import Digest
from labkit.oci.signatures import Store, append_signature_racy
from labkit.payloads import simple_signing_payload

__all__ = []

class _ReadTogether:
    """A store proxy: every ``.sig`` read waits until all signers have read (the race, made deterministic)."""

    def __init__(self, store: Store, barrier: threading.Barrier) -> None:
        self._store = store
        self._barrier = barrier

    def get_manifest(self, ref: str | Digest | None) -> tuple[bytes, Descriptor]:
        try:
            return self._store.get_manifest(ref)
        finally:
            if isinstance(ref, str) and ref.endswith(".sig"):
                self._barrier.wait(timeout=30)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _racy_cosign(reg: SandboxRegistry, repo: str, digest: str, sigs: list[LegacySignature]) -> list[str]:
    """Every signer runs cosign's read-append-write (`labkit.oci.signatures.append_signature_racy`) at once.

    A barrier after the GET makes the schedule fixed: all signers read the
    same N layers before any of them PUTs N + 1, so the outcome never
    depends on timing.
    """
    errors: list[str] = []
    barrier = threading.Barrier(len(sigs))
    store = _ReadTogether(reg.repo(repo), barrier)

    def run(sig: LegacySignature) -> None:
        try:
            append_signature_racy(store, digest, reg.layer(sig), sig.payload)  # type: ignore[arg-type]
        except (LabkitError, threading.BrokenBarrierError) as exc:
            errors.append(str(exc) or type(exc).__name__)
            barrier.abort()  # a signer that failed before its read must not keep the others waiting

    threads = [threading.Thread(target=run, args=(s,)) for s in sigs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _two_signers(reg: SandboxRegistry, repo: str, digest: str, sigs: list[LegacySignature], racy: bool) -> list[str]:
    if racy:
        return _racy_cosign(reg, repo, digest, sigs)
    errors: list[str] = []
    start = threading.Barrier(len(sigs))

    def run(sig: LegacySignature) -> None:
        try:
            start.wait()  # really concurrent: labkit must keep both under any interleaving
            reg.attach_signature(repo, digest, sig, actor="signer")
        except LabkitError as exc:
            errors.append(exc.message)

    threads = [threading.Thread(target=run, args=(s,)) for s in sigs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@define(
    "racy-storage",
    number=9,
    title="Two signers at once lose a signature (read-append-write of .sig)",
    refs=("cosign SIGNATURE_SPEC: 'racy'", "goharbor/harbor#19096"),
    summary="Two CI jobs sign the same image concurrently; on cosign's path one signature silently disappears.",
    fixed_behaviour="append under a lock (layout) or claim-and-converge (registry): every signature is kept",
    expected_reason="signatures.all_kept",
    modes=("cosign-read-append-write", LABKIT_MODE),
)
def racy_storage(scenario: Scenario, lab: Lab) -> Outcome:
    """Scenario ``racy-storage``: concurrent signature writes lose a signature."""
    out = scenario.outcome()
    with open_registry(lab, scenario.target) as reg:
        ns = _ns(lab, scenario)
        for mode, racy in (("cosign-read-append-write", True), (LABKIT_MODE, False)):
            repo = f"{ns}/{'cosign' if racy else 'labkit'}/app"
            digest = reg.push_image(repo, b"app 4.0\n", tag="4.0")
            payload = simple_signing_payload(f"{reg.host}/{repo}", digest)
            sigs = []
            for who in ("release-team", "security-team"):
                key = generate("ecdsa-p256", lab=lab, label=f"attacks/{who}")
                sigs.append(LegacySignature(payload, key.sign(payload)))
            how = ("both GET .sig, then both PUT it back with their layer" if racy
                   else "two threads call labkit's attach_signature at once")
            out.step("signers", f"release-team and security-team sign app:4.0 at the same moment ({how})")
            errors = _two_signers(reg, repo, digest, sigs, racy)
            kept = {s.signature for s in reg.signatures(repo, digest)}
            lost = [s for s in sigs if s.signature not in kept]
            out.evidence[f"{mode}: signatures kept"] = f"{len(sigs) - len(lost)} of {len(sigs)}"
            out.touch("signature manifest", f"{'cosign' if racy else 'labkit'}/app {reg.sig_tag(digest)[:19]}….sig",
                      f"{len(kept)} layer(s)")
            if errors:
                out.evidence[f"{mode}: errors"] = errors

            def judge(lost: list[LegacySignature] = lost) -> None:
                if not lost:
                    raise VerificationError(
                        "both signatures were kept", step="signatures", reason="signatures.all_kept"
                    )

            out.judge_call(mode, judge)
    return out
