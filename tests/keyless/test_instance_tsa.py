"""The instance's timestamp authority: made by init, listed in the trusted root, served at /api/v1/timestamp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import requests

from labkit.keyless.instance import Instance
from labkit.keyless.server import InstanceServer
from labkit.tsa import build_request
from labkit.tsa.client import HTTPTimestamper, LocalTimestamper
from labkit.verify import TrustedRoot
from labkit.verify.timestamp import verify_timestamp


def test_init_makes_a_tsa_listed_in_the_trusted_root(instance: Instance) -> None:
    assert (instance.path / "tsa" / "chain.pem").is_file()
    assert not (instance.path / "keys" / "tsa.pem").exists()  # a lab key comes from the seed
    tsas = instance.trusted_root()["timestampAuthorities"]
    assert len(tsas) == 1 and tsas[0]["uri"] == instance.url("tsa_url")
    assert tsas[0]["validFor"]["start"] == "2026-01-01T12:00:00Z" and "end" in tsas[0]["validFor"]
    signature = b"a signature"
    stamp = LocalTimestamper(instance.tsa).timestamp(signature)
    verified = verify_timestamp(stamp, signature, TrustedRoot.from_json(instance.trusted_root_json()))
    assert verified.time >= instance.created


def test_reopened_instance_has_the_same_tsa(instance: Instance) -> None:
    again = Instance.open(instance.path)
    assert again.tsa.chain == instance.tsa.chain and again.trusted_root_json() == instance.trusted_root_json()


def test_real_instance_keeps_its_tsa_key(tmp_path: Path) -> None:
    inst = Instance.create(tmp_path / "real")
    assert (inst.path / "keys" / "tsa.pem").stat().st_mode & 0o777 == 0o600
    assert Instance.open(inst.path).tsa.chain == inst.tsa.chain


def test_instance_from_before_the_tsa_gets_one(instance: Instance) -> None:
    shutil.rmtree(instance.path / "tsa")
    again = Instance.open(instance.path)
    assert again.tsa.chain == instance.tsa.chain  # same seed, same creation time: the same chain


def test_served_tsa_answers_rfc3161(tmp_path: Path) -> None:
    inst = Instance.create(tmp_path / "served")
    with InstanceServer(inst) as server:
        signature = b"over loopback"
        stamp = HTTPTimestamper(server.tsa_url).timestamp(signature)
        verify_timestamp(stamp, signature, TrustedRoot.from_json(inst.trusted_root_json()))
        bad = requests.post(server.tsa_url, data=b"\x30\x03junk", timeout=30,
                            headers={"Content-Type": "application/timestamp-query"})
        assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/timestamp-reply"
        query = build_request(b"x", hash_name="sha256")
        assert requests.post(server.tsa_url, data=query, timeout=30).status_code == 415
        chain = requests.get(server.tsa_url + "/certchain", timeout=30)
        assert chain.status_code == 200 and chain.content == inst.tsa.chain_pem()
        doc = json.loads(server.client_trust_config_json())
        assert [s["url"] for s in doc["signingConfig"]["tsaUrls"]] == [server.tsa_url]
        assert doc["signingConfig"]["tsaUrls"][0]["majorApiVersion"] == 1
    inst.close()


def test_openssl_verifies_the_served_tsa_with_the_chain_from_the_trusted_root(tmp_path: Path) -> None:
    """Debian's ``openssl ts -verify`` is the judge; the chain comes from trusted_root.json, nothing else."""
    import base64
    import subprocess

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from tests.conftest import require_tool

    openssl = require_tool("openssl", "the outside judge of RFC 3161 responses")
    inst = Instance.create(tmp_path / "served")
    entry = json.loads((inst.path / "trusted_root.json").read_text())["timestampAuthorities"][0]
    certs = [
        x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"])) for c in entry["certChain"]["certificates"]
    ]
    root, leaf = tmp_path / "root.pem", tmp_path / "leaf.pem"
    root.write_bytes(certs[-1].public_bytes(serialization.Encoding.PEM))
    leaf.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs[:-1]))
    data, reply = tmp_path / "signature.bin", tmp_path / "reply.tsr"
    data.write_bytes(b"the signature bytes a bundle's timestamp covers")
    with InstanceServer(inst) as server:
        reply.write_bytes(HTTPTimestamper(server.tsa_url).timestamp(data.read_bytes()))
    inst.close()
    judged = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(reply), "-CAfile", str(root),
                             "-untrusted", str(leaf)], capture_output=True, text=True, timeout=60, check=False)
    assert judged.returncode == 0 and "Verification: OK" in judged.stdout, judged.stdout + judged.stderr
    data.write_bytes(b"other bytes")
    judged = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(reply), "-CAfile", str(root),
                             "-untrusted", str(leaf)], capture_output=True, text=True, timeout=60, check=False)
    assert judged.returncode != 0
