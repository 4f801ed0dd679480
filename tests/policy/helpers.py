"""Build real signatures and attestations as policy evidence (no mocks: real keys, real payloads)."""

from __future__ import annotations

import hashlib
from typing import Any

from labkit.keys import SigningKey
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Statement, Subject, pae, simple_signing_payload
from labkit.policy.evaluate import Evidence
from labkit.policy.glob import normalize_image


def digest_of(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def signature(image: str, key: SigningKey, *, issuer: str | None = None, subject: str | None = None) -> Evidence:
    n = normalize_image(image)
    payload = simple_signing_payload(n.context, digest_of(image))
    cert_key = key.public_key() if issuer else None
    return Evidence("signature", payload, key.sign(payload), issuer, subject, cert_key)


def attestation(image: str, key: SigningKey, predicate_type: str, predicate: Any, *,
                issuer: str | None = None, subject: str | None = None) -> Evidence:
    n = normalize_image(image)
    st = Statement([Subject(n.context, {"sha256": digest_of(image).split(":")[1]})], predicate_type, predicate)
    signed = pae(INTOTO_PAYLOAD_TYPE, st.to_json())
    cert_key = key.public_key() if issuer else None
    return Evidence("attestation", signed, key.sign(signed), issuer, subject, cert_key,
                    predicate_type, predicate)


def pem(key: SigningKey) -> str:
    return key.public_key().pem().decode()


def indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.strip().splitlines())
