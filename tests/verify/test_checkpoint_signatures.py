"""Bundle checkpoints (issue 12 #20).

Every signature by the log's key must verify, and a Rekor v2 origin is the log's.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest

from labkit.errors import LabkitError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.checkpoint import Checkpoint, NoteSignature, SignedNote, sign_note
from labkit.verify import Artifact, Identity, explain_bundle
from labkit.verify.tlog import verify_checkpoint
from labkit.verify.trustroot import TimeRange, TransparencyLogInstance
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
CASE = CASES / "rekor2-happy-path"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
POLICY = Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")
ROOT = hashlib.sha256(b"root").digest()


def _broken(line: str) -> str:
    """The same signature line (name and key hint) with an invalid signature."""
    name, b64 = line[2:].split(" ")
    raw = base64.b64decode(b64)
    return f"\u2014 {name} {base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()}"


@pytest.mark.parametrize("invalid_first", [False, True])
def test_an_invalid_signature_by_the_log_key_rejects_the_bundle(invalid_first: bool) -> None:
    doc = json.loads((CASE / "bundle.sigstore.json").read_text())
    checkpoint = doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
    text, sigs = checkpoint["envelope"].split("\n\n", 1)
    good = sigs.rstrip("\n").split("\n")[0]
    lines = [_broken(good), good] if invalid_first else [good, _broken(good)]
    checkpoint["envelope"] = text + "\n\n" + "\n".join(lines) + "\n"
    result = explain_bundle(
        json.dumps(doc), Artifact.from_path(CASES / "a.txt"), (CASE / "trusted_root.json").read_bytes(), POLICY
    )
    assert result.reason == "tlog.checkpoint.signature", result.checklist()
    step = result.failed_step
    assert step is not None and "does not verify" in step.detail
    assert step.expected and "every signature by log2025-alpha1.rekor.sigstage.dev" in step.expected
    assert step.actual == f"signature {1 if invalid_first else 2} of 2 invalid"


def _log(key_der: bytes, base_url: str = "https://log.example") -> TransparencyLogInstance:
    return TransparencyLogInstance(base_url, hashlib.sha256(key_der).digest(), key_der, "PKIX_ED25519",
                                   TimeRange(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))


def test_a_rekor_v2_checkpoint_is_tied_to_the_trusted_log() -> None:
    key = generate("ed25519", lab=Lab(seed="checkpoint-origin"), label="log")
    log = _log(key.public_key().der())
    good = sign_note(Checkpoint("log.example", 3, ROOT), "log.example", key, rule="c2sp").to_text()
    assert verify_checkpoint(good, log, rekor_v2=True).size == 3
    # the log's key, but the note names (and is signed as) another log: no signature by the trusted log
    renamed = sign_note(Checkpoint("other.example", 3, ROOT), "other.example", key, rule="c2sp").to_text()
    with pytest.raises(LabkitError) as info:
        verify_checkpoint(renamed, log, rekor_v2=True)
    assert getattr(info.value, "reason", "") == "tlog.checkpoint.signature"
    # signed under the log's name, but for another origin
    other_origin = sign_note(Checkpoint("other.example", 3, ROOT), "log.example", key, rule="c2sp").to_text()
    with pytest.raises(LabkitError) as info:
        verify_checkpoint(other_origin, log, rekor_v2=True)
    assert getattr(info.value, "reason", "") == "tlog.checkpoint.origin"
    assert info.value.details == {"expected": "log.example", "actual": "other.example"}


def test_a_log_with_a_port_signs_under_its_host_name() -> None:
    key = generate("ed25519", lab=Lab(seed="checkpoint-origin"), label="log")
    log = _log(key.public_key().der(), "http://127.0.0.1:8080")
    note = sign_note(Checkpoint("127.0.0.1", 1, ROOT), "127.0.0.1", key, rule="c2sp").to_text()
    assert verify_checkpoint(note, log, rekor_v2=True).origin == "127.0.0.1"


def test_rekor_v1_checkpoints_keep_their_tree_id_origin() -> None:
    key = generate("ecdsa-p256", lab=Lab(seed="checkpoint-origin"), label="v1")
    log = _log(key.public_key().der(), "https://rekor.example")
    note = sign_note(Checkpoint("rekor.example - 1234", 2, ROOT), "rekor.example", key)
    assert verify_checkpoint(note.to_text(), log).origin == "rekor.example - 1234"
    bad = NoteSignature("rekor.example", note.signatures[0].key_hint, note.signatures[0].signature[:-1] + b"\x00")
    for order in ((note.signatures[0], bad), (bad, note.signatures[0])):
        with pytest.raises(LabkitError, match="does not verify"):
            verify_checkpoint(SignedNote(note.text, order).to_text(), log)
