"""An instance that signs through a Rekor v2 tile log (``labkit init --rekor-api 2``): bundles, verification."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit._internal.jsonio import JSONValue, loads
from labkit.attest import attest_blob, keyless_signer
from labkit.bundle import Bundle
from labkit.cli import main
from labkit.errors import InputError
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.verify import Identity, TrustedRoot, explain_bundle

DATA = b"logged in a tile log\n"
ME = "a@example.com"


@pytest.fixture
def v2(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance.create(tmp_path / "v2", seed="rekor2-instance", rekor_api=2)
    yield inst
    inst.close()


def _root(inst: Instance) -> TrustedRoot:
    return TrustedRoot.from_json(inst.trusted_root_json())


def _body(bundle: Bundle) -> dict[str, JSONValue]:
    entry = bundle.verification_material.tlog_entries[0]
    doc = loads(entry.canonicalized_body, what="body")
    assert isinstance(doc, dict)
    return doc


def test_config_lists_the_v2_log(v2: Instance) -> None:
    logs = v2.signing_config().rekor_tlog_urls
    assert [(s.url, s.major_api_version) for s in logs] == [("https://rekor2.labkit.invalid", 2)]
    tlogs = v2.trusted_root()["tlogs"]
    assert tlogs[-1]["baseUrl"] == "https://rekor2.labkit.invalid" and "checkpointKeyId" in tlogs[-1]


def test_keyless_blob_is_a_hashedrekord_002_with_a_timestamp(v2: Instance) -> None:
    bundle = sign_blob_keyless(v2, DATA, identity=ME)
    vm = bundle.verification_material
    assert len(vm.tlog_entries) == 1 and len(vm.rfc3161_timestamps) == 1
    entry = vm.tlog_entries[0]
    assert (entry.kind, entry.version) == ("hashedrekord", "0.0.2")
    assert entry.inclusion_promise is None and not entry.integrated_time
    assert v2.tlog.size == 0  # nothing went to the v1 log
    result = explain_bundle(bundle, DATA, _root(v2), Identity(identity=ME, issuer=v2.issuer.url))
    assert result.verified, result.checklist()


def test_keyless_attestation_logs_the_pae(v2: Instance) -> None:
    signer = keyless_signer(v2, identity=ME)
    bundle = attest_blob(DATA, "slsaprovenance1", {"buildDefinition": {"buildType": "x", "externalParameters": {}},
                                                   "runDetails": {"builder": {"id": "b"}}},
                         signer, instance=v2, subject_name="blob")
    assert _body(bundle)["kind"] == "hashedrekord"
    result = explain_bundle(bundle, DATA, _root(v2), Identity(identity=ME, issuer=v2.issuer.url))
    assert result.verified, result.checklist()


def test_cli_init_sign_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = str(tmp_path / "cli")
    assert main(["init", inst, "--seed", "rekor2-cli", "--rekor-api", "2"]) == 0
    art, out = tmp_path / "a.txt", tmp_path / "a.sigstore.json"
    art.write_bytes(DATA)
    assert main(["sign-blob", "--instance", inst, "--identity", ME, "--bundle", str(out), str(art)]) == 0
    doc = json.loads(out.read_text())
    assert doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"] == "0.0.2"
    assert doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    capsys.readouterr()
    with Instance.open(inst) as opened:
        issuer = opened.issuer.url
    assert main(["verify-blob", "--instance", inst, "--bundle", str(out), "--certificate-identity", ME,
                 "--certificate-oidc-issuer", issuer, str(art)]) == 0
    base64.b64decode(doc["messageSignature"]["signature"])
    root = tmp_path / "tr.json"
    assert main(["trusted-root", "--instance", inst, "-o", str(root)]) == 0
    assert main(["verify-bundle", "--bundle", str(out), "--trusted-root", str(root), "--certificate-identity", ME,
                 "--certificate-oidc-issuer", issuer, str(art)]) == 0


def test_unknown_api_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["init", str(tmp_path / "x"), "--rekor-api", "3"])
    with pytest.raises(InputError):
        Instance.create(tmp_path / "y", seed="s", rekor_api=3)
