"""Keyless signing through the services a signing config names, over loopback HTTP, as cosign v3 signs.

`sign_with_config` runs the keyless flow against whatever CA, log and
TSAs `SigningConfig` selects: an ephemeral ECDSA P-256 key; a certificate from
the CA's Fulcio v2 API (``POST /api/v2/signingCert``, public key and proof of
possession); the signature; a timestamp from each selected TSA; an entry in
each selected log; one bundle v0.3. The payload kind decides what is signed
and logged: `BlobPayload` (``sign-blob``: the SHA-256 digest, hashedrekord
0.0.1 with a SET in Rekor v1, 0.0.2 in Rekor v2) or `DssePayload` (``attest``
and cosign v3 image signatures: a DSSE envelope, dsse 0.0.1 in Rekor v1, a
hashedrekord 0.0.2 over SHA-256(PAE) in Rekor v2). `sign_blob_with_config` is
the blob case. labkit talks to loopback services only, so a config naming a remote CA
or log is refused, as `labkit.tlog.client.RekorClient` refuses remote logs.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal import jsonio
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, MessageSignature, TransparencyLogEntry, VerificationMaterial
from labkit.errors import KeylessError
from labkit.hashing import proto_name
from labkit.keyless.ca import CertificateRequest
from labkit.keys import SigningKey, generate
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Envelope, sign_envelope
from labkit.sign import open_artifact
from labkit.signingconfig import SigningConfig
from labkit.timestamping import Timestamper, add_timestamps, timestampers_for
from labkit.tlog.client import RekorClient
from labkit.tlog.entries import LogEntry
from labkit.tlog.rekor2 import dsse_request, hashedrekord_request
from labkit.tlog.rekor2_client import Rekor2Client
from labkit.tlog.uploaders import SUPPORTED_REKOR_APIS, Rekor2Logged

__all__ = ["BlobPayload", "DssePayload", "PayloadKind", "sign_blob_with_config", "sign_with_config"]

#: One log's answer: a Rekor v1 entry (with its SET) or a Rekor v2 entry (none).
Logged = LogEntry | Rekor2Logged

#: What a payload kind signs into the bundle: a message signature (blob) or a DSSE envelope.
_C = TypeVar("_C", MessageSignature, Envelope)


class PayloadKind(Protocol[_C]):
    """A payload kind of `sign_with_config` (`BlobPayload`, `DssePayload`): what is signed, and how it is logged."""

    def sign(self, key: SigningKey) -> _C:
        """The bundle content: `key`'s signature over the payload."""

    def log(self, url: str, api: int, content: _C, signer: Certified) -> Logged:
        """Log `content` in the log at `url` speaking Rekor API `api` (1 or 2)."""

#: A leaf and a two-certificate chain in PEM are about 3 KiB.
_MAX_CA_RESPONSE_BYTES = 256 * 1024


def _loopback_url(url: str, what: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise KeylessError(f"refusing to contact the {what} at {url}: labkit talks to loopback services only",
                           hint="Name the services `labkit serve` printed (http://127.0.0.1:PORT) in the signing "
                           "config.")
    return url.rstrip("/")


def request_certificate(ca_url: str, token: str, request: CertificateRequest,
                        *, timeout: float = 30.0) -> list[x509.Certificate]:
    """The leaf and chain a Fulcio v2 CA issues for `token` and the requested key (leaf first)."""
    body = {
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": request.public_key.pem().decode()},
                             "proofOfPossession": base64.b64encode(request.proof).decode()},
    }
    url = _loopback_url(ca_url, "CA") + "/api/v2/signingCert"
    try:
        with requests.post(url, json=body, timeout=timeout, stream=True) as reply:
            data = reply.raw.read(_MAX_CA_RESPONSE_BYTES + 1, decode_content=True)
            status = reply.status_code
    except requests.RequestException as exc:
        raise KeylessError(f"cannot reach the CA at {url}: {exc}") from None
    if len(data) > _MAX_CA_RESPONSE_BYTES:
        raise KeylessError(f"the CA at {url} sent more than {_MAX_CA_RESPONSE_BYTES} bytes")
    doc = jsonio.loads(data, what=f"the CA's answer from {url}")
    if status != 200:
        message = doc.get("message") if isinstance(doc, dict) else None
        raise KeylessError(f"the CA at {url} refused: HTTP {status}" + (f": {message}" if message else ""))
    try:
        pems: jsonio.JSONValue = doc
        for key in ("signedCertificateEmbeddedSct", "chain", "certificates"):
            if not isinstance(pems, dict):
                raise TypeError(key)
            pems = pems[key]
        if not isinstance(pems, list):
            raise TypeError("certificates")
        chain = [x509.load_pem_x509_certificate(str(p).encode()) for p in pems]
    except (KeyError, TypeError, ValueError):
        raise KeylessError(f"the CA at {url} did not answer with signedCertificateEmbeddedSct.chain") from None
    if not chain:
        raise KeylessError(f"the CA at {url} sent an empty chain")
    return chain


class BlobPayload:
    """A blob to sign: its SHA-256 digest is signed and logged as a hashedrekord (``sign-blob``)."""

    def __init__(self, data_or_path: bytes | str | os.PathLike[str]) -> None:
        self.artifact = open_artifact(data_or_path, "sha256")  # hashed first: an unreadable file fails here

    def sign(self, key: SigningKey) -> MessageSignature:
        """The message signature over the digest (prehashed, as cosign signs blobs)."""
        signature = key.sign_digest(self.artifact.digest, self.artifact.hash_name)
        return MessageSignature(digest=self.artifact.digest, signature=signature, algorithm=proto_name("sha256"))

    def log(self, url: str, api: int, content: MessageSignature, signer: Certified) -> Logged:
        """Rekor v1: hashedrekord 0.0.1 (PEM leaf, SET); Rekor v2: hashedrekord 0.0.2 (DER leaf, no SET)."""
        if api == 2:
            request = hashedrekord_request(content.digest, content.signature, signer.key.public_key(),
                                           certificate_der=signer.leaf_der())
            return Rekor2Logged(TransparencyLogEntry.from_dict(Rekor2Client(url).create_entry(request), "tlogEntry"))
        return RekorClient(url).upload_hashedrekord(content.signature, signer.leaf_pem(), content.digest)


class DssePayload:
    """A payload (an in-toto statement) to sign in a DSSE envelope and log as a DSSE entry (``attest``)."""

    def __init__(self, payload: bytes, payload_type: str = INTOTO_PAYLOAD_TYPE) -> None:
        self.payload = payload
        self.payload_type = payload_type

    def sign(self, key: SigningKey) -> Envelope:
        """The DSSE envelope: one signature over PAE(type, payload)."""
        return sign_envelope(self.payload, self.payload_type, key)

    def log(self, url: str, api: int, content: Envelope, signer: Certified) -> Logged:
        """Rekor v1: dsse 0.0.1 (envelope and PEM leaf, SET); Rekor v2: hashedrekord 0.0.2 over SHA-256(PAE)."""
        if api == 2:
            request = dsse_request(content, signer.key.public_key(), certificate_der=signer.leaf_der())
            return Rekor2Logged(TransparencyLogEntry.from_dict(Rekor2Client(url).create_entry(request), "tlogEntry"))
        return RekorClient(url).upload_dsse(content.to_json(), [signer.leaf_pem()])


@dataclass(frozen=True)
class Certified:
    """An ephemeral key and the chain (leaf first) the signing config's CA issued for it."""

    key: SigningKey
    chain: list[x509.Certificate]

    def leaf_pem(self) -> bytes:
        """The leaf certificate in PEM (what a Rekor v1 entry records as the verifier)."""
        return self.chain[0].public_bytes(serialization.Encoding.PEM)

    def leaf_der(self) -> bytes:
        """The leaf certificate in DER (what the bundle carries)."""
        return self.chain[0].public_bytes(serialization.Encoding.DER)

    def chain_pem(self) -> bytes:
        """The intermediate and root certificates in PEM (cosign's ``dev.sigstore.cosign/chain``)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain[1:])


@dataclass(frozen=True)
class ConfigSigned:
    """What `sign_with_config` produced: the bundle v0.3, the certified key, and each log's entry."""

    bundle: Bundle
    signer: Certified
    logged: list[Logged]

    def rekor_bundle(self) -> dict[str, Any] | None:
        """cosign's legacy ``dev.sigstore.cosign/bundle`` of the first Rekor v1 entry (None without one)."""
        return next((b for b in (e.rekor_bundle() for e in self.logged) if b is not None), None)


def sign_with_config(
    config: SigningConfig,
    payload: PayloadKind[_C],
    *,
    identity_token: str,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> ConfigSigned:
    """Keyless signing of `payload` (a blob or a DSSE payload) through `config`'s CA, TSAs and logs.

    `timestampers` overrides the config's TSAs (e.g. wrapped to verify against a trusted root).
    """
    when = now or _dt.datetime.now(_dt.timezone.utc)
    ca = config.ca(when)
    logs = [(_loopback_url(log.url, "log"), log.major_api_version)
            for log in config.tlogs(when, SUPPORTED_REKOR_APIS)]
    stampers = list(timestampers) if timestampers is not None else timestampers_for(config, now=when)
    if not logs and not stampers:
        raise KeylessError("the signing config names neither a log nor a TSA: the signature would have no "
                           "verifiable time")
    key = generate("ecdsa-p256")
    signer = Certified(key, request_certificate(ca.url, identity_token, CertificateRequest.create(key, identity_token)))
    content = payload.sign(key)
    # Timestamp before logging, as sigstore-python does: the TSA vouches for the signature's time.
    stamped = add_timestamps(Bundle(BUNDLE_V03_MEDIA_TYPE, VerificationMaterial(), content), stampers)
    logged = [payload.log(url, api, content, signer) for url, api in logs]
    material = VerificationMaterial(
        certificate=signer.leaf_der(),
        tlog_entries=[entry.to_bundle_entry() for entry in logged],
        rfc3161_timestamps=stamped.verification_material.rfc3161_timestamps,
    )
    return ConfigSigned(Bundle(BUNDLE_V03_MEDIA_TYPE, material, content), signer, logged)


def sign_blob_with_config(
    config: SigningConfig,
    data_or_path: bytes | str | os.PathLike[str],
    *,
    identity_token: str,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> Bundle:
    """Keyless ``sign-blob`` through `config`'s CA, TSAs and logs; the bundle v0.3 (`sign_with_config`)."""
    return sign_with_config(config, BlobPayload(data_or_path), identity_token=identity_token, now=now,
                            timestampers=timestampers).bundle
