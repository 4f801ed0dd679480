"""Keyless signing through the services a signing config names, over loopback HTTP, as cosign v3 signs.

`sign_blob_with_config` runs the keyless flow against whatever CA, log and
TSAs `SigningConfig` selects: an ephemeral ECDSA P-256 key; a certificate from
the CA's Fulcio v2 API (``POST /api/v2/signingCert``, public key and proof of
possession); the signature over the SHA-256 digest; a timestamp from each
selected TSA; a hashedrekord entry in each selected log (Rekor v1: 0.0.1 with a
SET; Rekor v2: 0.0.2, no SET); one bundle
v0.3. labkit talks to loopback services only, so a config naming a remote CA
or log is refused, as `labkit.tlog.client.RekorClient` refuses remote logs.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import os
from collections.abc import Sequence
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
from labkit.sign import open_artifact
from labkit.signingconfig import Service, SigningConfig
from labkit.timestamping import Timestamper, add_timestamps, timestampers_for
from labkit.tlog.client import RekorClient
from labkit.tlog.rekor2 import hashedrekord_request
from labkit.tlog.rekor2_client import Rekor2Client
from labkit.tlog.uploaders import SUPPORTED_REKOR_APIS

__all__ = ["sign_blob_with_config"]

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


def _upload(log: Service, signature: bytes, leaf_pem: bytes, leaf_der: bytes, digest: bytes,
            key: SigningKey) -> TransparencyLogEntry:
    """Log the signature in `log` by its API version: Rekor v1 hashedrekord 0.0.1, or v2 hashedrekord 0.0.2."""
    url = _loopback_url(log.url, "log")
    if log.major_api_version == 2:
        request = hashedrekord_request(digest, signature, key.public_key(), certificate_der=leaf_der)
        return TransparencyLogEntry.from_dict(Rekor2Client(url).create_entry(request), "tlogEntry")
    return RekorClient(url).upload_hashedrekord(signature, leaf_pem, digest).to_bundle_entry()


def sign_blob_with_config(
    config: SigningConfig,
    data_or_path: bytes | str | os.PathLike[str],
    *,
    identity_token: str,
    now: _dt.datetime | None = None,
    timestampers: Sequence[Timestamper] | None = None,
) -> Bundle:
    """Keyless ``sign-blob`` through `config`'s CA, TSAs and logs; the bundle v0.3.

    `timestampers` overrides the config's TSAs (e.g. wrapped to verify against a trusted root).
    """
    when = now or _dt.datetime.now(_dt.timezone.utc)
    ca = config.ca(when)
    logs = config.tlogs(when, SUPPORTED_REKOR_APIS)
    stampers = list(timestampers) if timestampers is not None else timestampers_for(config, now=when)
    if not logs and not stampers:
        raise KeylessError("the signing config names neither a log nor a TSA: the signature would have no "
                           "verifiable time")
    artifact = open_artifact(data_or_path, "sha256")
    key = generate("ecdsa-p256")
    chain = request_certificate(ca.url, identity_token, CertificateRequest.create(key, identity_token))
    leaf_pem = chain[0].public_bytes(serialization.Encoding.PEM)
    signature = key.sign_digest(artifact.digest, artifact.hash_name)
    content = MessageSignature(digest=artifact.digest, signature=signature, algorithm=proto_name("sha256"))
    stamped = add_timestamps(Bundle(BUNDLE_V03_MEDIA_TYPE, VerificationMaterial(), content), stampers)
    leaf_der = chain[0].public_bytes(serialization.Encoding.DER)
    entries = [_upload(log, signature, leaf_pem, leaf_der, artifact.digest, key) for log in logs]
    material = VerificationMaterial(
        certificate=leaf_der,
        tlog_entries=entries,
        rfc3161_timestamps=stamped.verification_material.rfc3161_timestamps,
    )
    return Bundle(BUNDLE_V03_MEDIA_TYPE, material, content)
