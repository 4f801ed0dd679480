"""PKCS#11 for real: keys generated on a SoftHSM token, never extractable; signing sends only the digest."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keys import KeyAlgorithm
from labkit.sign import sign_blob
from labkit.signers import KeyURIError
from labkit.signers.resolve import create_in_home, signer_for, verifying_key_for
from tests.signers.conftest import PIN, Token

pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 (the 'keys' extra) is not installed")


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-p384", "rsa-3072"])
def test_generate_on_token_and_sign_by_digest(softhsm: Token, algorithm: str) -> None:
    uri = softhsm.uri(f"gen-{algorithm}")
    public = create_in_home(uri, algorithm)
    assert public.algorithm is KeyAlgorithm.parse(algorithm)
    signer = signer_for(uri)
    try:
        assert signer.public_key() == public and "labkit-test" in signer.location and PIN not in signer.location
        bundle = sign_blob(b"release notes\n", signer)
        ms = bundle.message_signature
        assert ms is not None
        hash_name = public.algorithm.hash_name
        assert ms.digest == hashlib.new(hash_name, b"release notes\n").digest()
        public.verify(ms.signature, b"release notes\n")
        public.verify(signer.sign(b"payload"), b"payload")
    finally:
        signer.close()  # type: ignore[attr-defined]
    # The public key reads back without a PIN (public objects), and with one.
    assert verifying_key_for(softhsm.uri(f"gen-{algorithm}", pin=None)) == public


def test_private_key_is_sensitive_and_cannot_be_exported(softhsm: Token) -> None:
    uri = softhsm.uri("no-export")
    create_in_home(uri, "ecdsa-p256")
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.exceptions import AttributeSensitive

    token = pkcs11.lib(softhsm.module).get_token(token_label=softhsm.label)
    try:
        session = token.open(user_pin=PIN)
    except pkcs11.UserAlreadyLoggedIn:  # an earlier test's signer is still open: the login is per process
        session = token.open()
    with session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="no-export")
        assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
        assert key[Attribute.ALWAYS_SENSITIVE] and key[Attribute.NEVER_EXTRACTABLE]
        with pytest.raises(AttributeSensitive):
            key[Attribute.VALUE]  # the private scalar: the token will not say it
        with pytest.raises(pkcs11.PKCS11Error):
            key[Attribute.EXTRACTABLE] = True  # once false, never true again (PKCS#11 §4.9)


def test_ed25519_is_refused_on_a_token(softhsm: Token) -> None:
    with pytest.raises(KeyURIError) as err:
        create_in_home(softhsm.uri("ed"), "ed25519")
    assert err.value.part == "key algorithm"


def test_an_existing_object_is_never_replaced(softhsm: Token) -> None:
    uri = softhsm.uri("once")
    first = create_in_home(uri, "ecdsa-p256")
    with pytest.raises(KeyURIError) as err:
        create_in_home(uri, "ecdsa-p256")
    assert err.value.part == "object"
    assert verifying_key_for(uri) == first


def test_pin_from_pin_source_and_cosigns_variable(softhsm: Token, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    create_in_home(softhsm.uri("pins"), "ecdsa-p256")
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    for uri in (softhsm.uri("pins", pin=None, extra=f"&pin-source=file:{pin_file}"),
                softhsm.uri("pins", pin=None, extra=f"&pin-source={pin_file}")):
        signer = signer_for(uri)
        signer.close()  # type: ignore[attr-defined]
    monkeypatch.setenv("COSIGN_PKCS11_PIN", PIN)
    signer_for(softhsm.uri("pins", pin=None)).close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("make_uri", "part"), [
    (lambda t, d: t.uri("bad", pin="0000"), "pin-value"),
    (lambda t, d: t.uri("bad", pin=None), "pin-value"),
    (lambda t, d: t.uri("bad", pin=None, extra=f"&pin-source={d}/missing-pin"), "pin-source"),
    (lambda t, d: t.uri("bad", pin=None, extra=f"&pin-source={d}/wrong-pin"), "pin-source"),
    (lambda t, d: t.uri("bad").replace("token=labkit-test", "token=no-such-token"), "token"),
    (lambda t, d: t.uri("bad").replace("token=labkit-test", "slot-id=987654"), "slot-id"),
    (lambda t, d: t.uri("bad").replace(t.module, f"{d}/missing.so"), "module-path"),
    (lambda t, d: t.uri("bad").replace(t.module, f"{d}/wrong-pin"), "module-path"),
    (lambda t, d: t.uri("no-such-object"), "object"),
])
def test_bad_token_input_names_the_uri_part(softhsm: Token, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            make_uri: object, part: str) -> None:
    monkeypatch.delenv("COSIGN_PKCS11_PIN", raising=False)
    (tmp_path / "wrong-pin").write_text("0000\n")
    create_in_home(softhsm.uri("bad"), "ecdsa-p256") if not _exists(softhsm, "bad") else None
    uri = make_uri(softhsm, tmp_path)  # type: ignore[operator]
    with pytest.raises(KeyURIError) as err:
        signer_for(uri)
    assert err.value.part == part
    assert "0000" not in err.value.diagnostics() and PIN not in err.value.diagnostics()


def _exists(token: Token, label: str) -> bool:
    try:
        verifying_key_for(token.uri(label))
    except KeyURIError:
        return False
    return True


def test_cli_generate_sign_verify_with_a_token(softhsm: Token, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """generate-key-pair --kms writes only cosign.pub; sign-blob sends digests; verify-blob takes the URI or the pub."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"artifact\n")
    uri = softhsm.uri("cli")
    assert main(["generate-key-pair", "--kms", uri, "--key-algorithm", "ecdsa-p384"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "cosign.pub"]
    assert PIN not in capsys.readouterr().err
    assert main(["sign-blob", "--key", uri, "--tlog-upload=false", "--bundle", "a.json", "a.txt"]) == 0
    assert "only the digest leaves this process" in capsys.readouterr().err
    for key in ("cosign.pub", softhsm.uri("cli", pin=None)):
        assert main(["verify-blob", "--key", key, "--insecure-ignore-tlog", "--bundle", "a.json", "a.txt"]) == 0
        assert capsys.readouterr().out.strip() == "Verified OK"
    assert main(["public-key", "--key", uri]) == 0
    assert capsys.readouterr().out == (tmp_path / "cosign.pub").read_text()
    # a wrong PIN: one line, non-zero, nothing written
    assert main(["sign-blob", "--key", softhsm.uri("cli", pin="1111"), "--tlog-upload=false", "--bundle", "b.json",
                 "a.txt"]) == 1
    err = capsys.readouterr().err
    assert "pin-value" in err and "Traceback" not in err and "1111" not in err
    assert sorted(os.listdir(tmp_path)) == ["a.json", "a.txt", "cosign.pub"]
