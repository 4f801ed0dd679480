"""PKCS#11 signing: the private key stays on the token; labkit sends a digest and gets a signature back.

Built on python-pkcs11 (the ``keys`` extra). `generate_on_token` makes an
ECDSA P-256/P-384 or RSA key pair on the token with the private half
sensitive and never extractable; `Pkcs11Signer.open` finds a key by the
URI's token/slot and object/id, logs in with the PIN (``pin-value``,
``pin-source`` or ``COSIGN_PKCS11_PIN``) and signs digests: CKM_ECDSA over
the digest (the raw r||s the token returns is DER-encoded, as cosign
writes ECDSA) or CKM_RSA_PKCS over the DigestInfo (PKCS#1 v1.5). Every
signature is checked against the public key before it is returned.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pkcs11
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11._pkcs11 import lib as Pkcs11Library
from pkcs11.exceptions import PKCS11Error
from pkcs11.types import SignMixin

from labkit import systools
from labkit.errors import LabkitError
from labkit.keys import KeyAlgorithm, VerifyingKey
from labkit.signers.base import KeyURIError, check_digest, redact_uri, sign_by_digest
from labkit.signers.uri import Pkcs11URI

__all__ = ["softhsm_module"]

#: Where Debian, Fedora and Homebrew install SoftHSM v2's module (declared once, in `labkit.systools`).
_SOFTHSM_MODULES = systools.tool("softhsm2-util").libraries
_MAX_PIN_FILE = 256
#: (module, token serial) → SHA-256 of the PIN that logged this process in (PKCS#11 logins are per process).
_LOGGED_IN: dict[tuple[str, str], bytes] = {}
#: CKA_EC_PARAMS (DER namedCurve OID, RFC 5480) and the curve, per algorithm.
_CURVES = {KeyAlgorithm.ECDSA_P256: (bytes.fromhex("06082a8648ce3d030107"), ec.SECP256R1()),
           KeyAlgorithm.ECDSA_P384: (bytes.fromhex("06052b81040022"), ec.SECP384R1())}
#: DER DigestInfo prefixes (RFC 8017 §9.2 note 1) for CKM_RSA_PKCS over a digest.
_DIGEST_INFO = {"sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
                "sha384": bytes.fromhex("3041300d060960864801650304020205000430")}


def softhsm_module() -> str | None:
    """The SoftHSM v2 module on this machine, if any (None when ``LABKIT_DISABLE_TOOLS`` names softhsm2-util)."""
    return systools.library("softhsm2-util")


def _library(uri: Pkcs11URI) -> Pkcs11Library:
    path = Path(uri.module_path)
    if not path.is_file():
        raise KeyURIError(f"no PKCS#11 module at {uri.module_path}", uri=uri.text, part="module-path",
                          hint="Install the module (Debian: apt-get install softhsm2) or fix module-path.")
    try:
        return pkcs11.lib(str(path))
    except PKCS11Error as exc:
        raise KeyURIError(f"{uri.module_path} is not a loadable PKCS#11 module: {exc}", uri=uri.text,
                          part="module-path") from None


def _token(lib: Pkcs11Library, uri: Pkcs11URI) -> pkcs11.Token:
    for attempt in range(2):
        try:
            if uri.slot_id is not None:
                for slot in lib.get_slots(token_present=True):
                    if slot.slot_id == uri.slot_id:
                        return slot.get_token()
                raise pkcs11.NoSuchToken(f"no slot {uri.slot_id}")
            return lib.get_token(token_label=uri.token)
        except pkcs11.NoSuchToken:
            if attempt == 0:
                lib.reinitialize()  # a token created after the module was loaded (softhsm2-util --init-token)
    part = "slot-id" if uri.slot_id is not None else "token"
    shown = uri.slot_id if uri.slot_id is not None else repr(uri.token)
    raise KeyURIError(f"no PKCS#11 token {shown} in {uri.module_path}", uri=uri.text, part=part,
                      hint="List the tokens (softhsm2-util --show-slots) and check token= / slot-id=; for "
                      "SoftHSM, check SOFTHSM2_CONF.")


def _pin(uri: Pkcs11URI) -> tuple[str, str]:
    """(PIN, the URI part it came from)."""
    if uri.pin_value is not None:
        return uri.pin_value, "pin-value"
    if uri.pin_source is not None:
        source = uri.pin_source[len("file:"):] if uri.pin_source.startswith("file:") else uri.pin_source
        try:
            with open(source, "rb") as fh:
                raw = fh.read(_MAX_PIN_FILE + 1)
        except OSError as exc:
            raise KeyURIError(f"cannot read the PIN from {source}: {exc.strerror}", uri=uri.text,
                              part="pin-source") from None
        if len(raw) > _MAX_PIN_FILE:
            raise KeyURIError(f"the PIN file {source} is longer than {_MAX_PIN_FILE} bytes", uri=uri.text,
                              part="pin-source")
        return raw.decode("utf-8", "replace").rstrip("\r\n"), "pin-source"
    env = os.environ.get("COSIGN_PKCS11_PIN")
    if env is not None:
        return env, "COSIGN_PKCS11_PIN"
    raise KeyURIError("the token needs a PIN: add pin-value=… or pin-source=FILE, or set COSIGN_PKCS11_PIN",
                      uri=uri.text, part="pin-value")


def _session(uri: Pkcs11URI, *, rw: bool = False) -> pkcs11.Session:
    token = _token(_library(uri), uri)
    pin, part = _pin(uri)
    login = (uri.module_path, token.serial.hex() if isinstance(token.serial, bytes) else str(token.serial))
    wrong = KeyURIError(f"the token {uri.token or uri.slot_id!r} refused the PIN", uri=uri.text, part=part,
                        hint="Check the PIN; tokens lock after a few wrong tries.")
    try:
        session = token.open(user_pin=pin, rw=rw)
    except pkcs11.UserAlreadyLoggedIn:
        # The login is per token and process: check this PIN against the one that logged in (a token has one).
        known = _LOGGED_IN.get(login)
        if known is None or not hmac.compare_digest(known, hashlib.sha256(pin.encode()).digest()):
            raise wrong from None
        return token.open(rw=rw)
    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid):
        raise wrong from None
    except pkcs11.PinLocked:
        raise KeyURIError("the token's user PIN is locked", uri=uri.text, part=part,
                          hint="The security officer must reset it (with SoftHSM: re-create the token).") from None
    except PKCS11Error as exc:
        raise KeyURIError(f"cannot open a session on the token: {type(exc).__name__}", uri=uri.text,
                          part="token") from None
    _LOGGED_IN[login] = hashlib.sha256(pin.encode()).digest()
    return session


def _find(session: pkcs11.Session, uri: Pkcs11URI, cls: ObjectClass) -> pkcs11.Object:
    query: dict[Attribute, object] = {Attribute.CLASS: cls}
    if uri.object_id:
        query[Attribute.ID] = uri.object_id
    if uri.object_label:
        query[Attribute.LABEL] = uri.object_label
    found = list(session.get_objects(query))
    part = "id" if uri.object_id and not uri.object_label else "object"
    what = "private key" if cls == ObjectClass.PRIVATE_KEY else "public key"
    if not found:
        raise KeyURIError(f"the token holds no {what} with this object/id", uri=uri.text, part=part)
    if len(found) > 1:
        raise KeyURIError(f"the token holds {len(found)} {what}s with this object/id; add id= to pick one",
                          uri=uri.text, part=part)
    return found[0]


def _verifying_key(public: pkcs11.Object, uri: Pkcs11URI) -> VerifyingKey:
    key_type = public[Attribute.KEY_TYPE]
    if key_type == KeyType.EC:
        params = bytes(public[Attribute.EC_PARAMS])
        for oid, curve in _CURVES.values():
            if params == oid:
                point = bytes(public[Attribute.EC_POINT])
                # CKA_EC_POINT is DER OCTET STRING (tag 04, a length, the point); SoftHSM and most tokens wrap it.
                if len(point) > 2 and point[0] == 0x04 and point[1] in (0x41, 0x61):
                    point = point[2:]
                return VerifyingKey.from_key(ec.EllipticCurvePublicKey.from_encoded_point(curve, point))
        raise KeyURIError("the token's EC key is on a curve labkit does not use (P-256, P-384)", uri=uri.text,
                          part="object")
    if key_type == KeyType.RSA:
        n = int.from_bytes(bytes(public[Attribute.MODULUS]), "big")
        e = int.from_bytes(bytes(public[Attribute.PUBLIC_EXPONENT]), "big")
        return VerifyingKey.from_key(rsa.RSAPublicNumbers(e, n).public_key())
    raise KeyURIError(f"the token's key type {key_type!r} is not ECDSA or RSA (Ed25519 cannot sign a digest)",
                      uri=uri.text, part="object")


class Pkcs11Signer:
    """A key on a PKCS#11 token, used through one logged-in session (`close` ends it)."""

    lab = False

    def __init__(self, uri: Pkcs11URI, session: pkcs11.Session, private: SignMixin, public: VerifyingKey) -> None:
        self.uri = uri
        self._session = session
        self._private = private
        self._public = public

    @classmethod
    def open(cls, uri: Pkcs11URI) -> Pkcs11Signer:
        """Log in to the URI's token and find its key pair (a `KeyURIError` naming the part at fault)."""
        session = _session(uri)
        try:
            private = _find(session, uri, ObjectClass.PRIVATE_KEY)
            if not isinstance(private, SignMixin):
                raise KeyURIError("the private key cannot sign", uri=uri.text, part="object")
            public = _verifying_key(_find(session, uri, ObjectClass.PUBLIC_KEY), uri)
        except BaseException:
            session.close()
            raise
        return cls(uri, session, private, public)

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The key's algorithm."""
        return self._public.algorithm

    @property
    def location(self) -> str:
        """The module, token and object (never the PIN)."""
        return self.uri.describe()

    def public_key(self) -> VerifyingKey:
        """The token's public key."""
        return self._public

    def sign_digest(self, digest: bytes, hash_name: str = "sha256") -> bytes:
        """Send the digest to the token; DER ECDSA or PKCS#1 v1.5 comes back, checked before it is returned."""
        check_digest(self.algorithm, digest, hash_name, self.uri.text)
        try:
            if self._public.algorithm in _CURVES:
                raw = self._private.sign(digest, mechanism=Mechanism.ECDSA)  # r || s, each the curve's size
                half = len(raw) // 2
                signature = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
            else:
                signature = self._private.sign(_DIGEST_INFO[hash_name] + digest, mechanism=Mechanism.RSA_PKCS)
        except PKCS11Error as exc:
            raise KeyURIError(f"the token refused to sign: {type(exc).__name__}", uri=self.uri.text,
                              part="object") from None
        try:
            self._public.verify_digest(signature, digest, hash_name)
        except LabkitError:
            raise KeyURIError("the token's signature does not verify with its public key", uri=self.uri.text,
                              part="object") from None
        return signature

    def sign(self, data: bytes) -> bytes:
        """Hash here, sign the digest on the token."""
        return sign_by_digest(self, data)

    def close(self) -> None:
        """End the session (the token logs out when its last session closes)."""
        self._session.close()

    def __repr__(self) -> str:
        return f"<Pkcs11Signer {redact_uri(self.uri.text)} {self.algorithm.value}>"


def generate_on_token(uri: Pkcs11URI, algorithm: str | KeyAlgorithm) -> VerifyingKey:
    """Generate a key pair on the token, private half sensitive and never extractable; the public key."""
    alg = KeyAlgorithm.parse(algorithm)
    if alg is KeyAlgorithm.ED25519:
        raise KeyURIError("Ed25519 cannot sign a digest; generate ecdsa-p256, ecdsa-p384 or rsa-3072 on a token",
                          uri=uri.text, part="key algorithm")
    if not uri.object_label:
        raise KeyURIError("name the new key: object=LABEL", uri=uri.text, part="object")
    with _session(uri, rw=True) as session:
        if list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: uri.object_label})):
            raise KeyURIError(f"the token already holds a key labelled {uri.object_label!r}", uri=uri.text,
                              part="object", hint="Choose another object= label; labkit never replaces a key.")
        key_id = uri.object_id or os.urandom(8)
        common = {Attribute.TOKEN: True, Attribute.LABEL: uri.object_label, Attribute.ID: key_id}
        public_t = {**common, Attribute.VERIFY: True, Attribute.PRIVATE: False}
        private_t = {**common, Attribute.SIGN: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                     Attribute.PRIVATE: True}
        try:
            if alg in _CURVES:
                params = session.create_domain_parameters(
                    KeyType.EC, {Attribute.EC_PARAMS: _CURVES[alg][0]}, local=True)
                public, _ = params.generate_keypair(store=True, public_template=public_t, private_template=private_t)
            else:
                bits = 4096 if alg is KeyAlgorithm.RSA_4096 else 3072
                public, _ = session.generate_keypair(KeyType.RSA, bits, store=True, public_template=public_t,
                                                     private_template=private_t)
        except PKCS11Error as exc:
            raise KeyURIError(f"the token could not generate the key: {type(exc).__name__}", uri=uri.text,
                              part="token") from None
        return _verifying_key(public, uri)


def read_public_key(uri: Pkcs11URI) -> VerifyingKey:
    """The public key of the URI's object (a login is needed only when the URI gives a PIN)."""
    if uri.pin_value is None and uri.pin_source is None and "COSIGN_PKCS11_PIN" not in os.environ:
        token = _token(_library(uri), uri)
        try:
            with token.open() as session:
                return _verifying_key(_find(session, uri, ObjectClass.PUBLIC_KEY), uri)
        except PKCS11Error as exc:
            raise KeyURIError(f"cannot read the token: {type(exc).__name__}", uri=uri.text, part="token") from None
    with _session(uri) as session:
        return _verifying_key(_find(session, uri, ObjectClass.PUBLIC_KEY), uri)
