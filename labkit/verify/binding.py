"""Binding: the log entry must describe *this* signature, key and artifact.

A valid, logged entry proves only that *something* was logged. Before its
proofs can vouch for the bundle, every field the entry records must equal the
bundle's: the artifact digest, the signature, and the key or certificate
(protobuf-specs ``TransparencyLogEntry.canonicalized_body``: "clients MUST
verify that the signature referenced in the canonicalized_body matches the
signature provided in the Bundle.content"). Skipping this comparison was
GHSA-whqx-f9j3-ch6m (and CVE-2022-36056 before it).

Supported entry kinds: hashedrekord 0.0.1 / 0.0.2 (Rekor v2, also DSSE as
hashedrekord over the PAE digest), dsse 0.0.1 / 0.0.2, intoto 0.0.2.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from labkit._internal import jsonio
from labkit._internal.encoding import b64decode_field, decode_padded_standard
from labkit._internal.jsonio import JSONValue
from labkit.bundle import MAX_BUNDLE_BYTES, MessageSignature
from labkit.errors import BundleFormatError
from labkit.payloads import Envelope

__all__ = ["SUPPORTED_KINDS", "bind_entry"]

#: (kind, version) pairs the verifier can bind.
SUPPORTED_KINDS = (
    ("hashedrekord", "0.0.1"),
    ("hashedrekord", "0.0.2"),
    ("dsse", "0.0.1"),
    ("dsse", "0.0.2"),
    ("intoto", "0.0.2"),
)


@dataclass(frozen=True)
class BindingField:
    """One compared field: which, expected (from the bundle), actual (from the entry)."""

    name: str
    expected: str
    actual: str

    @property
    def matches(self) -> bool:
        """True when the entry records what the bundle carries."""
        return self.expected == self.actual


@dataclass(frozen=True)
class EntryBinding:
    """The comparison of one entry body with the bundle: `error` set when the body cannot be read."""

    kind: str
    version: str
    digest: BindingField | None = None
    key: BindingField | None = None
    signature: BindingField | None = None
    error: str = ""


_PROTO_HASH = {"sha256": "SHA2_256", "sha384": "SHA2_384", "sha512": "SHA2_512"}


class _BodyError(Exception):
    pass


def _get(obj: JSONValue, *path: str) -> JSONValue:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            raise _BodyError(f"entry body has no {'.'.join(path)}")
        obj = obj[p]
    return obj


def _b64(value: JSONValue, what: str) -> bytes:
    if isinstance(value, str):
        padded = decode_padded_standard(value)  # padded standard base64; None: the general path decides
        if padded is not None:
            return padded
    return b64decode_field(value, f"entry body {what}", _BodyError, urlsafe=False)


def _b64_maybe_twice(value: JSONValue, what: str) -> bytes:
    """intoto 0.0.2 stores payload and signatures base64-encoded twice; accept once-encoded values too."""
    once = _b64(value, what)
    try:
        return base64.b64decode(once.decode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return once


def _pem_to_der(pem: bytes) -> bytes:
    """DER of a PEM certificate or public key: the base64 body (RFC 7468); unreadable values compare as themselves."""
    try:
        text = pem.decode("ascii").strip().splitlines()
    except UnicodeDecodeError:
        return b"unreadable:" + pem
    if len(text) < 3 or not text[0].startswith("-----BEGIN ") or not text[-1].startswith("-----END "):
        return b"unreadable:" + pem
    label = text[0][len("-----BEGIN "):].rstrip("-")
    if label not in ("CERTIFICATE", "PUBLIC KEY") or text[-1] != f"-----END {label}-----":
        return b"unreadable:" + pem
    body = "".join(map(str.strip, text[1:-1]))
    padded = decode_padded_standard(body)  # None: the general reading below decides
    if padded is not None:
        return padded
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return b"unreadable:" + pem


def _fp(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


#: Base64 of the first 15 bytes of each PEM header the bodies record ("-----BEGIN CERT", "-----BEGIN PUBL").
_PEM_LABELS = {
    base64.b64encode(f"-----BEGIN {label}"[:15].encode()).decode(): label for label in ("CERTIFICATE", "PUBLIC KEY")
}


def _pem_b64(der: bytes, label: str) -> str:
    """Standard base64 of the PEM form Rekor records for `der`: 64-character lines, a newline after the footer."""
    b64 = binascii.b2a_base64(der, newline=False).decode("ascii")
    lines = "\n".join([b64[i:i + 64] for i in range(0, len(b64), 64)])
    pem = f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
    return binascii.b2a_base64(pem.encode("ascii"), newline=False).decode("ascii")


def _pem_key(value: JSONValue, what: str, name: str, b: _Bundle) -> BindingField:
    """Compare the entry's base64 PEM key or certificate with the signer's (ADR 0006, "PEM key fields").

    When the text is exactly the base64 of the signer's DER in PEM form, the general reading below
    (base64, then PEM, then SHA-256) would decode it to the signer's DER; the comparison is then decided
    without decoding. Anything else takes the general reading.
    """
    if ENTRY_PEM_FASTPATH and isinstance(value, str):
        label = _PEM_LABELS.get(value[:20])
        if label is not None and value == _pem_b64(b.der, label):
            return BindingField(name, b.key, b.key)
    return BindingField(name, b.key, _fp(_pem_to_der(_b64(value, what))))


#: Set to False (tests only) to send every PEM key field through the general reading.
ENTRY_PEM_FASTPATH = True


def _hash_field(h: JSONValue, what: str) -> str:
    alg, value = _get(h, "algorithm"), _get(h, "value")
    if not isinstance(alg, str) or not isinstance(value, str):
        raise _BodyError(f"entry body {what} is malformed")
    return f"{alg}:{value}"


@dataclass(frozen=True)
class _Bundle:
    """What the bundle says, in the forms the entry bodies record it."""

    content: MessageSignature | Envelope
    artifact_digest: tuple[str, bytes]
    key: str  # sha256 fingerprint of the signer's DER
    der: bytes  # the signer's DER (leaf certificate or SubjectPublicKeyInfo)

    @property
    def envelope(self) -> Envelope | None:
        return self.content if isinstance(self.content, Envelope) else None

    @property
    def signature(self) -> bytes:
        if isinstance(self.content, Envelope):
            return self.content.signatures[0].sig
        return self.content.signature

    def require_envelope(self, kind: str) -> Envelope:
        if not isinstance(self.content, Envelope):
            raise _BodyError(f"a{'n' if kind == 'intoto' else ''} {kind} entry needs a DSSE envelope in the bundle")
        return self.content


_Fields = tuple[BindingField, BindingField, BindingField]


def _verifier_der(verifier: JSONValue) -> bytes:
    """The DER of a Rekor v2 ``verifier``: an X.509 certificate or a public key."""
    if isinstance(verifier, dict) and "x509Certificate" in verifier:
        return _b64(_get(verifier, "x509Certificate", "rawBytes"), "verifier.x509Certificate.rawBytes")
    return _b64(_get(verifier, "publicKey", "rawBytes"), "verifier.publicKey.rawBytes")


def _one_signature(sigs: JSONValue, kind: str) -> JSONValue:
    if not isinstance(sigs, list) or len(sigs) != 1:
        raise _BodyError(f"the {kind} entry must record exactly one signature")
    return sigs[0]


def _hashedrekord_v001(spec: JSONValue, b: _Bundle) -> _Fields:
    if b.envelope is not None:
        raise _BodyError("a DSSE envelope cannot be bound to a hashedrekord 0.0.1 entry")
    want_digest = f"{b.artifact_digest[0]}:{b.artifact_digest[1].hex()}"
    digest = BindingField("data.hash", want_digest, _hash_field(_get(spec, "data", "hash"), "data.hash"))
    sig = _b64(_get(spec, "signature", "content"), "signature.content")
    key = _pem_key(_get(spec, "signature", "publicKey", "content"), "signature.publicKey.content",
                   "signature.publicKey", b)
    return digest, key, BindingField("signature.content", b.signature.hex(), sig.hex())


def _hashedrekord_v002(spec: JSONValue, b: _Bundle) -> _Fields:
    inner = _get(spec, "hashedRekordV002")
    data = _get(inner, "data")
    alg = _get(data, "algorithm")
    got = _b64(_get(data, "digest"), "data.digest")
    # Rekor v2 logs DSSE as hashedrekord over SHA-256(PAE(type, payload)) (rekor-v2 spec §6.1.4).
    if b.envelope is not None:
        want_alg, want = "SHA2_256", hashlib.sha256(b.envelope.pae()).digest()
    else:
        want_alg, want = _PROTO_HASH.get(b.artifact_digest[0], b.artifact_digest[0]), b.artifact_digest[1]
    digest = BindingField("data", f"{want_alg}:{want.hex()}", f"{alg}:{got.hex()}")
    sig_obj = _get(inner, "signature")
    sig = _b64(_get(sig_obj, "content"), "signature.content")
    key = BindingField("signature.verifier", b.key, _fp(_verifier_der(_get(sig_obj, "verifier"))))
    return digest, key, BindingField("signature.content", b.signature.hex(), sig.hex())


def _dsse_v002(spec: JSONValue, b: _Bundle) -> _Fields:
    envelope = b.require_envelope("dsse")
    inner = _get(spec, "dsseV002")
    ph = _get(inner, "payloadHash")
    got = _b64(_get(ph, "digest"), "payloadHash.digest")
    digest = BindingField(
        "payloadHash",
        f"SHA2_256:{hashlib.sha256(envelope.payload).hexdigest()}",
        f"{_get(ph, 'algorithm')}:{got.hex()}",
    )
    entry_sig = _one_signature(_get(inner, "signatures"), "dsse")
    sig = _b64(_get(entry_sig, "content"), "signatures[0].content")
    key = BindingField("signatures[0].verifier", b.key, _fp(_verifier_der(_get(entry_sig, "verifier"))))
    return digest, key, BindingField("signatures[0].content", b.signature.hex(), sig.hex())


def _dsse_v001(spec: JSONValue, b: _Bundle) -> _Fields:
    envelope = b.require_envelope("dsse")
    # The envelope hash covers Rekor's re-serialised envelope and cannot be recomputed;
    # the payload hash and the signature list are compared instead.
    digest = BindingField(
        "payloadHash", f"sha256:{hashlib.sha256(envelope.payload).hexdigest()}",
        _hash_field(_get(spec, "payloadHash"), "payloadHash"),
    )
    entry_sig = _one_signature(_get(spec, "signatures"), "dsse")
    sig = _b64(_get(entry_sig, "signature"), "signatures[0].signature")
    key = _pem_key(_get(entry_sig, "verifier"), "signatures[0].verifier", "signatures[0].verifier", b)
    return digest, key, BindingField("signatures[0].signature", b.signature.hex(), sig.hex())


def _intoto_v002(spec: JSONValue, b: _Bundle) -> _Fields:
    envelope = b.require_envelope("intoto")
    env = _get(spec, "content", "envelope")
    payload = _b64_maybe_twice(_get(env, "payload"), "envelope.payload")
    ptype = _get(env, "payloadType")
    actual_digest = _hash_field(_get(spec, "content", "payloadHash"), "content.payloadHash")
    want_digest = f"sha256:{hashlib.sha256(envelope.payload).hexdigest()}"
    if payload != envelope.payload or ptype != envelope.payload_type:
        actual_digest = f"sha256:{hashlib.sha256(payload).hexdigest()} (envelope payload/type differ)"
    digest = BindingField("content.payloadHash", want_digest, actual_digest)
    entry_sig = _one_signature(_get(env, "signatures"), "intoto")
    # intoto 0.0.2 stores the signature base64-encoded twice.
    sig = _b64_maybe_twice(_get(entry_sig, "sig"), "signatures[0].sig")
    key = _pem_key(_get(entry_sig, "publicKey"), "signatures[0].publicKey", "signatures[0].publicKey", b)
    return digest, key, BindingField("signatures[0].sig", b.signature.hex(), sig.hex())


#: One binder per (kind, version): reads the entry's `spec` and compares it with the bundle.
_BINDERS: dict[tuple[str, str], Callable[[JSONValue, _Bundle], _Fields]] = {
    ("hashedrekord", "0.0.1"): _hashedrekord_v001,
    ("hashedrekord", "0.0.2"): _hashedrekord_v002,
    ("dsse", "0.0.1"): _dsse_v001,
    ("dsse", "0.0.2"): _dsse_v002,
    ("intoto", "0.0.2"): _intoto_v002,
}


def _spec(kind: str, version: str, body: bytes) -> JSONValue:
    """The entry body's `spec`, once the body is bounded, strict JSON of the kind the bundle says."""
    doc = jsonio.loads(body, what="entry body", error=BundleFormatError, max_bytes=MAX_BUNDLE_BYTES,
                       reject_duplicate_keys=True)
    if not isinstance(doc, dict):
        raise _BodyError("entry body is not a JSON object")
    if doc.get("kind") != kind or doc.get("apiVersion") != version:
        raise _BodyError(f"entry body says {doc.get('kind')}/{doc.get('apiVersion')}, the bundle says {kind}/{version}")
    if (kind, version) not in SUPPORTED_KINDS:
        raise _BodyError(f"unsupported entry kind {kind}/{version}")
    return _get(doc, "spec")


def bind_entry(
    kind: str,
    version: str,
    body: bytes,
    *,
    artifact_digest: tuple[str, bytes],
    signer_der: bytes,
    content: MessageSignature | Envelope,
) -> EntryBinding:
    """Compare an entry body with the bundle.

    `artifact_digest` is (hash name, digest) of the artifact being verified
    (message signatures), e.g. ``("sha256", ...)``; `signer_der` the leaf certificate DER or the key's SPKI DER;
    `content` a `MessageSignature` or an `Envelope`.
    """
    try:
        spec = _spec(kind, version, body)
        if isinstance(content, Envelope) and len(content.signatures) != 1:
            raise _BodyError("the DSSE envelope must carry exactly one signature")
        bundle = _Bundle(content, artifact_digest, _fp(signer_der), signer_der)
        digest, key, signature = _BINDERS[(kind, version)](spec, bundle)
    except _BodyError as exc:
        return EntryBinding(kind, version, error=str(exc))
    except BundleFormatError as exc:  # the body is not bounded, strict JSON
        return EntryBinding(kind, version, error=exc.message)
    except (ValueError, UnicodeDecodeError) as exc:
        return EntryBinding(kind, version, error=f"entry body is not JSON: {exc}")
    return EntryBinding(kind, version, digest=digest, key=key, signature=signature)
