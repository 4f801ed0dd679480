"""The failing case notebook 12 makes when the analyst brings none, and its gallery of one-thing-wrong variants.

A seeded lab instance signs two releases as ``release-bot@example.com``; the
shipped 1.0.1 bundle carries the 1.0 run's log entry (a packaging bug: each
piece genuine, together wrong). `failure_cases` derives variants of the good
1.0.1 bundle with exactly one thing wrong; `judge` runs the verifier on each.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from labkit.bundle import Bundle, MessageSignature, TransparencyLogEntry
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.verify.policy import Identity
from labkit.verify.verifier import explain_bundle

__all__ = ["RELEASE_BOT", "failure_cases", "judge", "make_failing_case"]

RELEASE_BOT = "release-bot@example.com"
_RELEASE = b"release 1.0.1\n"

#: name -> (bundle, artifact bytes, trusted root JSON, policy)
Variant = tuple[Bundle, bytes, bytes, Identity]


def make_failing_case(folder: Path) -> tuple[Instance, Bundle]:
    """Sign 1.0 and 1.0.1, staple 1.0's log entry into 1.0.1's bundle, write the three files; (instance, good)."""
    instance = Instance.create(folder / "instance", seed="analyst")
    first = sign_blob_keyless(instance, b"release 1.0\n", identity=RELEASE_BOT)
    second = sign_blob_keyless(instance, _RELEASE, identity=RELEASE_BOT)
    entries = first.verification_material.tlog_entries  # the bug: the wrong run's entry
    shipped = dataclasses.replace(
        second, verification_material=dataclasses.replace(second.verification_material, tlog_entries=entries))
    (folder / "release.tar").write_bytes(_RELEASE)
    (folder / "release.sigstore.json").write_text(shipped.to_json())
    (folder / "trusted_root.json").write_bytes(instance.trusted_root_json())
    return instance, second


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def failure_cases(good: Bundle, instance: Instance, folder: Path) -> dict[str, Variant]:
    """One thing wrong in each variant of the good bundle."""
    root = instance.trusted_root_json()
    right = Identity(identity=RELEASE_BOT, issuer=instance.issuer.url)
    entry = good.verification_material.tlog_entries[0]
    assert entry.inclusion_proof is not None and isinstance(good.content, MessageSignature)
    bad_proof = dataclasses.replace(entry.inclusion_proof, root_hash=_flip_last_byte(entry.inclusion_proof.root_hash))
    with Instance.create(folder / "other-instance", seed="another lab") as other:
        other_root = other.trusted_root_json()

    def with_entry(e: TransparencyLogEntry) -> Bundle:
        return dataclasses.replace(good, verification_material=dataclasses.replace(
            good.verification_material, tlog_entries=[e]))

    flipped = dataclasses.replace(good.content, signature=_flip_last_byte(good.content.signature))
    return {
        "nothing wrong": (good, _RELEASE, root, right),
        "artifact changed after signing": (good, b"release 1.0.1 (patched)\n", root, right),
        "signature byte flipped": (dataclasses.replace(good, content=flipped), _RELEASE, root, right),
        "inclusion proof root changed": (with_entry(dataclasses.replace(entry, inclusion_proof=bad_proof)),
                                         _RELEASE, root, right),
        "verified with another lab's trusted root": (good, _RELEASE, other_root, right),
        "expected another signer": (good, _RELEASE, root,
                                    Identity(identity="someone-else@example.com", issuer=instance.issuer.url)),
    }


def judge(cases: dict[str, Variant]) -> list[tuple[str, str, str, str]]:
    """(case, verdict, failed step, detail) per variant."""
    rows = []
    for name, (b, data, root, pol) in cases.items():
        r = explain_bundle(b, data, root, policy=pol)
        step = r.failed_step
        rows.append((name, "VERIFIED" if r.verified else "REJECTED", step.id if step else "-",
                     step.detail if step else ""))
    return rows
