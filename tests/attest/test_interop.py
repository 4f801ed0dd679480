"""Other tools read what labkit writes: sigstore-python verifies the attestation bundle (DSSE, keyless,
dsse log entry) and securesystemslib verifies the DSSE envelope of a key-based attestation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from labkit.attest import attest_blob, keyless_signer
from labkit.keyless.instance import Instance
from labkit.keys import generate
from tests.attest.test_predicates import GOOD

BLOB = b"interop artefact\n"


@pytest.fixture(scope="module")
def inst(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    return Instance.create(tmp_path_factory.mktemp("interop") / "i", seed="attest-interop")


def test_sigstore_python_verifies_keyless_attestation(inst: Instance, tmp_path: Path) -> None:
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    bundle = attest_blob(BLOB, "slsaprovenance1", GOOD["slsaprovenance1"],
                         keyless_signer(inst, identity="builder@lab.test"), instance=inst, subject_name="a.bin")
    root = inst.write_trusted_root(tmp_path / "trusted_root.json")
    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(root)))
    theirs = SigstoreBundle.from_json(bundle.to_json())
    payload_type, payload = verifier.verify_dsse(theirs, Identity(identity="builder@lab.test", issuer=inst.issuer.url))
    assert payload_type == "application/vnd.in-toto+json"
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(BLOB).hexdigest()
    with pytest.raises(VerificationError):
        verifier.verify_dsse(theirs, Identity(identity="mallory@lab.test", issuer=inst.issuer.url))


def test_securesystemslib_verifies_the_envelope(inst: Instance) -> None:
    from securesystemslib.dsse import Envelope as SslibEnvelope
    from securesystemslib.signer import SSlibKey

    assert inst.lab is not None
    key = generate("ecdsa-p256", lab=inst.lab, label="release")
    bundle = attest_blob(BLOB, "cyclonedx", GOOD["cyclonedx"], key, instance=inst)
    env_doc = bundle.to_dict()["dsseEnvelope"]
    ssl_key = SSlibKey.from_crypto(key.public_key().key)
    # securesystemslib matches signatures to keys by keyid.
    env_doc["signatures"][0]["keyid"] = ssl_key.keyid
    envelope = SslibEnvelope.from_dict(env_doc)
    accepted = envelope.verify([ssl_key], 1)
    assert list(accepted) == [ssl_key.keyid]
    assert json.loads(envelope.pae().split(b" ", 4)[4])["predicateType"] == "https://cyclonedx.org/bom"
