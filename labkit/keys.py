"""Signing keys and verifying keys.

`SigningKey` and `VerifyingKey` wrap `cryptography` keys with the choices
cosign makes: ECDSA P-256 with SHA-256 by default, P-384 with SHA-384,
Ed25519 (pure, over the message), RSA 3072+ with PKCS#1 v1.5 and SHA-256.

Keys come from `generate` (real randomness) or from a `Lab` seed (teaching:
the same seed gives the same key, and signatures are deterministic). A lab
key says so in its repr and refuses to be saved as a real key.

    >>> from labkit.lab import Lab
    >>> key = generate("ecdsa-p256", lab=Lab(seed="docs"))
    >>> key.public_key().verify(key.sign(b"hi"), b"hi")
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from labkit._internal.fsutil import atomic_write, read_bytes
from labkit.errors import KeyFileError, VerificationError
from labkit.lab import DEFAULT_SEEDS, Lab

__all__ = [
    "KeyAlgorithm",
    "SigningKey",
    "VerifyingKey",
    "generate",
    "lab_key_origin",
    "load_public_key",
    "load_secret_pem",
    "make_private_dir",
    "save_secret_pem",
]

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey


class KeyAlgorithm(str, enum.Enum):
    """Key algorithms labkit generates, named as cosign's `--key-algorithm` flags do (lower-cased)."""

    ECDSA_P256 = "ecdsa-p256"
    ECDSA_P384 = "ecdsa-p384"
    ED25519 = "ed25519"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"

    @property
    def key_details(self) -> str:
        """The protobuf-specs ``PublicKeyDetails`` name (sigstore_common.proto) of keys of this algorithm."""
        return _KEY_DETAILS[self]

    @classmethod
    def parse(cls, value: str | KeyAlgorithm) -> KeyAlgorithm:
        """Accept the enum, its value, or common spellings (``p256``, ``ecdsa-sha2-256-nistp256``)."""
        if isinstance(value, KeyAlgorithm):
            return value
        aliases = {
            "p256": cls.ECDSA_P256, "ecdsa": cls.ECDSA_P256, "ecdsa-sha2-256-nistp256": cls.ECDSA_P256,
            "p384": cls.ECDSA_P384, "ecdsa-sha2-384-nistp384": cls.ECDSA_P384,
            "rsa": cls.RSA_3072, "rsa3072": cls.RSA_3072, "rsa4096": cls.RSA_4096,
        }
        v = str(value).strip().lower()
        if v in aliases:
            return aliases[v]
        try:
            return cls(v)
        except ValueError:
            choices = ", ".join(a.value for a in cls)
            raise KeyFileError(f"unknown key algorithm {value!r}; choose one of {choices}") from None

    @property
    def hash_name(self) -> str:
        """The digest this algorithm signs with (``sha256`` or ``sha384``)."""
        return "sha384" if self is KeyAlgorithm.ECDSA_P384 else "sha256"


_KEY_DETAILS = {
    KeyAlgorithm.ECDSA_P256: "PKIX_ECDSA_P256_SHA_256",
    KeyAlgorithm.ECDSA_P384: "PKIX_ECDSA_P384_SHA_384",
    KeyAlgorithm.ED25519: "PKIX_ED25519",
    KeyAlgorithm.RSA_3072: "PKIX_RSA_PKCS1V15_3072_SHA256",
    KeyAlgorithm.RSA_4096: "PKIX_RSA_PKCS1V15_4096_SHA256",
}


def _algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return KeyAlgorithm.ECDSA_P256
        if isinstance(key.curve, ec.SECP384R1):
            return KeyAlgorithm.ECDSA_P384
        raise KeyFileError(f"unsupported elliptic curve {key.curve.name}; labkit accepts P-256 and P-384")
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return KeyAlgorithm.ED25519
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise KeyFileError(f"RSA key of {key.key_size} bits is too small; labkit accepts 2048 bits and more")
        return KeyAlgorithm.RSA_4096 if key.key_size >= 4096 else KeyAlgorithm.RSA_3072
    raise KeyFileError(f"unsupported key type {type(key).__name__}")


def _hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return hashes.SHA384() if name == "sha384" else hashes.SHA256()


#: ECDSA verification parameters by hash name, built once (`ec.ECDSA` imports the backend on each construction);
#: they hold only the hash and a verification never changes them. As `_hash_algorithm`: any other name is SHA-256.
_ECDSA = {"sha384": ec.ECDSA(hashes.SHA384())}
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = {"sha384": ec.ECDSA(utils.Prehashed(hashes.SHA384()))}
_ECDSA_PREHASHED_SHA256 = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


@dataclass(frozen=True)
class VerifyingKey:
    """A public key that checks signatures."""

    key: PublicKey
    algorithm: KeyAlgorithm

    @classmethod
    def from_key(cls, key: PublicKey) -> VerifyingKey:
        """Wrap a `cryptography` public key."""
        return cls(key, _algorithm_of(key))

    def der(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def pem(self) -> bytes:
        """PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo), as cosign writes ``cosign.pub``."""
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def key_id(self) -> bytes:
        """SHA-256 of the DER SubjectPublicKeyInfo (Rekor's log ID rule; the bundle key hint)."""
        return hashlib.sha256(self.der()).digest()

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise `VerificationError` unless `signature` is valid over `data`."""
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(signature, data, _ECDSA.get(self.algorithm.hash_name, _ECDSA_SHA256))
            elif isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
            else:
                self.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise VerificationError(
                "signature does not verify with this key", step="signature", reason="signature.invalid"
            ) from None

    def verify_digest(self, signature: bytes, digest: bytes, hash_name: str = "sha256") -> None:
        """Raise `VerificationError` unless `signature` is valid over a pre-computed digest.

        Ed25519 signs messages, not digests, so it cannot verify this way.
        """
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            raise KeyFileError("Ed25519 signs the whole message; it cannot verify a bare digest")
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(signature, digest, _ECDSA_PREHASHED.get(hash_name, _ECDSA_PREHASHED_SHA256))
            else:
                self.key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(_hash_algorithm(hash_name)))
        except InvalidSignature:
            raise VerificationError(
                "signature does not verify with this key", step="signature", reason="signature.invalid"
            ) from None
        except ValueError as exc:
            raise VerificationError(
                f"digest is malformed: {exc}", step="signature", reason="signature.invalid"
            ) from None

    def __repr__(self) -> str:
        return f"VerifyingKey({self.algorithm.value}, sha256:{self.key_id().hex()[:16]}…)"


class SigningKey:
    """A private key that signs; `lab` says it was derived from a public seed."""

    def __init__(self, key: PrivateKey, *, lab: bool = False, deterministic: bool | None = None) -> None:
        self.key = key
        self.algorithm = _algorithm_of(key)
        # A key derived from one of labkit's default seeds is lab material however it arrived (a file whose
        # Labkit-Lab header was deleted, a PEM pasted elsewhere).
        self.lab = lab or lab_key_origin(self.public_key()) is not None
        #: RFC 6979 deterministic ECDSA; on by default for lab keys only.
        self.deterministic = lab if deterministic is None else deterministic

    def public_key(self) -> VerifyingKey:
        """The matching `VerifyingKey`."""
        return VerifyingKey(self.key.public_key(), self.algorithm)

    def pkcs8_der(self) -> bytes:
        """Unencrypted PKCS#8 DER (the plaintext inside a cosign key file)."""
        return self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, data: bytes) -> bytes:
        """Sign `data`: DER ECDSA, raw 64-byte Ed25519, or PKCS#1 v1.5 RSA."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            h = _hash_algorithm(self.algorithm.hash_name)
            return self.key.sign(data, ec.ECDSA(h, deterministic_signing=self.deterministic))
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_digest(self, digest: bytes, hash_name: str = "sha256") -> bytes:
        """Sign a pre-computed digest (for streaming large files). Not for Ed25519."""
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            raise KeyFileError("Ed25519 signs the whole message; it cannot sign a bare digest")
        pre = utils.Prehashed(_hash_algorithm(hash_name))
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(digest, ec.ECDSA(pre, deterministic_signing=self.deterministic))
        return self.key.sign(digest, padding.PKCS1v15(), pre)

    def __repr__(self) -> str:
        tag = "LAB " if self.lab else ""
        return f"<SigningKey {tag}{self.algorithm.value} {self.public_key().key_id().hex()[:16]}…>"


def _lab_scalar(lab: Lab, label: str, order: int) -> int:
    """A private scalar in [1, order) derived from the lab seed (rejection sampling)."""
    counter = 0
    while True:
        candidate = int.from_bytes(lab.derive(f"{label}/{counter}", (order.bit_length() + 7) // 8 + 8), "big")
        candidate %= order
        if candidate:
            return candidate
        counter += 1


_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)


_SMALL_PRIMES: tuple[int, ...] = tuple(
    p for p in range(3, 8192, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))
)


def _is_probable_prime(n: int, rounds: int, witness_source: bytes) -> bool:
    """Miller-Rabin with witnesses derived from `witness_source` (deterministic)."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for i in range(rounds):
        a = 2 + int.from_bytes(hmac.new(witness_source, i.to_bytes(4, "big"), hashlib.sha256).digest(), "big") % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _next_prime(start: int, e: int, witness_source: bytes) -> int:
    """The first probable prime p >= start (odd) with gcd(p - 1, e) = 1, sieving small primes first."""
    window = 4096
    base = start | 1
    while True:
        # Sieve the odd candidates base, base+2, ..., base+2*(window-1) against small primes.
        alive = bytearray(b"\x01") * window
        for q in _SMALL_PRIMES:
            r = base % q
            first = ((q - r) * ((q + 1) // 2)) % q  # smallest j with base + 2j ≡ 0 (mod q)
            alive[first::q] = bytes(len(range(first, window, q)))
        for j in range(window):
            if alive[j]:
                candidate = base + 2 * j
                if (candidate - 1) % e and _is_probable_prime(candidate, 40, witness_source):
                    return candidate
        base += 2 * window


def _lab_rsa(lab: Lab, label: str, bits: int) -> rsa.RSAPrivateKey:
    """A seeded RSA key: deterministic sieve + Miller-Rabin prime search, e = 65537."""
    e = 65537
    primes: list[int] = []
    counter = 0
    while len(primes) < 2:
        raw = lab.derive(f"{label}/rsa-prime/{len(primes)}/{counter}", bits // 16)
        counter += 1
        candidate = _next_prime(int.from_bytes(raw, "big") | (3 << (bits // 2 - 2)), e, raw)
        if candidate.bit_length() != bits // 2 or (primes and candidate == primes[0]):
            continue
        primes.append(candidate)
    p, q = sorted(primes, reverse=True)
    n = p * q
    phi = (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, n),
    )
    return numbers.private_key()


def generate(
    algorithm: str | KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
    *,
    lab: Lab | None = None,
    label: str = "key",
) -> SigningKey:
    """Generate a signing key.

    Without `lab` the key is random. With a `Lab`, the key is derived from
    the lab's seed and `label` (the same seed and label give the same key)
    and signs deterministically.
    """
    alg = KeyAlgorithm.parse(algorithm)
    key: PrivateKey
    if lab is None:
        if alg is KeyAlgorithm.ECDSA_P256:
            key = ec.generate_private_key(ec.SECP256R1())
        elif alg is KeyAlgorithm.ECDSA_P384:
            key = ec.generate_private_key(ec.SECP384R1())
        elif alg is KeyAlgorithm.ED25519:
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            key = rsa.generate_private_key(65537, 4096 if alg is KeyAlgorithm.RSA_4096 else 3072)
        return SigningKey(key)
    return SigningKey(_lab_private_key(lab, label, alg), lab=True)


def _lab_private_key(lab: Lab, label: str, alg: KeyAlgorithm) -> PrivateKey:
    full = f"{label}/{alg.value}"
    key: PrivateKey
    if alg is KeyAlgorithm.ECDSA_P256:
        key = ec.derive_private_key(_lab_scalar(lab, full, _P256_ORDER), ec.SECP256R1())
    elif alg is KeyAlgorithm.ECDSA_P384:
        key = ec.derive_private_key(_lab_scalar(lab, full, _P384_ORDER), ec.SECP384R1())
    elif alg is KeyAlgorithm.ED25519:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(lab.derive(full, 32))
    else:
        key = _lab_rsa(lab, full, 4096 if alg is KeyAlgorithm.RSA_4096 else 3072)
    return key


#: (label, algorithm) of the keys labkit derives by default from a seed: `generate`'s default label (what
#: ``generate-key-pair --lab-seed`` writes), a seeded transparency log, a seeded instance, ``labkit demo``.
#: RSA is left out: deriving it takes seconds.
_DEFAULT_LABELS: tuple[tuple[str, KeyAlgorithm], ...] = (
    ("key", KeyAlgorithm.ECDSA_P256), ("key", KeyAlgorithm.ECDSA_P384), ("key", KeyAlgorithm.ED25519),
    ("tlog", KeyAlgorithm.ECDSA_P256), ("demo-signer", KeyAlgorithm.ECDSA_P256),
    ("instance/oidc", KeyAlgorithm.ED25519), ("instance/root-ca", KeyAlgorithm.ECDSA_P384),
    ("instance/intermediate-ca", KeyAlgorithm.ECDSA_P384), ("instance/ctlog", KeyAlgorithm.ECDSA_P256),
    ("instance/tlog", KeyAlgorithm.ECDSA_P256),
)


@functools.lru_cache(maxsize=1)
def _default_lab_keys() -> dict[bytes, str]:
    """Key ID → origin of every default-seed key (derived once per process)."""
    out: dict[bytes, str] = {}
    for seed in DEFAULT_SEEDS:
        lab = Lab(seed=seed)
        for label, alg in _DEFAULT_LABELS:
            pub = VerifyingKey(_lab_private_key(lab, label, alg).public_key(), alg)
            out.setdefault(pub.key_id(), f"lab seed {seed!r}, label {label!r}")
    return out


def lab_key_origin(key: VerifyingKey) -> str | None:
    """Where a lab key comes from (``lab seed 'demo', label 'tlog'``) if it is derived from a default seed.

    The seeds are public, so such a key is public too, whatever file or header it arrives in.
    """
    return _default_lab_keys().get(key.key_id())


def load_public_key(data: bytes) -> VerifyingKey:
    """Parse a PEM ``PUBLIC KEY`` (or DER SubjectPublicKeyInfo)."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            pub = serialization.load_pem_public_key(data)
        else:
            pub = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm, TypeError) as exc:
        raise KeyFileError(f"not a public key: {exc}") from None
    if not isinstance(pub, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey)):
        raise KeyFileError(f"unsupported public key type {type(pub).__name__}")
    return VerifyingKey.from_key(pub)


def make_private_dir(directory: str | os.PathLike[str]) -> Path:
    """Create `directory` (and parents) owner-only, 0700, whatever the umask; an existing one is made 0700 too."""
    path = Path(directory)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def save_secret_pem(key: SigningKey, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write a service's unencrypted PKCS#8 PEM key (a log's, an instance's): mode 0600 in a 0700 directory."""
    target = Path(path)
    make_private_dir(target.parent)
    pem = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return atomic_write(target, pem, mode=0o600, overwrite=overwrite)


def load_secret_pem(path: str | os.PathLike[str], what: str) -> SigningKey:
    """Read a key `save_secret_pem` wrote; `KeyFileError` when it is not an unencrypted PEM private key."""
    try:
        private = serialization.load_pem_private_key(read_bytes(path, what), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"{what} ({path}) is not an unencrypted PEM private key") from None
    if not isinstance(private, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
        raise KeyFileError(f"{what} ({path}) has an unsupported key type {type(private).__name__}")
    return SigningKey(private)
