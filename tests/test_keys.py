"""Keys: generation per algorithm, lab determinism, sign/verify, prehashed digests, errors."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from labkit.errors import KeyFileError, VerificationError
from labkit.keys import KeyAlgorithm, SigningKey, VerifyingKey, generate, load_public_key
from labkit.lab import Lab

FAST = ["ecdsa-p256", "ecdsa-p384", "ed25519"]


@pytest.fixture(scope="module")
def lab_rsa() -> SigningKey:
    return generate("rsa-3072", lab=Lab(seed="k"), label="x")


@pytest.mark.parametrize("alg", FAST)
def test_lab_keys_are_reproducible_and_marked(alg: str) -> None:
    a = generate(alg, lab=Lab(seed="k"), label="x")
    b = generate(alg, lab=Lab(seed="k"), label="x")
    c = generate(alg, lab=Lab(seed="k"), label="y")
    assert a.pkcs8_der() == b.pkcs8_der() != c.pkcs8_der()
    assert a.lab and a.deterministic
    assert "LAB" in repr(a)
    assert a.sign(b"m") == b.sign(b"m")  # RFC 6979 / Ed25519 / PKCS#1 v1.5 are deterministic
    a.public_key().verify(a.sign(b"m"), b"m")


@pytest.mark.parametrize("alg", FAST)
def test_real_keys_are_random(alg: str) -> None:
    a, b = generate(alg), generate(alg)
    assert a.pkcs8_der() != b.pkcs8_der()
    assert not a.lab and "LAB" not in repr(a)
    assert a.algorithm is KeyAlgorithm.parse(alg)


@pytest.mark.slow
def test_lab_rsa_is_reproducible(lab_rsa: SigningKey) -> None:
    """Seeded RSA (a deterministic prime search in Python) takes seconds: one extra key only."""
    assert isinstance(lab_rsa.key, rsa.RSAPrivateKey) and lab_rsa.key.key_size == 3072
    assert lab_rsa.lab and "LAB" in repr(lab_rsa)
    again = generate("rsa-3072", lab=Lab(seed="k"), label="x")
    assert again.pkcs8_der() == lab_rsa.pkcs8_der()
    assert lab_rsa.sign(b"m") == again.sign(b"m")
    lab_rsa.public_key().verify(lab_rsa.sign(b"m"), b"m")


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ecdsa-p384", "rsa-3072"])
def test_prehashed_matches_message_signing(alg: str, lab: Lab) -> None:
    key = generate(alg) if alg.startswith("rsa") else generate(alg, lab=lab)
    h = key.algorithm.hash_name
    digest = hashlib.new(h, b"message").digest()
    sig = key.sign_digest(digest, h)
    key.public_key().verify(sig, b"message")
    key.public_key().verify_digest(key.sign(b"message"), digest, h)
    with pytest.raises(VerificationError):
        key.public_key().verify_digest(sig, hashlib.new(h, b"other").digest(), h)


def test_ed25519_refuses_digests(lab: Lab) -> None:
    key = generate("ed25519", lab=lab)
    with pytest.raises(KeyFileError):
        key.sign_digest(b"\0" * 32)
    with pytest.raises(KeyFileError):
        key.public_key().verify_digest(b"\0" * 64, b"\0" * 32)


@pytest.mark.parametrize("alg", FAST)
def test_bad_signature(alg: str, lab: Lab) -> None:
    key = generate(alg, lab=lab)
    sig = bytearray(key.sign(b"m"))
    sig[-1] ^= 1
    with pytest.raises(VerificationError) as exc:
        key.public_key().verify(bytes(sig), b"m")
    assert exc.value.reason == "signature.invalid"
    with pytest.raises(VerificationError):
        key.public_key().verify(key.sign(b"m"), b"n")


def test_algorithm_parsing() -> None:
    assert KeyAlgorithm.parse("P256") is KeyAlgorithm.ECDSA_P256
    assert KeyAlgorithm.parse("ecdsa-sha2-384-nistp384") is KeyAlgorithm.ECDSA_P384
    assert KeyAlgorithm.parse("rsa4096") is KeyAlgorithm.RSA_4096
    assert KeyAlgorithm.ECDSA_P384.hash_name == "sha384"
    with pytest.raises(KeyFileError, match="unknown key algorithm"):
        KeyAlgorithm.parse("dsa")


def test_public_key_pem_round_trip(lab: Lab) -> None:
    pub = generate("ecdsa-p256", lab=lab).public_key()
    assert pub.pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert load_public_key(pub.pem()) == pub
    assert load_public_key(pub.der()).der() == pub.der()
    assert pub.key_id() == hashlib.sha256(pub.der()).digest()
    assert repr(pub).startswith("VerifyingKey(ecdsa-p256, sha256:")


@pytest.mark.parametrize(
    "data", [b"", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", b"\x30\x03\x02\x01"]
)
def test_load_public_key_errors(data: bytes) -> None:
    with pytest.raises(KeyFileError):
        load_public_key(data)


@pytest.mark.filterwarnings("ignore:DSA is deprecated")  # the DSA key is made only to be refused
def test_unsupported_key_types() -> None:
    with pytest.raises(KeyFileError, match="curve"):
        SigningKey(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(KeyFileError, match="unsupported key type"):
        SigningKey(dsa.generate_private_key(1024))  # type: ignore[arg-type]
    small = rsa.generate_private_key(65537, 1024)
    with pytest.raises(KeyFileError, match="too small"):
        VerifyingKey.from_key(small.public_key())
