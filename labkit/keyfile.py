"""cosign's encrypted private-key files.

A cosign key file is PEM whose body is JSON (go-securesystemslib
``encrypted`` package, as cosign ``pkg/cosign/keys.go`` writes it)::

    {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64>"},
     "cipher":{"name":"nacl/secretbox","nonce":"<b64>"},"ciphertext":"<b64>"}

The key is scrypt(password, salt, N, r, p, 32) (RFC 7914); the ciphertext is
NaCl secretbox (XSalsa20-Poly1305) of the PKCS#8 DER private key (RFC 5208).
New files use the PEM type ``ENCRYPTED SIGSTORE PRIVATE KEY``; the legacy
``ENCRYPTED COSIGN PRIVATE KEY`` is read too. Like cosign, only three scrypt
parameter sets are accepted (a tampered N must not become a denial of
service) and only PKCS#8 plaintext.

Lab keys (derived from a public seed) refuse to be written unless
``allow_lab=True``; the file then carries a ``Labkit-Lab: true`` PEM header
so the key is recognised as lab material when read back (cosign ignores PEM
headers).
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from labkit._internal.fsutil import atomic_write_all, read_bytes
from labkit.checks import CheckResult, Recorder, Step
from labkit.errors import InputError, KeyFileError, LabkitError, LabModeError, PasswordError
from labkit.keys import SigningKey, VerifyingKey, load_public_key
from labkit.lab import Lab

__all__ = [
    "COSIGN_PEM_TYPE", "SIGSTORE_PEM_TYPE", "KEY_FILE_STEPS", "explain_key_file", "inspect_key_file",
    "load_private_key", "load_public_key_file", "read_password", "save_key_pair",
]

SIGSTORE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"
_PEM_TYPES = (SIGSTORE_PEM_TYPE, COSIGN_PEM_TYPE)
_LAB_HEADER = "Labkit-Lab"

#: The (N, r, p) sets cosign's decrypt accepts: Legacy, Standard, OWASP (go-securesystemslib `CheckParams`).
_SCRYPT_PARAMETER_SETS: tuple[tuple[int, int, int], ...] = ((32768, 8, 1), (65536, 8, 1), (131072, 8, 1))
#: cosign >= 2.2 encrypts with the Standard set.
_DEFAULT_SCRYPT_N = 65536

_SALT_SIZE = 32
_NONCE_SIZE = nacl.secret.SecretBox.NONCE_SIZE  # 24
_KEY_SIZE = nacl.secret.SecretBox.KEY_SIZE  # 32


@dataclass(frozen=True)
class EncryptedKeyInfo:
    """What an encrypted key file says about itself, before any password is used."""

    pem_type: str
    kdf: str
    n: int
    r: int
    p: int
    salt: bytes
    cipher: str
    nonce: bytes
    ciphertext: bytes
    lab: bool

    @property
    def plaintext_size(self) -> int:
        """Length of the PKCS#8 plaintext (ciphertext minus the 16-byte Poly1305 tag)."""
        return max(0, len(self.ciphertext) - nacl.secret.SecretBox.MACBYTES)

    def parameters_accepted(self) -> bool:
        """True when (N, r, p) is one of the three sets cosign accepts."""
        return (self.n, self.r, self.p) in _SCRYPT_PARAMETER_SETS


@dataclass(frozen=True)
class KeyPairPaths:
    """Where `save_key_pair` wrote the private and public key."""

    private: Path
    public: Path


def _password_bytes(password: str | bytes) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # RFC 7914 needs 128*r*N bytes for V plus 128*r*p for B; hashlib's default maxmem is 32 MiB.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=_KEY_SIZE, maxmem=maxmem)


def _pem_encode(pem_type: str, body: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    b64 = base64.b64encode(body).decode("ascii")
    lines = [f"-----BEGIN {pem_type}-----"]
    if headers:
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        lines.append("")
    lines.extend(b64[i : i + 64] for i in range(0, len(b64), 64))
    lines.append(f"-----END {pem_type}-----")
    return ("\n".join(lines) + "\n").encode("ascii")


_PEM_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END ([A-Z0-9 ]+)-----", re.DOTALL
)


def _pem_decode(data: bytes) -> tuple[str, dict[str, str], bytes]:
    m = _PEM_RE.search(data)
    if m is None:
        raise KeyFileError(
            "not a PEM file: no '-----BEGIN ...-----' block found",
            hint="A cosign private key starts with '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----'.",
        )
    pem_type = m.group(1).decode("ascii")
    if m.group(3).decode("ascii") != pem_type:
        raise KeyFileError("PEM BEGIN and END lines name different types", details={"begin": pem_type})
    headers: dict[str, str] = {}
    body_lines: list[bytes] = []
    in_headers = True
    for raw in m.group(2).splitlines():
        line = raw.strip()
        if in_headers and b":" in line:
            k, _, v = line.decode("ascii", "replace").partition(":")
            headers[k.strip()] = v.strip()
            continue
        in_headers = False
        if line:
            body_lines.append(line)
    try:
        body = base64.b64decode(b"".join(body_lines), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError("PEM body is not valid base64; the key file is corrupt") from None
    return pem_type, headers, body


def _b64field(obj: Mapping[str, object], name: str, where: str) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str):
        raise KeyFileError(f"encrypted key: {where}.{name} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"encrypted key: {where}.{name} is not valid base64") from None


def _parse_int(obj: Mapping[str, object], name: str) -> int:
    value = obj.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise KeyFileError(f"encrypted key: kdf.params.{name} is missing or not an integer")
    return value


def _read_pem(data: bytes | str) -> tuple[str, dict[str, str], bytes]:
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    pem_type, headers, body = _pem_decode(raw)
    if pem_type not in _PEM_TYPES:
        raise KeyFileError(
            f"unsupported PEM type {pem_type!r}; cosign key files are {SIGSTORE_PEM_TYPE!r} or {COSIGN_PEM_TYPE!r}",
            details={"pem type": pem_type},
        )
    return pem_type, headers, body


def _parse_envelope(pem_type: str, headers: Mapping[str, str], body: bytes) -> EncryptedKeyInfo:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise KeyFileError("encrypted key: the PEM body is not JSON; the key file is corrupt") from None
    if not isinstance(doc, dict):
        raise KeyFileError("encrypted key: the PEM body is not a JSON object")
    kdf, cipher = doc.get("kdf"), doc.get("cipher")
    if not isinstance(kdf, dict) or not isinstance(cipher, dict):
        raise KeyFileError("encrypted key: 'kdf' or 'cipher' is missing")
    params = kdf.get("params")
    if not isinstance(params, dict):
        raise KeyFileError("encrypted key: kdf.params is missing")
    return EncryptedKeyInfo(
        pem_type=pem_type,
        kdf=str(kdf.get("name")),
        n=_parse_int(params, "N"),
        r=_parse_int(params, "r"),
        p=_parse_int(params, "p"),
        salt=_b64field(kdf, "salt", "kdf"),
        cipher=str(cipher.get("name")),
        nonce=_b64field(cipher, "nonce", "cipher"),
        ciphertext=_b64field(doc, "ciphertext", "envelope"),
        lab=headers.get(_LAB_HEADER, "").lower() == "true",
    )


def inspect_key_file(data: bytes | str) -> EncryptedKeyInfo:
    """Parse an encrypted key file's PEM and JSON envelope without decrypting it.

    Raises `KeyFileError` for a wrong PEM type or a malformed envelope. Does
    not judge the scrypt parameters (see `EncryptedKeyInfo.parameters_accepted`).
    """
    return _parse_envelope(*_read_pem(data))


def _is_pkcs8(der: bytes) -> bool:
    """True if `der` looks like PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER, SEQUENCE AlgorithmIdentifier, ... }.

    SEC1 `ECPrivateKey` has an OCTET STRING and PKCS#1 `RSAPrivateKey` an
    INTEGER where PKCS#8 has the AlgorithmIdentifier SEQUENCE (RFC 5208 §5).
    """

    def skip_len(pos: int) -> int | None:
        if pos >= len(der):
            return None
        first = der[pos]
        if first < 0x80:
            return pos + 1
        count = first & 0x7F
        if count == 0 or count > 4 or pos + 1 + count > len(der):
            return None
        return pos + 1 + count

    if len(der) < 8 or der[0] != 0x30:
        return False
    pos = skip_len(1)
    if pos is None or pos >= len(der) or der[pos] != 0x02:  # version INTEGER
        return False
    lpos = skip_len(pos + 1)
    if lpos is None:
        return False
    vlen = der[pos + 1]
    if vlen >= 0x80:
        return False
    pos = lpos + vlen
    return pos < len(der) and der[pos] == 0x30


@dataclass
class KeyFileCheck(CheckResult):
    """The ordered checks of `explain_key_file`, the key when they all passed, else the error."""

    subject: str = "key file"
    key: SigningKey | None = None
    #: The `KeyFileError` (or `PasswordError`) of the failed step.
    error_raised: KeyFileError | None = None

    passed_verdict: ClassVar[str] = "OPENED"
    failed_verdict: ClassVar[str] = "REFUSED"

    @property
    def verified(self) -> bool:
        """True when the file opened and yielded a supported key."""
        return self.key is not None and self.error_raised is None and super().verified

    def error(self, step: Step | None) -> LabkitError:
        """The failed step's own `KeyFileError` (a `PasswordError` for a wrong password)."""
        if self.error_raised is not None:
            return self.error_raised
        return KeyFileError(
            f"key file refused at {step.id}: {step.detail}" if step else "key file check did not complete"
        )


#: The checks `explain_key_file` makes, in order: id -> (title, spec).
KEY_FILE_STEPS: dict[str, tuple[str, str]] = {
    "pem": ("The file is PEM of a cosign private-key type", "RFC 7468; cosign pkg/cosign/keys.go"),
    "envelope": ("The PEM body is the JSON envelope (kdf, cipher, ciphertext)", "go-securesystemslib encrypted"),
    "kdf": ("scrypt with one of the three accepted parameter sets", "RFC 7914; go-securesystemslib CheckParams"),
    "cipher": ("NaCl secretbox with a 24-byte nonce", "NaCl crypto_secretbox (XSalsa20-Poly1305)"),
    "decrypt": ("The password opens the box (Poly1305 tag matches)", "NaCl crypto_secretbox_open"),
    "pkcs8": ("The plaintext is a PKCS#8 private key", "RFC 5208 §5"),
    "key_type": ("The key is ECDSA P-256/P-384, Ed25519 or RSA", "cosign supported key types"),
}


def explain_key_file(data: bytes | str, password: str | bytes) -> KeyFileCheck:
    """Open a cosign key file step by step; never raises on bad input (see `decrypt_private_key`)."""
    result = KeyFileCheck()
    state: dict[str, object] = {}
    pem_parts: list[tuple[str, dict[str, str], bytes]] = []

    def pem() -> str:
        pem_parts.append(_read_pem(data))
        pem_type, headers, _ = pem_parts[0]
        return pem_type + (" (marked as a lab key)" if headers.get(_LAB_HEADER, "").lower() == "true" else "")

    def envelope() -> str:
        state["info"] = _parse_envelope(*pem_parts[0])
        return "kdf, cipher and ciphertext present"

    def kdf() -> str:
        info = state["info"]
        assert isinstance(info, EncryptedKeyInfo)
        if info.kdf != "scrypt":
            raise KeyFileError(f"encrypted key: unknown kdf {info.kdf!r}; cosign uses 'scrypt'")
        if not info.parameters_accepted():
            raise KeyFileError(
                "unsupported scrypt parameters",
                hint="cosign accepts only N=32768, 65536 or 131072 with r=8, p=1; the file may have been tampered "
                     "with.",
                details={"N": info.n, "r": info.r, "p": info.p},
            )
        return f"N={info.n} r={info.r} p={info.p}"

    def cipher() -> str:
        info = state["info"]
        assert isinstance(info, EncryptedKeyInfo)
        if info.cipher != "nacl/secretbox":
            raise KeyFileError(f"encrypted key: unknown cipher {info.cipher!r}; cosign uses 'nacl/secretbox'")
        if len(info.nonce) != _NONCE_SIZE:
            raise KeyFileError(
                "encrypted key: incorrect nonce size", details={"expected": _NONCE_SIZE, "actual": len(info.nonce)}
            )
        return f"{len(info.ciphertext)}-byte ciphertext"

    def decrypt() -> str:
        info = state["info"]
        assert isinstance(info, EncryptedKeyInfo)
        secret = _scrypt(_password_bytes(password), info.salt, info.n, info.r, info.p)
        try:
            state["plaintext"] = nacl.secret.SecretBox(secret).decrypt(info.ciphertext, info.nonce)
        except nacl.exceptions.CryptoError:
            raise PasswordError(
                "decryption failed: wrong password (or the key file was modified)",
                hint="Check the password (COSIGN_PASSWORD or the prompt); the Poly1305 tag did not match.",
            ) from None
        return f"{info.plaintext_size} bytes of plaintext"

    def pkcs8() -> str:
        plaintext = state["plaintext"]
        assert isinstance(plaintext, bytes)
        if not _is_pkcs8(plaintext):
            raise KeyFileError(
                "failed to parse private key: the plaintext is not PKCS#8 (a SEC1 or PKCS#1 key?)",
                hint="cosign only loads PKCS#8 private keys; re-create the key with `labkit generate-key-pair`"
                " or `cosign generate-key-pair`.",
            )
        try:
            state["private"] = serialization.load_der_private_key(plaintext, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise KeyFileError(f"failed to parse private key: {exc}") from None
        return "PrivateKeyInfo"

    def key_type() -> str:
        private = state["private"]
        if not isinstance(private, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
            raise KeyFileError(f"unsupported private key type {type(private).__name__}")
        info = state["info"]
        assert isinstance(info, EncryptedKeyInfo)
        result.key = SigningKey(private, lab=info.lab)
        return result.key.algorithm.value

    checks = {"pem": pem, "envelope": envelope, "kdf": kdf, "cipher": cipher, "decrypt": decrypt,
              "pkcs8": pkcs8, "key_type": key_type}

    def body(run: Recorder[KeyFileCheck]) -> None:
        for step_id, check in checks.items():
            try:
                detail = check()
            except KeyFileError as exc:
                result.error_raised = exc
                result.key = None
                raise run.fail(step_id, exc.message) from None
            run.passed(step_id, detail)

    return Recorder(result, KEY_FILE_STEPS).run(body)


def decrypt_private_key(data: bytes | str, password: str | bytes) -> SigningKey:
    """Decrypt a cosign key file and return its `SigningKey`.

    Raises `KeyFileError` for a malformed file, unsupported scrypt parameters
    or a non-PKCS#8 plaintext, and `PasswordError` when the password is wrong.
    Built on `explain_key_file`: the error is the failed step's.
    """
    result = explain_key_file(data, password)
    result.raise_for_failure()
    assert result.key is not None
    return result.key


def encrypt_private_key(
    key: SigningKey,
    password: str | bytes,
    *,
    pem_type: str = SIGSTORE_PEM_TYPE,
    n: int = _DEFAULT_SCRYPT_N,
    allow_lab: bool = False,
    lab: Lab | None = None,
) -> bytes:
    """Encrypt `key` into cosign's PEM format (scrypt + secretbox around PKCS#8).

    Salt and nonce are random; with `lab` they come from the lab seed, so a
    notebook writes the same file every run. A lab key needs
    ``allow_lab=True`` (`LabModeError` otherwise) and is marked in the PEM.
    """
    if key.lab and not allow_lab:
        raise LabModeError(
            "refusing to write a lab key (derived from a public seed) as a private key file",
            hint="Anyone who knows the seed has this key. Pass allow_lab=True (--lab-seed on the CLI) on purpose.",
        )
    if pem_type not in _PEM_TYPES:
        raise KeyFileError(f"unsupported PEM type {pem_type!r}")
    if (n, 8, 1) not in _SCRYPT_PARAMETER_SETS:
        raise KeyFileError("unsupported scrypt parameters", details={"N": n, "r": 8, "p": 1})
    if lab is not None:
        salt = lab.random_bytes("keyfile/salt", _SALT_SIZE)
        nonce = lab.random_bytes("keyfile/nonce", _NONCE_SIZE)
    else:
        salt, nonce = os.urandom(_SALT_SIZE), os.urandom(_NONCE_SIZE)
    secret = _scrypt(_password_bytes(password), salt, n, 8, 1)
    ciphertext = nacl.secret.SecretBox(secret).encrypt(key.pkcs8_der(), nonce).ciphertext
    # Field order and compact separators as Go's encoding/json writes the struct.
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    body = json.dumps(doc, separators=(",", ":")).encode()
    headers = {_LAB_HEADER: "true"} if key.lab else None
    return _pem_encode(pem_type, body, headers)


def read_password(
    *,
    confirm: bool = False,
    env: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> bytes:
    """The key password: ``COSIGN_PASSWORD`` if set (even empty), else a prompt on a terminal.

    With `confirm`, the prompt asks twice and refuses a mismatch. Without a
    terminal and without the variable it raises `PasswordError`.
    """
    environ = os.environ if env is None else env
    if "COSIGN_PASSWORD" in environ:
        return environ["COSIGN_PASSWORD"].encode("utf-8")
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if prompt is None:
        if not interactive:
            raise PasswordError(
                "no password: COSIGN_PASSWORD is not set and there is no terminal to prompt on",
                hint="Set COSIGN_PASSWORD (it may be empty) or run the command in a terminal.",
            )
        prompt = getpass.getpass
    first = prompt("Enter password for private key: ")
    if confirm:
        again = prompt("Enter password for private key again: ")
        if again != first:
            raise PasswordError("passwords do not match")
    return first.encode("utf-8")


def save_key_pair(
    key: SigningKey,
    prefix: str | os.PathLike[str] = "cosign",
    *,
    password: str | bytes,
    force: bool = False,
    allow_lab: bool = False,
    lab: Lab | None = None,
    n: int = _DEFAULT_SCRYPT_N,
) -> KeyPairPaths:
    """Write ``<prefix>.key`` (encrypted, mode 0600) and ``<prefix>.pub`` (PEM public key).

    Existing files are refused unless `force`; the pair is written as one
    (`atomic_write_all`): if either file cannot be written, neither changes.
    """
    base = Path(prefix)
    priv_path = base.with_name(base.name + ".key")
    pub_path = base.with_name(base.name + ".pub")
    if not force:
        for p in (priv_path, pub_path):
            if p.exists():
                raise InputError(
                    f"{p} already exists; refusing to overwrite a key",
                    hint="Pass --force (force=True) to replace it, or choose another --output-key-prefix.",
                )
    pem = encrypt_private_key(key, password, allow_lab=allow_lab, lab=lab, n=n)
    # Both files or neither: a failed second write restores (or removes) the first.
    atomic_write_all([(priv_path, pem, 0o600), (pub_path, key.public_key().pem(), 0o644)], overwrite=force)
    return KeyPairPaths(priv_path, pub_path)


def load_private_key(path: str | os.PathLike[str], password: str | bytes | None = None) -> SigningKey:
    """Read and decrypt a cosign key file; without `password`, use `read_password()`."""
    data = read_bytes(path, "private key")
    inspect_key_file(data)  # fail on a malformed file before asking for a password
    if password is None:
        password = read_password()
    return decrypt_private_key(data, password)


def load_public_key_file(path: str | os.PathLike[str]) -> VerifyingKey:
    """Read a PEM ``PUBLIC KEY`` file (as `cosign.pub`)."""
    data = read_bytes(path, "public key")
    return load_public_key(data)


def load_key_pair(prefix: str | os.PathLike[str], password: str | bytes | None = None) -> SigningKey:
    """Load ``<prefix>.key`` and check that ``<prefix>.pub`` (if present) matches it."""
    base = Path(prefix)
    key = load_private_key(base.with_name(base.name + ".key"), password)
    pub_path = base.with_name(base.name + ".pub")
    if pub_path.exists():
        pub = load_public_key_file(pub_path)
        if pub.der() != key.public_key().der():
            raise KeyFileError(
                f"{pub_path} does not belong to the private key beside it",
                details={"public key": repr(pub), "private key's public key": repr(key.public_key())},
            )
    return key
