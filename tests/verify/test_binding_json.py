"""Entry bodies are bounded JSON (issue 12 item 24): a deeply nested canonicalizedBody is a clean refusal."""

from __future__ import annotations

import base64
import json

from labkit.bundle import Bundle
from labkit.verify import Identity, explain_bundle
from labkit.verify.binding import bind_entry
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = Identity(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)
DEEP = b'{"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_bind_entry_reports_a_deep_body_as_an_error() -> None:
    bundle = Bundle.from_json((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    ms = bundle.message_signature
    leaf = bundle.verification_material.leaf_certificate
    assert ms is not None and leaf is not None
    binding = bind_entry("hashedrekord", "0.0.1", DEEP, artifact_digest=("sha256", ms.digest), signer_der=leaf,
                         content=ms)
    assert "nested more than" in binding.error


def test_a_deep_canonicalized_body_fails_verification_cleanly() -> None:
    doc = json.loads((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_text())
    doc["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"] = base64.b64encode(DEEP).decode()
    result = explain_bundle(json.dumps(doc), CASES / "a.txt", None, ID)
    assert not result.verified and result.reason.startswith("binding")


def test_duplicate_keys_in_a_body_are_refused() -> None:
    bundle = Bundle.from_json((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    entry = bundle.verification_material.tlog_entries[0]
    ms = bundle.message_signature
    leaf = bundle.verification_material.leaf_certificate
    assert ms is not None and leaf is not None
    body = b'{"kind": "x", ' + entry.canonicalized_body[1:]
    binding = bind_entry(entry.kind, entry.version, body, artifact_digest=("sha256", ms.digest), signer_der=leaf,
                         content=ms)
    assert "duplicate key" in binding.error
