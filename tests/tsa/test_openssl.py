"""Debian's OpenSSL as the outside judge: `openssl ts` parses and verifies labkit's timestamp responses.

The chain given to OpenSSL is read back from the trusted-root entry labkit
writes (root as -CAfile, leaf as -untrusted), and -attime pins the check
to genTime so the lab's fixed clock does not depend on today's date.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal import der
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority, build_request, create_tsa, tsa_entry_json
from tests.conftest import require_tool

#: 2026-01-01T12:00:00Z, the lab clock's genTime.
_GEN_TIME = "1767268800"


@pytest.fixture
def openssl() -> str:
    return require_tool("openssl", "the outside judge of RFC 3161 responses")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def _chain_files(tsa: TimestampAuthority, tmp: Path) -> tuple[Path, Path]:
    """(root PEM, leaf PEM) taken from the trusted-root entry, not from the TSA object."""
    entry = tsa_entry_json(tsa.chain)
    raw = [base64.b64decode(c["rawBytes"]) for c in entry["certChain"]["certificates"]]
    certs = [x509.load_der_x509_certificate(d) for d in raw]
    root, leaf = tmp / "root.pem", tmp / "leaf.pem"
    root.write_bytes(certs[-1].public_bytes(serialization.Encoding.PEM))
    leaf.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs[:-1]))
    return root, leaf


@pytest.mark.parametrize(("algorithm", "digest"), [("ecdsa-p256", "-sha256"), ("ecdsa-p384", "-sha512")])
def test_openssl_query_reply_verify(openssl: str, tmp_path: Path, algorithm: str, digest: str) -> None:
    lab = Lab(seed="openssl")
    tsa = TimestampAuthority.create(lab=lab, material=create_tsa(lab=lab, algorithm=algorithm))
    data, query, reply = tmp_path / "data.bin", tmp_path / "q.tsq", tmp_path / "r.tsr"
    data.write_bytes(b"a signature to timestamp")
    made = _run(openssl, "ts", "-query", "-data", str(data), digest, "-cert", "-out", str(query))
    assert made.returncode == 0, made.stderr
    reply.write_bytes(tsa.respond(query.read_bytes()))
    text = _run(openssl, "ts", "-reply", "-in", str(reply), "-text")
    assert text.returncode == 0, text.stderr
    assert "Status: Granted." in text.stdout and "Nonce: 0x" in text.stdout
    assert "Accuracy: 0x01 seconds" in text.stdout and "Time stamp: Jan  1 12:00:00 2026 GMT" in text.stdout
    root, leaf = _chain_files(tsa, tmp_path)
    for against in (["-queryfile", str(query)], ["-data", str(data)]):
        verified = _run(openssl, "ts", "-verify", "-in", str(reply), *against, "-CAfile", str(root),
                        "-untrusted", str(leaf), "-attime", _GEN_TIME)
        assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr


def test_openssl_verifies_without_embedded_certificate(openssl: str, tmp_path: Path) -> None:
    tsa = TimestampAuthority.create(lab=Lab(seed="openssl-nocert"))
    data, reply = tmp_path / "data.bin", tmp_path / "r.tsr"
    data.write_bytes(b"payload")
    reply.write_bytes(tsa.timestamp(b"payload", cert_req=False, hash_name="sha384", nonce=99))
    root, leaf = _chain_files(tsa, tmp_path)
    verified = _run(openssl, "ts", "-verify", "-in", str(reply), "-data", str(data), "-CAfile", str(root),
                    "-untrusted", str(leaf), "-attime", _GEN_TIME)
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr


def test_openssl_rejects_other_data_and_other_roots(openssl: str, tmp_path: Path) -> None:
    tsa = TimestampAuthority.create(lab=Lab(seed="openssl-neg"))
    other = TimestampAuthority.create(lab=Lab(seed="openssl-other"))
    data, reply = tmp_path / "data.bin", tmp_path / "r.tsr"
    data.write_bytes(b"not what was stamped")
    reply.write_bytes(tsa.timestamp(b"what was stamped"))
    root, leaf = _chain_files(tsa, tmp_path)
    wrong_data = _run(openssl, "ts", "-verify", "-in", str(reply), "-data", str(data), "-CAfile", str(root),
                      "-untrusted", str(leaf), "-attime", _GEN_TIME)
    assert wrong_data.returncode != 0
    data.write_bytes(b"what was stamped")
    other_root = tmp_path / "other-root.pem"
    other_root.write_bytes(other.chain[-1].public_bytes(serialization.Encoding.PEM))
    wrong_root = _run(openssl, "ts", "-verify", "-in", str(reply), "-data", str(data), "-CAfile", str(other_root),
                      "-attime", _GEN_TIME)
    assert wrong_root.returncode != 0


@pytest.mark.parametrize(("request_der", "failure"), [
    (b"\x30\x03\x02\x01\x01", "the data submitted has the wrong format"),
    (build_request(b"x", policy="1.2.3"), "the requested TSA policy is not supported by the TSA"),
    (der.sequence(der.integer(1), der.sequence(der.sequence(der.oid("1.3.14.3.2.26")), der.octet_string(bytes(20)))),
     "unrecognized or unsupported algorithm identifier"),
])
def test_openssl_reads_failure_responses(openssl: str, tmp_path: Path, request_der: bytes, failure: str) -> None:
    tsa = TimestampAuthority.create(lab=Lab(seed="openssl-fail"))
    reply = tmp_path / "r.tsr"
    reply.write_bytes(tsa.respond(request_der))
    text = _run(openssl, "ts", "-reply", "-in", str(reply), "-text")
    assert text.returncode == 0, text.stderr
    assert "Status: Rejected." in text.stdout and f"Failure info: {failure}" in text.stdout, text.stdout
