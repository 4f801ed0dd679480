"""`labkit bundle create` (cosign legacy material) and `bundle upgrade` (v0.1 -> v0.3 with the log's proof)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from labkit.analyst.convert import create_from_legacy, log_proofs, to_v03
from labkit.bundle import Bundle
from labkit.cli import main
from labkit.errors import BundleFormatError
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_keyless
from labkit.verify.policy import Identity
from labkit.verify.verifier import explain_bundle

EMAIL = "analyst@example.com"
DATA = b"legacy artifact\n"


def _legacy(instance: Instance, tmp_path: Path) -> dict[str, Path]:
    signed = sign_keyless(instance, DATA, identity=EMAIL)
    assert signed.log_entry is not None
    files = {
        "artifact": tmp_path / "a.txt", "signature": tmp_path / "a.sig", "certificate": tmp_path / "a.pem",
        "rekor": tmp_path / "rekor.json", "legacy": tmp_path / "a.cosign-bundle",
    }
    files["artifact"].write_bytes(DATA)
    files["signature"].write_text(base64.b64encode(signed.signature).decode())
    files["certificate"].write_bytes(signed.certificate.pem())
    files["rekor"].write_text(json.dumps(signed.log_entry.rekor_bundle()))
    files["legacy"].write_text(json.dumps({
        "base64Signature": base64.b64encode(signed.signature).decode(),
        "cert": base64.b64encode(signed.certificate.pem()).decode(),
        "rekorBundle": signed.log_entry.rekor_bundle(),
    }))
    return files


def _verify(bundle: bytes | Bundle, instance: Instance) -> str:
    result = explain_bundle(bundle, DATA, instance.trusted_root_json(), Identity(identity=EMAIL, issuer_regexp=".*"))
    return "VERIFIED" if result.verified else result.reason


def test_create_v01_then_upgrade_with_the_log(instance: Instance, tmp_path: Path) -> None:
    f = _legacy(instance, tmp_path)
    v01 = create_from_legacy(DATA, signature=f["signature"].read_bytes(), certificate_pem=f["certificate"].read_bytes(),
                             rekor_bundle=f["rekor"].read_bytes())
    assert v01.version == (0, 1)
    assert _verify(v01, instance) == "tlog.inclusion_proof.missing"  # v0.1 has only the promise
    v03 = to_v03(v01, log_proofs(instance.tlog.get))
    assert v03.version == (0, 3) and _verify(v03, instance) == "VERIFIED"


def test_legacy_bundle_file_gives_signature_and_certificate(instance: Instance, tmp_path: Path) -> None:
    f = _legacy(instance, tmp_path)
    out = create_from_legacy(DATA, rekor_bundle=f["legacy"].read_bytes(), proofs=log_proofs(instance.tlog.get))
    assert _verify(out, instance) == "VERIFIED"


def test_proof_of_another_entry_refused(instance: Instance, tmp_path: Path) -> None:
    f = _legacy(instance, tmp_path)
    sign_keyless(instance, b"other", identity=EMAIL)
    v01 = create_from_legacy(DATA, rekor_bundle=f["legacy"].read_bytes())
    v01.verification_material.tlog_entries[0].log_index += 1
    with pytest.raises(BundleFormatError, match="is not the one in the bundle"):
        to_v03(v01, log_proofs(instance.tlog.get))


def test_legacy_bundle_given_to_the_bundle_reader_says_so(instance: Instance, tmp_path: Path) -> None:
    f = _legacy(instance, tmp_path)
    with pytest.raises(BundleFormatError, match="legacy cosign bundle .*labkit bundle create"):
        Bundle.from_json(f["legacy"].read_bytes())


def test_cli_create_and_upgrade(instance: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _legacy(instance, tmp_path)
    instance.close()
    v01, v03, up = tmp_path / "v01.json", tmp_path / "v03.json", tmp_path / "up.json"
    common = ["--artifact", str(f["artifact"]), "--signature", str(f["signature"]),
              "--certificate", str(f["certificate"]), "--rekor-bundle", str(f["rekor"])]
    assert main(["bundle", "create", *common, "-o", str(v01)]) == 0
    assert main(["bundle", "create", *common, "--log-dir", str(instance.path), "-o", str(v03)]) == 0
    assert Bundle.from_json(v01.read_bytes()).version == (0, 1)
    assert main(["bundle", "upgrade", str(v01), "-o", str(up)]) == 1
    assert "has no inclusion proof" in capsys.readouterr().err and not up.exists()
    assert main(["bundle", "upgrade", str(v01), "--log-dir", str(instance.path), "-o", str(up)]) == 0
    again = Instance.open(instance.path)
    try:
        assert _verify(v03.read_bytes(), again) == "VERIFIED"
        assert _verify(up.read_bytes(), again) == "VERIFIED"
    finally:
        again.close()


def test_cli_create_needs_material(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    art = tmp_path / "a"
    art.write_bytes(b"x")
    assert main(["bundle", "create", "--artifact", str(art), "-o", str(tmp_path / "o")]) == 1
    assert "no signature" in capsys.readouterr().err
