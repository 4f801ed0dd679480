"""AWS KMS through its API on loopback (moto's server, the lab's stand-in): keys, digest signing, rotation, policy."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from labkit.cli import main
from labkit.errors import VerificationError
from labkit.sign import sign_blob
from labkit.signers import KeyURIError
from labkit.signers.resolve import create_in_home, signer_for, verifying_key_for

boto3 = pytest.importorskip("boto3", reason="boto3 (the 'keys' extra) is not installed")

from labkit.signers.awskms import AwsKmsSigner, Credentials, kms_client, rotate_alias  # noqa: E402
from labkit.signers.uri import parse_awskms  # noqa: E402


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-p384", "rsa-3072"])
def test_create_sign_by_digest_and_export(local_kms: Any, algorithm: str) -> None:
    uri = local_kms.uri(f"release-{algorithm}")
    public = create_in_home(uri, algorithm)
    assert create_in_home(uri, algorithm) == public  # as cosign: an existing alias gives its key back
    signer = signer_for(uri)
    assert isinstance(signer, AwsKmsSigner) and "stand-in" in signer.location and local_kms.endpoint in signer.location
    bundle = sign_blob(b"notes\n", signer)
    ms = bundle.message_signature
    assert ms is not None and ms.digest == hashlib.new(public.algorithm.hash_name, b"notes\n").digest()
    public.verify(ms.signature, b"notes\n")
    assert verifying_key_for(uri) == public


def test_sign_request_carries_the_digest_never_the_file(local_kms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = local_kms.uri("wire")
    create_in_home(uri, "ecdsa-p256")
    signer = signer_for(uri)
    assert isinstance(signer, AwsKmsSigner)
    sent: list[dict[str, Any]] = []
    client = signer._client
    real = client.sign

    def spy(**kwargs: Any) -> Any:
        sent.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(client, "sign", spy)
    data = os.urandom(1 << 20)
    sign_blob(data, signer)
    assert len(sent) == 1
    assert sent[0]["Message"] == hashlib.sha256(data).digest() and sent[0]["MessageType"] == "DIGEST"


def test_stock_moto_ignores_message_type_digest() -> None:
    """Why labkit's launcher patches the stand-in: moto signs a hash of the digest (AWS signs the digest).

    If this fails, moto honours DIGEST now: drop `_honour_digest` in labkit/signers/kmsserver.py.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto import mock_aws

    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        digest = hashlib.sha256(b"x").digest()
        sig = kms.sign(KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
        pub = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        with pytest.raises(InvalidSignature):
            pub.verify(sig["Signature"], digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        pub.verify(sig["Signature"], digest, ec.ECDSA(hashes.SHA256()))  # what moto signed: SHA-256(digest)


def test_rotation_what_verifiers_see(local_kms: Any) -> None:
    uri = local_kms.uri("rotating")
    old = create_in_home(uri, "ecdsa-p256")
    before = signer_for(uri)
    old_sig = before.sign(b"v1")
    new = rotate_alias(parse_awskms(uri))
    assert new != old and verifying_key_for(uri) == new  # the alias now names the new key
    old.verify(old_sig, b"v1")  # a signature made before verifies with the old public key only
    with pytest.raises(VerificationError):
        new.verify(old_sig, b"v1")
    after = signer_for(uri)
    new_sig = after.sign(b"v2")
    new.verify(new_sig, b"v2")
    with pytest.raises(VerificationError):
        old.verify(new_sig, b"v2")  # a verifier pinned to the old cosign.pub rejects new signatures
    # A signer opened before the rotation keeps its key: its signatures and public key always match.
    old.verify(before.sign(b"v3"), b"v3")
    assert before.public_key() == old


def _admin(local_kms: Any, uri: str) -> Any:
    return kms_client(parse_awskms(uri), local_kms.principals.get("owner"))


@pytest.mark.parametrize(("break_key", "words"), [
    (lambda c, k: c.disable_key(KeyId=k), "disabled"),
    (lambda c, k: c.schedule_key_deletion(KeyId=k, PendingWindowInDays=7), "PendingDeletion"),
    (lambda c, k: c.delete_alias(AliasName="alias/broken"), "has no key"),
])
def test_disabled_or_deleted_key_names_the_key(local_kms: Any, break_key: Any, words: str) -> None:
    uri = local_kms.uri("broken")
    create_in_home(uri, "ecdsa-p256")
    client = _admin(local_kms, uri)
    key_id = client.describe_key(KeyId="alias/broken")["KeyMetadata"]["KeyId"]
    break_key(client, key_id)
    with pytest.raises(KeyURIError) as err:
        signer_for(uri)
    assert err.value.part == "key" and words in err.value.message


def test_key_disabled_after_the_signer_opened(local_kms: Any) -> None:
    uri = local_kms.uri("late")
    create_in_home(uri, "ecdsa-p256")
    signer = signer_for(uri)
    assert isinstance(signer, AwsKmsSigner)
    _admin(local_kms, uri).disable_key(KeyId=signer.key_id)
    with pytest.raises(KeyURIError) as err:
        signer.sign(b"x")
    assert err.value.part == "key" and "disabled" in err.value.message


def test_unreachable_endpoint_names_the_endpoint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(KeyURIError) as err:
        signer_for(f"awskms://127.0.0.1:{port}/alias/none")
    assert err.value.part == "ENDPOINT" and "unreachable" in err.value.message


def test_policy_denies_a_second_principal(local_kms: Any) -> None:
    """moto records the key policy but evaluates it only for DescribeKey and without its Principal; the same Deny
    as the principal's IAM policy is what the stand-in enforces (see labkit.signers.kmsserver)."""
    uri = local_kms.uri("guarded")
    create_in_home(uri, "ecdsa-p256")
    owner = local_kms.add_principal("owner")
    intruder = local_kms.add_principal("intruder")
    policy = local_kms.deny_signing(uri, "intruder")
    stored = json.loads(_admin(local_kms, uri).get_key_policy(KeyId=_key_id(local_kms, uri),
                                                                PolicyName="default")["Policy"])
    assert stored == policy and stored["Statement"][1]["Principal"]["AWS"].endswith(":user/intruder")
    local_kms.enforce_authentication()
    parsed = parse_awskms(uri)
    AwsKmsSigner.open(parsed, owner).public_key().verify(AwsKmsSigner.open(parsed, owner).sign(b"ok"), b"ok")
    denied = AwsKmsSigner.open(parsed, intruder)  # DescribeKey / GetPublicKey are allowed, Sign is not
    with pytest.raises(KeyURIError) as err:
        denied.sign(b"not for you")
    assert err.value.part == "key" and "denied" in err.value.message
    with pytest.raises(KeyURIError) as unknown:
        AwsKmsSigner.open(parsed, Credentials("AKIAUNKNOWN000000000", "nope"))
    assert unknown.value.part == "credentials"


def test_cli_generate_sign_verify_with_kms(local_kms: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"artifact\n")
    uri = local_kms.uri("cli")
    assert main(["generate-key-pair", "--kms", uri]) == 0
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "cosign.pub"]
    assert main(["generate-key-pair", "--kms", uri]) == 1  # cosign.pub exists: refused before anything happens
    capsys.readouterr()
    assert main(["sign-blob", "--key", uri, "--tlog-upload=false", "--bundle", "a.json", "a.txt"]) == 0
    err = capsys.readouterr().err
    assert "LAB: local stand-in for AWS KMS" in err and "only the digest leaves" in err
    for key in ("cosign.pub", uri):
        assert main(["verify-blob", "--key", key, "--insecure-ignore-tlog", "--bundle", "a.json", "a.txt"]) == 0
    assert main(["public-key", "--key", uri]) == 0
    assert capsys.readouterr().out.endswith((tmp_path / "cosign.pub").read_text())
    _admin(local_kms, uri).disable_key(KeyId=_key_id(local_kms, uri))
    assert main(["sign-blob", "--key", uri, "--tlog-upload=false", "--bundle", "b.json", "a.txt"]) == 1
    err = capsys.readouterr().err
    assert "disabled" in err and "key URI part: key" in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["a.json", "a.txt", "cosign.pub"]


def _key_id(local_kms: Any, uri: str) -> str:
    return str(_admin(local_kms, uri).describe_key(KeyId=parse_awskms(uri).key)["KeyMetadata"]["KeyId"])
