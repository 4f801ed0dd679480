"""Every signing path takes a token or KMS key as it takes a key file: images, attestations, DSSE, blobs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from labkit.attest import attest_blob, verify_blob_attestation
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import sign_image
from labkit.sign import sign_blob
from labkit.signers import FileKeySigner, KeyURIError, Signer
from labkit.signers.resolve import create_in_home, signer_for
from labkit.verify.image import verify_image
from tests.signers.conftest import Token

pytest.importorskip("pkcs11", reason="python-pkcs11 (the 'keys' extra) is not installed")


@pytest.fixture
def token_signer(softhsm: Token) -> Any:
    uri = softhsm.uri("paths")
    with contextlib.suppress(KeyURIError):  # made by an earlier test in this session
        create_in_home(uri, "ecdsa-p256")
    signer = signer_for(uri)
    yield signer
    signer.close()  # type: ignore[attr-defined]


def test_a_key_in_memory_is_a_signer() -> None:
    key = generate("ecdsa-p256")
    assert isinstance(key, Signer) and isinstance(FileKeySigner(key, "k"), Signer)


def test_image_signature_with_a_token_key(token_signer: Any, tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "layout")
    image = build_image(layout, {"app.txt": "v1"}, tag="v1")
    sign_image(layout, image.descriptor, token_signer, docker_reference="localhost/app", new_bundle_format=True)
    report = verify_image(layout, image.digest, token_signer.public_key(), docker_reference="localhost/app")
    assert report.verified


def test_attestation_with_a_token_key(token_signer: Any, tmp_path: Path) -> None:
    inst = Instance.create(tmp_path / "inst", seed="signers")
    bundle = attest_blob(b"artefact\n", "custom", b"built on a Tuesday\n", token_signer, instance=inst)
    result = verify_blob_attestation(bundle, b"artefact\n", "custom", trusted_root=inst.trusted_root_json(),
                                     key=token_signer.public_key())
    assert result.verified


def test_ed25519_file_key_still_signs_whole_files(tmp_path: Path) -> None:
    key = generate("ed25519")
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100_000)
    bundle = sign_blob(str(path), FileKeySigner(key, "k"))
    assert bundle.message_signature is not None
    key.public_key().verify(bundle.message_signature.signature, path.read_bytes())
