"""Cosignatures, the add-checkpoint witness (404/403/409/422), policies and quorums, .tlog-proof files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from labkit.errors import CheckpointError, LogError, PolicyError, VerificationError
from labkit.keys import generate
from labkit.tlog.checkpoint import Checkpoint, SignedNote, sign_note
from labkit.witness.cosignature import (
    Cosigner,
    CosignerKey,
    mldsa44_support,
    parse_vkey,
)
from labkit.witness.policy import explain_quorum, parse_policy, verify_quorum
from labkit.witness.proof import explain_proof, export_proof, parse_proof, verify_proof
from labkit.witness.service import (
    SIZE_TYPE,
    Witness,
    add_checkpoint_body,
    serve_witness,
    submit,
)
from tests.witness.helpers import LAB, ORIGIN, T0, seed, setup


def test_ed25519_cosignature_round_trip_and_key_id() -> None:
    c = Cosigner.ed25519("w.example", seed("x"))
    cp = Checkpoint(ORIGIN, 3, b"\x01" * 32)
    line = c.cosign(cp, T0)
    assert len(line.signature) == 8 + 64 and int.from_bytes(line.signature[:8], "big") == T0
    assert c.public.verify(line, cp) == T0
    assert parse_vkey(c.public.vkey()).cosigner() == c.public
    with pytest.raises(CheckpointError, match="does not verify"):
        c.public.verify(line, Checkpoint(ORIGIN, 3, b"\x02" * 32))
    # rekor-tiles writes witness vkeys as signed-note Ed25519 (type 0x01); they cosign as type 0x04.
    assert (
        parse_vkey("rekor-witness-test+a478f5cd+AUtKAvrTeY7srtAMfP5JCUOkZoU+A7F5VA094y5LGr89").cosigner().sig_type == 4
    )
    with pytest.raises(CheckpointError, match="does not match"):
        parse_vkey("rekor-witness-test+a478f5ce+AUtKAvrTeY7srtAMfP5JCUOkZoU+A7F5VA094y5LGr89")


def test_mldsa44_cosignature_where_supported() -> None:
    ok, why = mldsa44_support()
    if not ok:
        pytest.skip(f"ML-DSA-44 unavailable: {why}")
    c = Cosigner.mldsa44("pq.example", seed("pq"))
    cp = Checkpoint(ORIGIN, 9, b"\x03" * 32, ("ext line",))
    line = c.cosign(cp, T0)
    assert len(line.signature) == 8 + 2420 and len(c.public.raw) == 1312
    assert c.public.verify(line, cp) == T0
    # ML-DSA-44 cosignatures do not cover extension lines (C2SP tlog-cosignature).
    assert c.public.verify(line, Checkpoint(ORIGIN, 9, b"\x03" * 32)) == T0
    assert parse_vkey(c.public.vkey()).cosigner() == c.public
    with pytest.raises(CheckpointError):
        CosignerKey("pq.example", 6, b"short")


def _grow(log, n: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    old = log.size
    log.append([b"entry %d" % i for i in range(old, old + n)])
    return log.signed_checkpoint(), old


def test_add_checkpoint_answers(tmp_path: Path) -> None:
    s = setup(tmp_path)
    w = s.witnesses[0]
    note, _ = _grow(s.log, 5)
    ok = w.add_checkpoint(add_checkpoint_body(0, [], note))
    assert ok.status == 200 and ok.text.startswith("\u2014 w0.lab.test ")
    note2, old = _grow(s.log, 7)
    proof = s.log.consistency_proof(old)
    # 409: the witness's size is 5, not 3; body is its size as text/x.tlog.size
    stale = w.add_checkpoint(add_checkpoint_body(3, proof, note2))
    assert (stale.status, stale.content_type, stale.text) == (409, SIZE_TYPE, "5\n")
    bad = [bytes(32)] + proof[1:]
    assert w.add_checkpoint(add_checkpoint_body(5, bad, note2)).status == 422
    assert w.add_checkpoint(add_checkpoint_body(5, proof, note2)).status == 200
    # 404 unknown origin, 403 untrusted signature, 400 malformed / old > size
    other = generate("ed25519", lab=LAB, label="other-log")
    foreign = sign_note(Checkpoint("other.test/log", 1, bytes(32)), "other.test/log", other, rule="c2sp").to_text()
    assert w.add_checkpoint(add_checkpoint_body(0, [], foreign)).status == 404
    forged = sign_note(Checkpoint(ORIGIN, 20, bytes(32)), ORIGIN, other, rule="c2sp").to_text()
    assert w.add_checkpoint(add_checkpoint_body(12, [], forged)).status == 403
    assert w.add_checkpoint(b"old 01\n\n" + note2.encode()).status == 400
    assert w.add_checkpoint(add_checkpoint_body(13, [], note2)).status == 400
    assert w.add_checkpoint(b"nonsense").status == 400
    # state persists: a new witness over the same file knows size 12
    again = Witness({ORIGIN: s.log.public_key}, w.cosigners, state=tmp_path / "w0.json")
    assert again.latest(ORIGIN) == (12, s.log.checkpoint().root_hash)


def test_witness_over_http(tmp_path: Path) -> None:
    s = setup(tmp_path)
    note, _ = _grow(s.log, 4)
    with serve_witness(s.witnesses[1]) as srv:
        answer = submit(srv.url, 0, [], note)
        assert answer.status == 200
        stale = submit(srv.url, 0, [], note)
        assert (stale.status, stale.text) == (409, "4\n")
        assert requests.get(srv.url + "/add-checkpoint", timeout=5).status_code == 405
        big = requests.post(srv.url + "/add-checkpoint", data=b"x" * (1 << 17), timeout=5)
        assert big.status_code in (400, 413)
    with pytest.raises(LogError, match="loopback"):
        submit("http://192.0.2.1:80", 0, [], note)


def test_quorum_two_of_three(tmp_path: Path) -> None:
    s = setup(tmp_path)
    note, _ = _grow(s.log, 3)
    assert explain_quorum(note, s.policy).reason == "witness.quorum"
    one = s.witnesses[0].cosign_note(note, 0, [])
    assert explain_quorum(one, s.policy).reason == "witness.quorum"
    two = s.witnesses[2].cosign_note(one, 0, [])
    result = explain_quorum(two, s.policy)
    assert result.verified and result.cosigned == {"o0", "o2"}
    assert verify_quorum(two, s.policy).size == 3
    # a corrupted cosignature by a listed witness rejects the checkpoint (C2SP signed-note)
    parsed = SignedNote.parse(two)
    w = parsed.signatures[1]
    broken = SignedNote(parsed.text, (parsed.signatures[0], type(w)(w.name, w.key_hint, w.signature[:-1] + b"\0"),
                                      parsed.signatures[2])).to_text()
    with pytest.raises(VerificationError) as err:
        verify_quorum(broken, s.policy)
    assert err.value.reason == "witness.cosignature_invalid"
    # a future timestamp is refused when the verifier gives its time
    assert explain_quorum(two, s.policy, now=T0 - 3600).reason == "witness.cosignature_invalid"


def test_policy_syntax_errors() -> None:
    c = Cosigner.ed25519("w", seed("w"))
    good = f"# comment\nwitness a {c.public.vkey()} http://127.0.0.1:1\nquorum a\n"
    assert parse_policy(good).witness_urls["a"] == "http://127.0.0.1:1"
    assert parse_policy("quorum none\n").quorum == "none"
    for text, match in [("", "no quorum"), ("quorum a\n", "not a witness"),
                        (f"witness a {c.public.vkey()}\nwitness b {c.public.vkey()}\nquorum a\n", "duplicate"),
                        (f"witness a {c.public.vkey()}\ngroup g 2 a\nquorum g\n", "threshold"),
                        (f"witness a {c.public.vkey()}\ngroup g any a b\nquorum g\n", "defined earlier"),
                        ("frob x\nquorum none\n", "line 1"), ("quorum none\nquorum none\n", "exactly one"),
                        ("witness a nokey\nquorum a\n", "line 1"), ("quorum none\x01\n", "control")]:
        with pytest.raises(PolicyError, match=match):
            parse_policy(text)


def test_tlog_proof_export_and_verify(tmp_path: Path) -> None:
    s = setup(tmp_path)
    note, _ = _grow(s.log, 300)
    for w in s.witnesses[:2]:
        note = w.cosign_note(note, 0, [])
    text = export_proof(257, s.log.inclusion_proof(257), note, extra=b"ctx")
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra Y3R4\nindex 257\n")
    parsed = parse_proof(text)
    assert parsed.extra == b"ctx" and parsed.to_text() == text
    assert verify_proof(text, b"entry 257", s.policy).size == 300
    assert explain_proof(text, b"entry 256", s.policy).reason == "tlog.inclusion_proof"
    lonely = export_proof(257, s.log.inclusion_proof(257), s.log.signed_checkpoint())
    assert explain_proof(lonely, b"entry 257", s.policy).reason == "witness.quorum"
    for bad in ("nope\n\nx", text.replace("index 257", "index 0257"), text.replace("\n\n", "\n"),
                text.replace("Y3R4", "***")):
        assert explain_proof(bad, b"entry 257", s.policy).reason == "proof.format"


def test_bundle_quorum_option(tmp_path: Path) -> None:
    from labkit.keyless.trustroot import trusted_root_json
    from labkit.sign import sign_blob
    from labkit.tlog.rekor2 import Rekor2Service, trusted_root_tlog
    from labkit.tsa import TimestampAuthority, tsa_entry
    from labkit.tsa.client import LocalTimestamper
    from labkit.verify import explain_bundle
    from labkit.witness.bundle import require_witness_quorum

    s = setup(tmp_path)
    signer = generate("ecdsa-p256", lab=LAB, label="signer")
    data = b"witnessed artifact\n"
    with Rekor2Service(s.log) as svc:
        bundle = sign_blob(data, signer, tlog=svc.uploader())
    tsa = TimestampAuthority.create(lab=LAB)
    assert bundle.message_signature is not None
    bundle.verification_material.rfc3161_timestamps.append(LocalTimestamper(tsa).timestamp(bundle.message_signature.signature))
    root = trusted_root_json({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [trusted_root_tlog(f"https://{ORIGIN}", s.log.public_key, s.log.key_id,
                                    dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [tsa_entry(tsa.chain).to_dict()]})
    result = require_witness_quorum(explain_bundle(bundle, data, root, key=signer.public_key()), bundle, s.policy)
    assert not result.verified and result.reason == "witness.quorum"
    assert "quorum.met" in result.checklist()
    entry = bundle.verification_material.tlog_entries[0]
    assert entry.inclusion_proof is not None
    note = entry.inclusion_proof.checkpoint
    for w in s.witnesses[1:]:
        note = w.cosign_note(note, 0, [])
    entry.inclusion_proof.checkpoint = note
    result = require_witness_quorum(explain_bundle(bundle, data, root, key=signer.public_key()), bundle, s.policy)
    assert result.verified, result.checklist()
    result.raise_for_failure()
    # the same option from the shell: labkit verify-bundle --witness-policy
    from labkit.cli import main

    files = {"b.json": bundle.to_json().encode(), "root.json": root, "key.pem": signer.public_key().pem(),
             "policy.txt": s.policy.to_text().encode(), "artifact": data}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    argv = ["verify-bundle", "--bundle", str(tmp_path / "b.json"), "--key", str(tmp_path / "key.pem"),
            "--trusted-root", str(tmp_path / "root.json"), "--witness-policy", str(tmp_path / "policy.txt"),
            str(tmp_path / "artifact")]
    assert main(argv) == 0
    entry.inclusion_proof.checkpoint = s.log.signed_checkpoint()  # the log's signature only
    (tmp_path / "b.json").write_text(bundle.to_json())
    assert main(argv) == 1
    assert main(argv[:-3] + [str(tmp_path / "artifact")]) == 0  # without the option: no witness requirement


def test_a_witness_with_both_keys_meets_an_mldsa_only_policy(tmp_path: Path) -> None:
    ok, why = mldsa44_support()
    if not ok:
        pytest.skip(f"ML-DSA-44 unavailable: {why}")
    from labkit.witness.cosignature import log_vkey
    from tests.witness.helpers import raw_key

    s = setup(tmp_path)
    ed, pq = Cosigner.ed25519("dual.example", seed("dual")), Cosigner.mldsa44("dual.example", seed("dual-pq"))
    w = Witness({ORIGIN: s.log.public_key}, [ed, pq], clock=lambda: T0)
    note, _ = _grow(s.log, 2)
    cosigned = w.cosign_note(note, 0, [])
    assert [sig.name for sig in SignedNote.parse(cosigned).signatures] == [ORIGIN, "dual.example", "dual.example"]
    policy = parse_policy(f"log {log_vkey(ORIGIN, raw_key(s.log))}\nwitness pq {pq.public.vkey()}\nquorum pq\n")
    assert explain_quorum(cosigned, policy).cosigned == {"pq"}
    assert verify_quorum(cosigned, policy).size == 2


def test_witness_log_reads_the_log_from_disk_and_over_http(tmp_path: Path) -> None:
    import functools

    from labkit.tlog.tileclient import DirectorySource, TileClient
    from labkit.witness.service import witness_log

    s = setup(tmp_path)
    disk = TileClient(DirectorySource(s.log.directory), origin=ORIGIN, key=s.log.public_key)
    s.log.append([b"x%d" % i for i in range(300)])
    in_process = s.witnesses[0]
    first = witness_log(disk, lambda old, proof, note: in_process.add_checkpoint(add_checkpoint_body(old, proof, note)))
    assert SignedNote.parse(first).signatures[-1].name == "w0.lab.test"
    s.log.append([b"y%d" % i for i in range(40)])
    with serve_witness(s.witnesses[1]) as srv:
        send = functools.partial(submit, srv.url)
        witness_log(disk, send)  # from 0: the witness has nothing yet
        s.log.append([b"z"])
        cosigned = witness_log(disk, send)  # from 0 → 409 "340" → retried with a proof from tiles
        assert SignedNote.parse(cosigned).checkpoint().size == 341
        assert s.witnesses[1].latest(ORIGIN) == (341, s.log.checkpoint().root_hash)
    # a witness that saw a bigger tree than the log now shows: the log gets a clear error
    bigger = Witness({ORIGIN: s.log.public_key}, s.witnesses[2].cosigners, clock=lambda: T0)
    bigger._latest[ORIGIN] = (999, bytes(32))
    with pytest.raises(LogError, match="409"):
        witness_log(disk, lambda old, proof, note: bigger.add_checkpoint(add_checkpoint_body(old, proof, note)))
