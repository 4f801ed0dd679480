"""cosign encrypted key files: the cosign vectors, round trips, refusals, atomic 0600 writes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.secret
import pytest
from cryptography.hazmat.primitives import serialization

from labkit.errors import InputError, KeyFileError, LabModeError, PasswordError
from labkit.keyfile import (
    COSIGN_PEM_TYPE,
    SIGSTORE_PEM_TYPE,
    decrypt_private_key,
    encrypt_private_key,
    inspect_key_file,
    load_key_pair,
    load_private_key,
    load_public_key_file,
    read_password,
    save_key_pair,
)
from labkit.keys import KeyAlgorithm, SigningKey, generate
from labkit.lab import Lab


@pytest.fixture(scope="module")
def vectors(shared_dir: Path) -> Path:
    return shared_dir / "vectors" / "cosign-keys"


@pytest.mark.parametrize("name", ["pemcosignkey.pem", "pemsigstorekey.pem"])
def test_loads_cosign_vectors(vectors: Path, name: str) -> None:
    data = (vectors / name).read_bytes()
    info = inspect_key_file(data)
    assert (info.n, info.r, info.p) == (32768, 8, 1)
    assert len(info.salt) == 32 and len(info.nonce) == 24 and len(info.ciphertext) == 154
    key = decrypt_private_key(data, "hello")
    assert key.algorithm is KeyAlgorithm.ECDSA_P256
    assert not key.lab
    key.public_key().verify(key.sign(b"payload"), b"payload")


def test_refuses_sec1_key_like_cosign(vectors: Path) -> None:
    data = (vectors / "pemcosigneckey.pem").read_bytes()
    assert inspect_key_file(data).n == 65536
    with pytest.raises(KeyFileError, match="not PKCS#8") as exc:
        decrypt_private_key(data, "hello")
    assert not isinstance(exc.value, PasswordError)


@pytest.mark.parametrize("name", ["pemcosignkey.pem", "pemsigstorekey.pem", "pemcosigneckey.pem"])
def test_wrong_password(vectors: Path, name: str) -> None:
    with pytest.raises(PasswordError, match="wrong password"):
        decrypt_private_key((vectors / name).read_bytes(), "hellO")


def _independent_decrypt(pem: bytes, password: bytes) -> bytes:
    """A second reading of the format, straight from its description (not via labkit)."""
    lines = [line for line in pem.decode().splitlines() if line and not line.startswith("-----") and ":" not in line]
    doc = json.loads(base64.b64decode("".join(lines)))
    params = doc["kdf"]["params"]
    secret = hashlib.scrypt(
        password, salt=base64.b64decode(doc["kdf"]["salt"]), n=params["N"], r=params["r"], p=params["p"],
        dklen=32, maxmem=256 << 20,
    )
    box = nacl.secret.SecretBox(secret)
    return box.decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"])
def test_round_trip(alg: str, lab: Lab) -> None:
    key = generate(alg, lab=None if alg.startswith("rsa") else lab)  # seeded RSA is slow
    pem = encrypt_private_key(key, "pw", allow_lab=True, lab=lab)
    assert pem.startswith(f"-----BEGIN {SIGSTORE_PEM_TYPE}-----\n".encode())
    back = decrypt_private_key(pem, "pw")
    assert back.pkcs8_der() == key.pkcs8_der()
    assert back.lab == key.lab
    assert _independent_decrypt(pem, b"pw") == key.pkcs8_der()
    serialization.load_der_private_key(_independent_decrypt(pem, b"pw"), None)


def test_real_key_format_matches_cosign_layout(vectors: Path) -> None:
    """Same JSON field order, compact separators, 64-column PEM, no headers, as cosign writes."""
    key = generate("ecdsa-p256")
    pem = encrypt_private_key(key, b"hello")
    assert b"Labkit-Lab" not in pem
    assert all(len(line) <= 64 for line in pem.splitlines())
    ours = json.loads(base64.b64decode(b"".join(pem.splitlines()[1:-1])))
    theirs_raw = base64.b64decode(b"".join((vectors / "pemsigstorekey.pem").read_bytes().splitlines()[1:-1]))
    theirs = json.loads(theirs_raw)
    assert list(ours) == list(theirs) == ["kdf", "cipher", "ciphertext"]
    assert list(ours["kdf"]) == list(theirs["kdf"])
    assert list(ours["kdf"]["params"]) == ["N", "r", "p"]
    assert ours["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1}
    body = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    assert body == json.dumps(ours, separators=(",", ":")).encode()
    assert _independent_decrypt(pem, b"hello") == key.pkcs8_der()


def test_reads_legacy_pem_type_and_all_three_parameter_sets() -> None:
    key = generate("ed25519")
    for n in (32768, 65536, 131072):
        pem = encrypt_private_key(key, "", pem_type=COSIGN_PEM_TYPE, n=n)
        assert inspect_key_file(pem).pem_type == COSIGN_PEM_TYPE
        assert decrypt_private_key(pem, "").pkcs8_der() == key.pkcs8_der()


def _rewrite(pem: bytes, mutate: Callable[[dict[str, Any]], object]) -> bytes:
    lines = pem.decode().splitlines()
    doc = json.loads(base64.b64decode("".join(lines[1:-1])))
    mutate(doc)
    body = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
    return f"{lines[0]}\n{body}\n{lines[-1]}\n".encode()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["kdf"]["params"].update(N=1 << 30), "unsupported scrypt parameters"),
        (lambda d: d["kdf"]["params"].update(N=16384), "unsupported scrypt parameters"),
        (lambda d: d["kdf"]["params"].update(r=1), "unsupported scrypt parameters"),
        (lambda d: d["kdf"].update(name="pbkdf2"), "unknown kdf"),
        (lambda d: d["cipher"].update(name="aes-gcm"), "unknown cipher"),
        (lambda d: d["cipher"].update(nonce=base64.b64encode(b"x" * 12).decode()), "incorrect nonce size"),
        (lambda d: d.pop("ciphertext"), "ciphertext"),
        (lambda d: d["kdf"].update(salt="%%%"), "not valid base64"),
        (lambda d: d["kdf"]["params"].update(N="65536"), "not an integer"),
    ],
)
def test_tampered_envelopes_refused(mutate: Callable[[dict[str, Any]], object], message: str) -> None:
    pem = _rewrite(encrypt_private_key(generate("ed25519"), "pw"), mutate)
    with pytest.raises(KeyFileError, match=message):
        decrypt_private_key(pem, "pw")


def test_tampered_ciphertext_is_a_password_error() -> None:
    def flip(d: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(d["ciphertext"]))
        raw[-1] ^= 1
        d["ciphertext"] = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(PasswordError):
        decrypt_private_key(_rewrite(encrypt_private_key(generate("ed25519"), "pw"), flip), "pw")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a PEM file"),
        (b"garbage", "not a PEM file"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unsupported PEM type"),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            "not valid base64",
        ),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE "
            b"KEY-----\n",
            "not JSON",
        ),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nW10=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            "not a JSON object",
        ),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n",
            "different types",
        ),
    ],
)
def test_malformed_files(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        decrypt_private_key(data, "pw")


def test_truncated_file(vectors: Path) -> None:
    data = (vectors / "pemsigstorekey.pem").read_bytes()
    with pytest.raises(KeyFileError):
        decrypt_private_key(data[: len(data) // 2], "hello")


def test_lab_keys_refused_unless_allowed(tmp_path: Path, lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab)
    with pytest.raises(LabModeError):
        encrypt_private_key(key, "pw")
    with pytest.raises(LabModeError):
        save_key_pair(key, tmp_path / "k", password="pw")
    assert not list(tmp_path.iterdir())
    pem = encrypt_private_key(key, "pw", allow_lab=True)
    assert b"Labkit-Lab: true" in pem


def test_lab_file_is_deterministic() -> None:
    a = encrypt_private_key(generate("ed25519", lab=Lab("s")), "pw", allow_lab=True, lab=Lab("s"))
    b = encrypt_private_key(generate("ed25519", lab=Lab("s")), "pw", allow_lab=True, lab=Lab("s"))
    assert a == b


def test_save_key_pair(tmp_path: Path) -> None:
    key = generate("ecdsa-p256")
    paths = save_key_pair(key, tmp_path / "cosign", password="pw")
    assert stat.S_IMODE(os.stat(paths.private).st_mode) == 0o600
    assert paths.public.read_bytes() == key.public_key().pem()
    assert load_public_key_file(paths.public).der() == key.public_key().der()
    assert load_key_pair(tmp_path / "cosign", "pw").pkcs8_der() == key.pkcs8_der()
    before = paths.private.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        save_key_pair(generate("ecdsa-p256"), tmp_path / "cosign", password="pw")
    assert paths.private.read_bytes() == before
    other = generate("ed25519")
    save_key_pair(other, tmp_path / "cosign", password="pw", force=True)
    assert load_private_key(paths.private, "pw").pkcs8_der() == other.pkcs8_der()
    assert stat.S_IMODE(os.stat(paths.private).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cosign.key", "cosign.pub"]


def test_mismatched_pair(tmp_path: Path) -> None:
    save_key_pair(generate("ed25519"), tmp_path / "a", password="pw")
    save_key_pair(generate("ed25519"), tmp_path / "b", password="pw")
    (tmp_path / "a.pub").write_bytes((tmp_path / "b.pub").read_bytes())
    with pytest.raises(KeyFileError, match="does not belong"):
        load_key_pair(tmp_path / "a", "pw")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_private_key(tmp_path / "nope.key", "pw")


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_password(env={"COSIGN_PASSWORD": ""}) == b""
    assert read_password(env={"COSIGN_PASSWORD": "héllo"}) == "héllo".encode()
    with pytest.raises(PasswordError, match="COSIGN_PASSWORD"):
        read_password(env={}, interactive=False)
    answers = iter(["a", "a"])
    assert read_password(env={}, prompt=lambda _: next(answers), confirm=True) == b"a"
    answers = iter(["a", "b"])
    with pytest.raises(PasswordError, match="do not match"):
        read_password(env={}, prompt=lambda _: next(answers), confirm=True)
    save_key_pair(generate("ed25519"), tmp_path / "k", password="envpw")
    monkeypatch.setenv("COSIGN_PASSWORD", "envpw")
    load_private_key(tmp_path / "k.key")


def test_explain_key_file_steps(vectors: Path) -> None:
    from labkit.keyfile import KEY_FILE_STEPS, explain_key_file

    ok = explain_key_file((vectors / "pemsigstorekey.pem").read_bytes(), "hello")
    assert ok.verified and ok.reason == "" and ok.key is not None
    assert [s.id for s in ok.steps] == list(KEY_FILE_STEPS)
    assert all(s.status == "passed" for s in ok.steps)
    assert ok.checklist().endswith("OPENED")

    wrong = explain_key_file((vectors / "pemsigstorekey.pem").read_bytes(), "nope")
    assert not wrong.verified and wrong.reason == "decrypt" and isinstance(wrong.error_raised, PasswordError)
    assert [s.status for s in wrong.steps] == ["passed"] * 4 + ["failed", "skipped", "skipped"]

    sec1 = explain_key_file((vectors / "pemcosigneckey.pem").read_bytes(), "hello")
    assert sec1.reason == "pkcs8"
    assert explain_key_file(b"junk", "x").reason == "pem"
    assert explain_key_file(
        b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        "x").reason == "envelope"
    tampered = _rewrite(encrypt_private_key(generate("ed25519"), "pw"), lambda d: d["kdf"]["params"].update(N=1 << 40))
    assert explain_key_file(tampered, "pw").reason == "kdf"


def test_explain_key_file_renders_as_checklist(vectors: Path) -> None:
    from labkit.display import checklist
    from labkit.keyfile import explain_key_file

    out = checklist(explain_key_file((vectors / "pemcosigneckey.pem").read_bytes(), "hello"))
    assert "REFUSED (pkcs8)" in repr(out)


def _pem_of(body: bytes) -> bytes:
    b64 = base64.b64encode(body).decode()
    return f"-----BEGIN {SIGSTORE_PEM_TYPE}-----\n{b64}\n-----END {SIGSTORE_PEM_TYPE}-----\n".encode()


def test_deeply_nested_envelope() -> None:
    with pytest.raises(KeyFileError):
        decrypt_private_key(_pem_of(b"[" * 100000 + b"]" * 100000), "pw")


def test_fuzzed_envelopes_raise_only_key_file_errors() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                          max_leaves=8)
    fields = st.fixed_dictionaries({}, optional={
        "kdf": st.one_of(values, st.fixed_dictionaries(
            {"name": st.sampled_from(["scrypt", "x"]), "params": values, "salt": values})),
        "cipher": values,
        "ciphertext": values,
    })

    @settings(max_examples=80, deadline=None)
    @given(doc=fields)
    def run(doc: dict[str, Any]) -> None:
        with contextlib.suppress(KeyFileError):
            decrypt_private_key(_pem_of(json.dumps(doc).encode()), "pw")

    run()


def test_concurrent_writers_never_mix_a_pair(tmp_path: Path) -> None:
    """Eight writers race for the same prefix: one wins, the others are refused, the pair matches."""
    from concurrent.futures import ThreadPoolExecutor

    keys = [generate("ed25519") for _ in range(8)]

    def write(key: SigningKey) -> SigningKey | None:
        try:
            save_key_pair(key, tmp_path / "cosign", password="pw", n=32768)
            return key
        except InputError:
            return None

    with ThreadPoolExecutor(8) as pool:
        winners = [k for k in pool.map(write, keys) if k is not None]
    assert len(winners) == 1
    loaded = load_key_pair(tmp_path / "cosign", "pw")
    assert loaded.pkcs8_der() == winners[0].pkcs8_der()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cosign.key", "cosign.pub"]
