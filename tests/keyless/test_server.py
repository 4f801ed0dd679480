"""The instance on loopback: unmodified sigstore-python signs against labkit's CA and log."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from labkit.keyless.ca import CertificateRequest
from labkit.keyless.instance import Instance
from labkit.keyless.server import MAX_BODY, InstanceServer
from labkit.keys import generate


@pytest.fixture
def served(tmp_path: Path) -> Iterator[InstanceServer]:
    """A real-mode instance (sigstore-python checks tokens against the wall clock) served on loopback."""
    inst = Instance.create(tmp_path / "served")
    server = InstanceServer(inst).start()
    try:
        yield server
    finally:
        server.stop()
        inst.close()


def test_sigstore_python_signs_against_labkit(served: InstanceServer) -> None:
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    from labkit.bundle import Bundle
    from labkit.verify import Identity as LabkitIdentity
    from labkit.verify import TrustedRoot, verify_bundle

    inst = served.instance
    config = ClientTrustConfig.from_json(served.client_trust_config_json().decode())
    data = b"signed by sigstore-python, certified by labkit\n"
    with SigningContext.from_trust_config(config).signer(
        IdentityToken(inst.issuer.mint("alice@example.com"))
    ) as signer:
        bundle = signer.sign_artifact(data)
    Verifier(trusted_root=config.trusted_root).verify_artifact(
        data, bundle, Identity(identity="alice@example.com", issuer=inst.issuer.url)
    )
    parsed = Bundle.from_json(bundle.to_json())
    verify_bundle(parsed, data, TrustedRoot.from_json(inst.trusted_root_json()),
                  LabkitIdentity(identity="alice@example.com", issuer=inst.issuer.url))
    assert inst.tlog.size == 1


def _post(server: InstanceServer, body: object, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{server.url}/api/v2/signingCert", json=body, headers=headers, timeout=30)


def _csr_body(label: str) -> dict[str, str]:
    csr = CertificateRequest.create_csr(generate("ecdsa-p256")).csr
    assert csr is not None
    return {"certificateSigningRequest": base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()}


def test_signing_cert_with_public_key_and_proof(served: InstanceServer) -> None:
    inst = served.instance
    key = generate("ecdsa-p256")
    token = inst.issuer.mint("bob@example.com")
    proof = CertificateRequest.create(key, token).proof
    body = {"credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": key.public_key().pem().decode()},
                                 "proofOfPossession": base64.b64encode(proof).decode()}}
    resp = _post(served, body, None)
    assert resp.status_code == 200, resp.text
    chain = resp.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    assert len(chain) == 3 and chain[1].encode() == inst.ca.intermediate_cert.public_bytes(serialization.Encoding.PEM)


def test_refusals_issue_nothing(served: InstanceServer, tmp_path: Path) -> None:
    inst = served.instance
    good = inst.issuer.mint("alice@example.com")
    with Instance.create(tmp_path / "forger") as forger:
        forged = forger.issuer.mint("alice@example.com")
    assert _post(served, _csr_body("a"), None).status_code == 401
    r = _post(served, _csr_body("a"), forged)
    assert r.status_code == 401 and "token.signature" in r.json()["message"]
    r = _post(served, _csr_body("a"), inst.issuer.mint("alice@example.com", audience="nope"))
    assert r.status_code == 401 and "token.audience" in r.json()["message"]
    key = generate("ecdsa-p256")
    wrong_proof = CertificateRequest.create(generate("ecdsa-p256"), good).proof
    body = {"publicKeyRequest": {"publicKey": {"content": key.public_key().pem().decode()},
                                 "proofOfPossession": base64.b64encode(wrong_proof).decode()}}
    r = _post(served, body, good)
    assert r.status_code == 400 and "csr.proof_of_possession" in r.json()["message"]
    assert _post(served, {"certificateSigningRequest": "!!"}, good).status_code == 400
    assert _post(served, {"certificateSigningRequest": base64.b64encode(b"junk").decode()}, good).status_code == 400
    assert _post(served, {}, good).status_code == 400
    assert _post(served, ["not", "an", "object"], good).status_code == 400
    r = requests.post(f"{served.url}/api/v2/signingCert", data=b"{" * (MAX_BODY + 1),
                      headers={"Authorization": f"Bearer {good}"}, timeout=30)
    assert r.status_code == 413
    r = requests.post(f"{served.url}/api/v2/signingCert", data=b"{not json", timeout=30)
    assert r.status_code == 400


def test_discovery_jwks_trust_bundle_and_routing(served: InstanceServer) -> None:
    inst = served.instance
    assert requests.get(f"{served.url}/keys", timeout=30).json() == inst.issuer.jwks()
    assert (
        requests.get(f"{served.url}/.well-known/openid-configuration", timeout=30).json()["issuer"] == inst.issuer.url
    )
    chains = requests.get(f"{served.url}/api/v2/trustBundle", timeout=30).json()["chains"]
    assert len(chains[0]["certificates"]) == 2
    assert requests.get(f"{served.url}/nope", timeout=30).status_code == 404
    assert requests.get(f"{served.url}/api/v2/signingCert", timeout=30).status_code == 405
    assert requests.post(f"{served.url}/keys", timeout=30).status_code == 405
    doc = json.loads(served.client_trust_config_json())
    assert doc["signingConfig"]["caUrls"][0]["url"] == served.url
    assert doc["signingConfig"]["rekorTlogUrls"][0]["url"] == served.tlog_url


def test_labkit_signs_through_a_served_signing_config(served: InstanceServer, tmp_path: Path) -> None:
    """``labkit sign-blob --signing-config sc.json --trusted-root tr.json --identity-token T``: CA, log and TSA over
    loopback HTTP, as the signing config names them; the bundle verifies with labkit and sigstore-python."""
    from sigstore.models import Bundle as PyBundle
    from sigstore.models import TrustedRoot as PyTrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    from labkit.cli import main
    from labkit.verify import Identity as LabkitIdentity
    from labkit.verify import TrustedRoot, verify_bundle

    inst = served.instance
    doc = json.loads(served.client_trust_config_json())
    config, root = tmp_path / "sc.json", tmp_path / "tr.json"
    config.write_text(json.dumps(doc["signingConfig"]))
    root.write_text(json.dumps(doc["trustedRoot"]))
    artifact, bundle = tmp_path / "a.txt", tmp_path / "a.sigstore.json"
    artifact.write_bytes(b"signed through a signing config\n")
    token = inst.issuer.mint("carol@example.com")
    size = inst.tlog.size
    assert main(["sign-blob", "--signing-config", str(config), "--trusted-root", str(root), "--identity-token",
                 token, "--bundle", str(bundle), str(artifact)]) == 0
    assert inst.tlog.size == size + 1
    data = bundle.read_text()
    assert len(json.loads(data)["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]) == 1
    verify_bundle(data, artifact.read_bytes(), TrustedRoot.from_json(root.read_bytes()),
                  LabkitIdentity(identity="carol@example.com", issuer=inst.issuer.url))
    Verifier(trusted_root=PyTrustedRoot.from_file(str(root))).verify_artifact(
        artifact.read_bytes(), PyBundle.from_json(data), Identity(identity="carol@example.com", issuer=inst.issuer.url))
