"""Build labkit bundles and trust roots for verifier tests (lab seed, local log)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography import x509

from labkit.bundle import Bundle, TransparencyLogEntry
from labkit.errors import LabkitError
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.sign import SignedArtifact, sign_blob
from labkit.tlog.store import TransparencyLog

#: The vendored public conformance suite (sigstore-conformance; licence and source beside it).
CONFORMANCE = Path(__file__).resolve().parent.parent / "vendor" / "conformance"


def conformance_leaves() -> list[x509.Certificate]:
    """The leaf certificate of every conformance bundle that has a readable one, in case order."""
    out: list[x509.Certificate] = []
    for path in sorted(CONFORMANCE.glob("bundle-verify/*/bundle.sigstore.json")):
        try:
            der = Bundle.from_json(path.read_bytes()).verification_material.leaf_certificate
            if der:
                out.append(x509.load_der_x509_certificate(der))
        except (LabkitError, ValueError):
            continue
    return out


def trusted_root_for(log: TransparencyLog, start: str = "2020-01-01T00:00:00Z", end: str | None = None) -> bytes:
    """A TrustedRoot JSON trusting only `log` (no CAs: for managed keys)."""
    valid: dict[str, str] = {"start": start}
    if end is not None:
        valid["end"] = end
    details = "PKIX_ED25519" if log.public_key.algorithm.value == "ed25519" else "PKIX_ECDSA_P256_SHA_256"
    root = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [
            {
                "baseUrl": "https://labkit.local",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": base64.b64encode(log.public_key.der()).decode(),
                    "keyDetails": details,
                    "validFor": valid,
                },
                "logId": {"keyId": base64.b64encode(log.log_id).decode()},
            }
        ],
    }
    return json.dumps(root).encode()


def signed_bundle(tmp: Path, data: bytes = b"hello, verifier\n", *, seed: str = "verify-tests",
                  alg: str = "ecdsa-p256") -> tuple[Bundle, SigningKey, bytes]:
    """(bundle with a local-log entry, signer key, trusted root JSON)."""
    lab = Lab(seed=seed)
    key = generate(alg, lab=lab, label="signer")
    log = TransparencyLog.open(tmp / "log", lab=lab)

    def upload(signed: SignedArtifact) -> TransparencyLogEntry:
        return log.upload_hashedrekord(signed.signature, signed.verifying_key.pem(), signed.digest).to_bundle_entry()

    bundle = sign_blob(data, key, tlog=upload)
    root = trusted_root_for(log)
    log.close()
    return bundle, key, root
