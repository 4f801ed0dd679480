"""Checkpoints: C2SP signed-note format, key hints, and sigstore-python reading what we sign."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from labkit.errors import CheckpointError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.checkpoint import (
    Checkpoint,
    NoteSignature,
    SignedNote,
    explain_note,
    key_hint_ed25519,
    key_hint_spki,
    sign_note,
    verify_note,
)

ROOT = hashlib.sha256(b"root").digest()


def test_body_format() -> None:
    ck = Checkpoint("labkit.local - 42", 7, ROOT, ("Timestamp: 1",))
    assert ck.body() == b"labkit.local - 42\n7\n" + base64.b64encode(ROOT) + b"\nTimestamp: 1\n"
    assert Checkpoint.parse_body(ck.body()) == ck


def test_sign_and_verify_ecdsa_rekor_rule(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab, label="log")
    note = sign_note(Checkpoint("labkit.local - 1", 3, ROOT), "labkit.local", key)
    text = note.to_text()
    assert "\n\n\u2014 labkit.local " in text and text.endswith("\n")
    assert note.signatures[0].key_hint == key.public_key().key_id()[:4] == key_hint_spki(key.public_key().der())
    assert verify_note(text, "labkit.local", key.public_key()).size == 3
    assert SignedNote.parse(text) == note
    assert explain_note(text, "labkit.local", key.public_key()).verified


def test_ed25519_c2sp_rule(lab: Lab) -> None:
    key = generate("ed25519", lab=lab, label="log")
    raw = key.public_key().key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    note = sign_note(Checkpoint("log.example", 1, ROOT), "log.example", key, rule="c2sp")
    assert note.signatures[0].key_hint == hashlib.sha256(b"log.example\n\x01" + raw).digest()[:4]
    assert note.signatures[0].key_hint == key_hint_ed25519("log.example", raw)
    verify_note(note.to_text(), "log.example", key.public_key(), rule="c2sp")
    with pytest.raises(CheckpointError, match="note.known_key"):
        verify_note(note.to_text(), "log.example", key.public_key(), rule="rekor-v1")


def test_unknown_signatures_are_ignored_and_wrong_key_rejected(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab, label="log")
    other = generate("ecdsa-p256", lab=lab, label="witness")
    note = sign_note(Checkpoint("o", 1, ROOT), "witness.example", other)
    note = sign_note(Checkpoint("o", 1, ROOT), "labkit.local", key, existing=note)
    verify_note(note.to_text(), "labkit.local", key.public_key())
    result = explain_note(note.to_text(), "labkit.local", other.public_key())
    assert not result.verified and result.failed_step is not None and result.failed_step.id == "note.known_key"


@pytest.mark.parametrize("invalid_first", [False, True])
def test_an_invalid_signature_by_the_known_key_rejects_the_note(lab: Lab, invalid_first: bool) -> None:
    """C2SP signed-note: a note with an invalid signature from a known key is rejected, whatever the line order."""
    key = generate("ecdsa-p256", lab=lab, label="log")
    note = sign_note(Checkpoint("o", 5, ROOT), "labkit.local", key)
    good = note.signatures[0]
    bad = NoteSignature(good.name, good.key_hint, good.signature[:-1] + bytes([good.signature[-1] ^ 1]))
    text = SignedNote(note.text, (bad, good) if invalid_first else (good, bad)).to_text()
    result = explain_note(text, "labkit.local", key.public_key())
    assert result.failed_step is not None and result.failed_step.id == "note.signature"
    assert (
        result.failed_step.actual
        == "invalid (1 of 2 signatures by labkit.local " + good.key_hint.hex() + " do not verify)"
    )
    with pytest.raises(CheckpointError, match="note.signature"):
        verify_note(text, "labkit.local", key.public_key())


@pytest.mark.parametrize(
    "text, missing",
    [
        ("736\n" + base64.b64encode(ROOT).decode() + "\n", "missing the origin line"),
        ("log.example\n" + base64.b64encode(ROOT).decode() + "\n", "missing the tree size line"),
        ("log.example\n736\n", "missing the root hash line"),
    ],
)
def test_a_missing_line_is_named(text: str, missing: str) -> None:
    """Each of the three lines, removed, is named as the one missing (not always "the root hash")."""
    with pytest.raises(CheckpointError) as info:
        Checkpoint.parse_body(text)
    assert missing in info.value.message


def test_tampered_note_rejected(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab, label="log")
    text = sign_note(Checkpoint("o", 5, ROOT), "labkit.local", key).to_text()
    forged = text.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(CheckpointError, match="note.signature"):
        verify_note(forged, "labkit.local", key.public_key())


@pytest.mark.parametrize(
    "text, match",
    [
        ("origin\n5\n", "missing the root hash line"),
        ("origin\n", "missing the tree size and root hash"),
        ("origin\n05\n" + base64.b64encode(ROOT).decode() + "\n", "not a decimal"),
        ("origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "not a decimal"),
        ("origin\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "31 bytes"),
        ("origin\n5\n!!!\n", "base64"),
        ("origin\n5\n" + base64.b64encode(ROOT).decode(), "end with a newline"),
        ("\n5\n" + base64.b64encode(ROOT).decode() + "\n", "origin"),
        ("o\n18446744073709551616\n" + base64.b64encode(ROOT).decode() + "\n", "64 bits"),
    ],
)
def test_bad_checkpoint_bodies(text: str, match: str) -> None:
    with pytest.raises(CheckpointError, match=match):
        Checkpoint.parse_body(text)


@pytest.mark.parametrize(
    "note, match",
    [
        ("o\n1\nAAAA\n", "no blank line"),
        ("o\n1\nAAAA\n\n", "no signature lines"),
        ("o\n1\nAAAA\n\n- name AAAAAAAA\n", "em dash"),
        ("o\n1\nAAAA\n\n\u2014 name AAAAAAAA", "end with a newline"),
        ("o\n1\nAAAA\n\n\u2014 name AAAA\n", "needs a 4-byte key hint"),
        ("o\n1\nAAAA\n\n\u2014 na+me AAAAAAAA\n", "no spaces or"),
        ("o\n1\nAAAA\n\n\u2014 name @@@\n", "base64"),
        ("o\r\n1\nAAAA\n\n\u2014 name AAAAAAAA\n", "control characters"),
    ],
)
def test_bad_notes(note: str, match: str) -> None:
    with pytest.raises(CheckpointError, match=match):
        SignedNote.parse(note)


def test_sigstore_python_reads_our_checkpoint(lab: Lab) -> None:
    from sigstore._internal.rekor.checkpoint import SignedCheckpoint
    from sigstore._internal.trust import Keyring, KeyringPurpose, RekorKeyring  # noqa: F401
    from sigstore._utils import KeyID
    from sigstore_models.common.v1 import PublicKey, PublicKeyDetails

    key = generate("ecdsa-p256", lab=lab, label="log")
    text = sign_note(Checkpoint("labkit.local - 7", 9, ROOT), "labkit.local", key).to_text()
    parsed = SignedCheckpoint.from_text(text)
    assert parsed.checkpoint.log_size == 9 and parsed.checkpoint.log_hash == ROOT.hex()
    ring = RekorKeyring(
        Keyring(
            [
                PublicKey(
                    raw_bytes=base64.b64encode(key.public_key().der()),
                    key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
                )
            ]
        )
    )
    parsed.signed_note.verify(ring, KeyID(key.public_key().key_id()))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from labkit.errors import LabkitError  # noqa: E402


@given(st.text(alphabet=st.sampled_from(list("ab1 \n\u2014+=/AZ09-")), max_size=120))
@settings(max_examples=300, deadline=None)
def test_parse_never_crashes(text: str) -> None:
    """Any text either parses or raises a labkit error; nothing else escapes."""
    try:
        note = SignedNote.parse(text)
    except LabkitError:
        return
    assert SignedNote.parse(note.to_text()) == note


_LINE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=["Cs"]), min_size=1, max_size=20
)


@given(_LINE, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(_LINE, max_size=3))
@settings(max_examples=200, deadline=None)
def test_checkpoint_roundtrip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    ck = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse_body(ck.body()) == ck
