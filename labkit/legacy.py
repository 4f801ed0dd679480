"""cosign's legacy signature material as a Sigstore bundle: the one adapter.

A legacy cosign signature (a ``.sig`` layer's annotations, or ``sign-blob``'s
``--output-signature`` / ``--output-certificate`` / legacy ``--bundle`` file)
is what protobuf-specs calls a v0.1 bundle: a message signature over the
payload, the certificate (chain) or a key, and a Rekor v1 entry with its
inclusion promise (``rekorBundle`` = ``{SignedEntryTimestamp, Payload{body,
integratedTime, logIndex, logID}}``, cosign ``pkg/cosign/bundle/rekor.go``).
It has no inclusion proof; a `ProofSource` may supply one, and then the
bundle is v0.3 (`labkit.analyst.convert.to_v03`).

Used by the OCI verifier (`labkit.oci.signatures`), the attack lab
(`labkit.attacks.checks`) and ``labkit bundle create``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509

from labkit._internal import jsonio
from labkit.bundle import BUNDLE_V01_MEDIA_TYPE, MAX_BUNDLE_BYTES, Bundle, MessageSignature, TransparencyLogEntry, VerificationMaterial
from labkit.errors import BundleFormatError

__all__ = ["legacy_bundle", "rekor_bundle_entry"]

_W = "rekorBundle"


def _get(doc: Any, key: str, where: str) -> Any:
    if not isinstance(doc, Mapping):
        raise BundleFormatError(f"{_W}: {where or 'the document'} is not a JSON object", details={"field": where})
    if key not in doc:
        raise BundleFormatError(f"{_W}: {where + '.' if where else ''}{key} is missing", details={"field": key})
    return doc[key]


def _b64(value: Any, where: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BundleFormatError(f"{_W}: {where} is not base64: {exc}", details={"field": where}) from None


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BundleFormatError(f"{_W}: {where} is not an integer", details={"field": where})
    try:
        number = int(value)
    except ValueError:
        raise BundleFormatError(f"{_W}: {where} is not an integer: {value!r}", details={"field": where}) from None
    if number < 0:
        raise BundleFormatError(f"{_W}: {where} is negative", details={"field": where})
    return number


def rekor_bundle_entry(rekor: Any) -> TransparencyLogEntry:
    """The log entry (with its inclusion promise, no proof) a legacy rekorBundle describes.

    Raises `BundleFormatError` naming the malformed field. The body's kind and
    version are read, not judged: whether the verifier supports them is its
    ``binding.body`` step.
    """
    payload = _get(rekor, "Payload", "")
    body = _b64(_get(payload, "body", "Payload"), "Payload.body")
    doc = jsonio.loads(body, what="rekorBundle Payload.body", error=BundleFormatError, max_bytes=MAX_BUNDLE_BYTES)
    kind, version = _get(doc, "kind", "Payload.body"), _get(doc, "apiVersion", "Payload.body")
    log_id = _get(payload, "logID", "Payload")
    try:
        log_id_bytes = bytes.fromhex(log_id) if isinstance(log_id, str) else b""
    except ValueError:
        log_id_bytes = b""
    if not log_id_bytes:
        raise BundleFormatError(f"{_W}: Payload.logID is not hex", details={"field": "Payload.logID"})
    return TransparencyLogEntry(
        log_index=_int(_get(payload, "logIndex", "Payload"), "Payload.logIndex"),
        log_id=log_id_bytes,
        kind=str(kind),
        version=str(version),
        canonicalized_body=body,
        integrated_time=_int(_get(payload, "integratedTime", "Payload"), "Payload.integratedTime"),
        inclusion_promise=_b64(_get(rekor, "SignedEntryTimestamp", ""), "SignedEntryTimestamp"),
        inclusion_proof=None,
    )


def legacy_bundle(
    payload: bytes,
    signature: bytes,
    *,
    certificates: Sequence[bytes] | None = None,
    key_hint: str | None = None,
    rekor_bundle: Mapping[str, Any] | None = None,
) -> Bundle:
    """The v0.1 bundle of a legacy signature over `payload` (SHA-256 message digest).

    `certificates`: DER, leaf first (a root the signer shipped is dropped: the trusted root holds anchors);
    else `key_hint` for a managed key. `rekor_bundle`: the parsed rekorBundle, if any.
    """
    material = VerificationMaterial(tlog_entries=[] if rekor_bundle is None else [rekor_bundle_entry(rekor_bundle)])
    if certificates:
        material.certificate_chain = [c for i, c in enumerate(certificates) if i == 0 or not _self_issued(c)]
    else:
        material.public_key_hint = key_hint
    content = MessageSignature(digest=hashlib.sha256(payload).digest(), signature=signature)
    return Bundle(BUNDLE_V01_MEDIA_TYPE, material, content)


def _self_issued(der: bytes) -> bool:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return False
    return bool(cert.issuer == cert.subject)
