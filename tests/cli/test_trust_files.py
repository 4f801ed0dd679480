"""Signing configs and trusted roots made to order, and signing through them with timestamps (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from labkit.bundle import Bundle
from labkit.cli import main
from labkit.keyfile import save_key_pair
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority
from labkit.tsa.server import TimestampServer
from labkit.verify import TrustedRoot
from labkit.verify.timestamp import verify_timestamp

START = "start-time=2026-01-01T00:00:00Z"


@pytest.fixture
def inst(tmp_path: Path) -> Iterator[Instance]:
    instance = Instance.create(tmp_path / "inst", seed="trust-files")
    yield instance
    instance.close()


def _stamps(bundle: Path) -> list[bytes]:
    return Bundle.from_json(bundle.read_bytes()).verification_material.rfc3161_timestamps


def test_signing_config_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sc.json"
    assert main(["signing-config", "create", "--fulcio", f"url=https://ca.example,api-version=1,{START}",
                 "--rekor", f"url=https://r1.example,api-version=1,{START},operator=a",
                 "--rekor", f"url=https://r2.example,api-version=1,{START},operator=b",
                 "--tsa", f"url=https://tsa.example/api/v1/timestamp,api-version=1,{START},operator=a",
                 "--oidc-provider", f"url=https://oidc.example,api-version=1,{START}",
                 "--rekor-config", "ALL", "--tsa-config", "EXACT:1", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [s["url"] for s in doc["rekorTlogUrls"]] == ["https://r1.example", "https://r2.example"]
    assert doc["rekorTlogConfig"] == {"selector": "ALL"} and doc["tsaConfig"] == {"selector": "EXACT", "count": 1}
    assert main(["signing-config", "create", "--out", str(out)]) == 1  # exists, no --force
    bad = tmp_path / "bad.json"
    assert main(["signing-config", "create", "--tsa", "url=https://x", "--out", str(bad)]) == 1
    assert not bad.exists() and "lacks api-version=" in capsys.readouterr().err


def test_trusted_root_create(inst: Instance, tmp_path: Path) -> None:
    ca, tsa, rekor, ctfe = (tmp_path / n for n in ("ca.pem", "tsa.pem", "rekor.pub", "ctfe.pub"))
    ca.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in inst.ca.chain))
    tsa.write_bytes(inst.tsa.chain_pem())
    rekor.write_bytes(inst.tlog_key.public_key().pem())
    ctfe.write_bytes(inst.ctlog.public_key.pem())
    out = tmp_path / "tr.json"
    assert main(["trusted-root", "create", "--fulcio", f"url={inst.url('ca_url')},certificate-chain={ca}",
                 "--rekor", f"url={inst.url('tlog_url')},public-key={rekor},start-time=2026-01-01T12:00:00Z",
                 "--ctfe", f"url={inst.url('ctlog_url')},public-key={ctfe},start-time=2026-01-01T12:00:00Z",
                 "--tsa", f"url={inst.url('tsa_url')},certificate-chain={tsa}", "--out", str(out)]) == 0
    made, own = json.loads(out.read_text()), inst.trusted_root()
    for key in ("tlogs", "ctlogs"):
        assert made[key] == own[key]
    assert made["timestampAuthorities"][0]["certChain"] == own["timestampAuthorities"][0]["certChain"]
    from sigstore.models import TrustedRoot as PyTrustedRoot

    PyTrustedRoot.from_file(str(out))
    # A keyless bundle of the instance verifies against the made root, timestamps included.
    bundle = tmp_path / "b.json"
    assert main(["sign-blob", "--instance", str(inst.path), "--identity", "a@example.com", "--bundle", str(bundle),
                 str(ca)]) == 0
    assert main(["verify-blob", "--trusted-root", str(out), "--bundle", str(bundle), "--certificate-identity",
                 "a@example.com", "--certificate-oidc-issuer", inst.issuer.url, str(ca)]) == 0


@pytest.mark.parametrize("spec", ["url=https://x", "url=https://x,certificate-chain=/nonexistent",
                                  "url=https://x,certificate-chain=PEM,colour=red"])
def test_trusted_root_create_refuses(tmp_path: Path, spec: str) -> None:
    out = tmp_path / "tr.json"
    assert main(["trusted-root", "create", "--tsa", spec, "--rekor", "url=https://r,public-key=/nonexistent,"
                 "start-time=2026-01-01T00:00:00Z", "--out", str(out)]) == 1
    assert not out.exists()


def test_keyless_sign_blob_is_timestamped_by_the_instance(inst: Instance, tmp_path: Path) -> None:
    artifact, bundle = tmp_path / "a.txt", tmp_path / "a.sigstore.json"
    artifact.write_bytes(b"timestamped\n")
    assert main(["sign-blob", "--instance", str(inst.path), "--identity", "a@example.com", "--bundle", str(bundle),
                 str(artifact)]) == 0
    stamps = _stamps(bundle)
    assert len(stamps) == 1
    signature = Bundle.from_json(bundle.read_bytes()).message_signature
    assert signature is not None
    verify_timestamp(stamps[0], signature.signature, TrustedRoot.from_json(inst.trusted_root_json()))


def test_signing_config_tsa_over_loopback_and_an_untrusted_one(inst: Instance, tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_bytes(b"through a signing config\n")
    root = tmp_path / "tr.json"
    root.write_bytes(inst.trusted_root_json())
    stranger = TimestampAuthority.create(lab=Lab(seed="another TSA"))
    with TimestampServer(inst.tsa) as own, TimestampServer(stranger) as other:
        for name, url in (("own", own.url), ("other", other.url)):
            assert main(["signing-config", "create", "--tsa", f"url={url},api-version=1,{START}",
                         "--out", str(tmp_path / f"{name}.json")]) == 0
        good = tmp_path / "good.json"
        assert main(["sign-blob", "--instance", str(inst.path), "--identity", "a@example.com",
                     "--signing-config", str(tmp_path / "own.json"), "--trusted-root", str(root),
                     "--bundle", str(good), str(artifact)]) == 0
        assert len(_stamps(good)) == 1
        size = inst.tlog.size
        refused = tmp_path / "refused.json"
        assert main(["sign-blob", "--instance", str(inst.path), "--identity", "a@example.com",
                     "--signing-config", str(tmp_path / "other.json"), "--trusted-root", str(root),
                     "--bundle", str(refused), str(artifact)]) == 1
        assert not refused.exists()
        inst.close()
        assert Instance.open(inst.path).tlog.size == size  # refused before anything was logged
        # Keyed: no log, a timestamp from the config's TSA.
        key = generate("ecdsa-p256")
        save_key_pair(key, tmp_path / "cosign", password=b"pw")
        keyed = tmp_path / "keyed.json"
        assert main(["sign-blob", "--key", str(tmp_path / "cosign.key"), "--tlog-upload=false",
                     "--signing-config", str(tmp_path / "own.json"), "--bundle", str(keyed), str(artifact)]) == 0
        assert len(_stamps(keyed)) == 1
        assert main(["sign-blob", "--key", str(tmp_path / "cosign.key"), "--rekor-url", "http://127.0.0.1:1",
                     "--signing-config", str(tmp_path / "own.json"), "--bundle", str(tmp_path / "x.json"),
                     str(artifact)]) == 1


def test_attest_blob_is_timestamped(inst: Instance, tmp_path: Path) -> None:
    artifact, predicate, bundle = tmp_path / "a.txt", tmp_path / "p.json", tmp_path / "att.json"
    artifact.write_bytes(b"attested\n")
    predicate.write_text('{"ok": true}')
    assert main(["attest-blob", "--instance", str(inst.path), "--identity", "a@example.com", "--type", "custom",
                 "--predicate", str(predicate), "--bundle", str(bundle), str(artifact)]) == 0
    assert len(_stamps(bundle)) == 1
    assert main(["verify-blob-attestation", "--instance", str(inst.path), "--type", "custom", "--bundle",
                 str(bundle), "--certificate-identity", "a@example.com", "--certificate-oidc-issuer",
                 inst.issuer.url, str(artifact)]) == 0


def test_a_config_naming_a_remote_ca_is_refused(inst: Instance, tmp_path: Path) -> None:
    config, artifact = tmp_path / "sc.json", tmp_path / "a.txt"
    artifact.write_bytes(b"x")
    assert main(["signing-config", "create", "--fulcio", f"url=https://fulcio.sigstore.dev,api-version=1,{START}",
                 "--out", str(config)]) == 0
    assert main(["sign-blob", "--instance", str(inst.path), "--identity", "a@example.com", "--signing-config",
                 str(config), "--bundle", str(tmp_path / "b.json"), str(artifact)]) == 1
    assert not (tmp_path / "b.json").exists()
