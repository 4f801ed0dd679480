"""Key URIs parsed as cosign parses them; every malformed one is one `KeyURIError` naming the part at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main
from labkit.signers import KeyURIError, is_key_uri, parse_key_uri
from labkit.signers.resolve import signer_for, verifying_key_for
from labkit.signers.uri import AwsKmsURI, Pkcs11URI, UnsupportedKmsURI

MOD = "/usr/lib/softhsm/libsofthsm2.so"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def test_pkcs11_uri_in_cosigns_form() -> None:
    uri = parse_key_uri(
        f"pkcs11:token=my%20token;slot-id=3;object=release;id=%01%ff?module-path={MOD}&pin-value=12%3B4")
    assert isinstance(uri, Pkcs11URI)
    assert (uri.token, uri.slot_id, uri.object_label, uri.object_id) == ("my token", 3, "release", b"\x01\xff")
    assert (uri.module_path, uri.pin_value, uri.pin_source) == (MOD, "12;4", None)
    assert "12;4" not in uri.describe()


def test_pkcs11_module_from_cosigns_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PKCS11_MODULE_PATH", MOD)
    uri = parse_key_uri("pkcs11:token=t;object=o?pin-source=file:/run/pin")
    assert isinstance(uri, Pkcs11URI) and uri.module_path == MOD and uri.pin_source == "file:/run/pin"


@pytest.mark.parametrize(("ref", "endpoint", "key", "alias"), [
    (f"awskms://127.0.0.1:4566/{UUID}", "127.0.0.1:4566", UUID, None),
    (f"awskms://localhost:4566/arn:aws:kms:us-east-2:111122223333:key/{UUID}", "localhost:4566",
     f"arn:aws:kms:us-east-2:111122223333:key/{UUID}", None),
    ("awskms://127.0.0.1:4566/alias/release", "127.0.0.1:4566", "alias/release", "alias/release"),
    ("awskms://[::1]:9/arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a/b", "[::1]:9",
     "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a/b", "alias/a/b"),
])
def test_awskms_four_forms(ref: str, endpoint: str, key: str, alias: str | None) -> None:
    assert parse_key_uri(ref) == AwsKmsURI(ref, endpoint, key, alias)


@pytest.mark.parametrize(("ref", "scheme"), [
    ("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k", "gcpkms"),
    ("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/versions/2", "gcpkms"),
    ("azurekms://vault.vault.azure.net/key", "azurekms"),
    ("azurekms://vault/key/0a1b", "azurekms"),
    ("hashivault://release-key", "hashivault"),
    ("k8s://default/cosign", "k8s"),
])
def test_other_kms_are_parsed_then_refused_naming_their_service(ref: str, scheme: str) -> None:
    uri = parse_key_uri(ref)
    assert isinstance(uri, UnsupportedKmsURI) and uri.scheme == scheme
    for resolve in (signer_for, verifying_key_for):
        with pytest.raises(KeyURIError) as err:
            resolve(ref)
        assert err.value.part == "scheme" and uri.service in err.value.message


@pytest.mark.parametrize(("ref", "part"), [
    ("pkcs11:object=k?module-path=/m.so", "token"),
    ("pkcs11:token=t?module-path=/m.so", "object"),
    ("pkcs11:token=t;object=k", "module-path"),
    ("pkcs11:token=t;object=k?module-path=m.so", "module-path"),
    ("pkcs11:token=t;object=k?module-path=/m.so&pin-value=1&pin-source=/p", "pin-source"),
    ("pkcs11:token=t;slot-id=x;object=k?module-path=/m.so", "slot-id"),
    ("pkcs11:token=t;objekt=k?module-path=/m.so", "objekt"),
    ("pkcs11:token=t;token=u;object=k?module-path=/m.so", "token"),
    ("pkcs11:token=t;object=k%zz?module-path=/m.so", "object"),
    ("pkcs11:token=t;object=k?module-path=/m.so#frag", "fragment"),
    ("pkcs11:token=t;object=k?module-path=/m.so&pin=1", "pin"),
    ("pkcs11:token=t;object=%ff?module-path=/m.so", "object"),
    ("pkcs11:token=t;object=k?module-path=/m.so&pin-value=1 2", "characters"),
    ("awskms:///alias/release", "ENDPOINT"),
    ("awskms://kms.us-east-1.amazonaws.com/alias/release", "ENDPOINT"),
    ("awskms://10.0.0.1:4566/alias/release", "ENDPOINT"),
    ("awskms://127.0.0.1:99999/alias/release", "ENDPOINT"),
    ("awskms://127.0.0.1:4566/not-a-key", "key (ID, alias/NAME or ARN)"),
    ("awskms://127.0.0.1:4566", "ENDPOINT/"),
    ("gcpkms://projects/p/keyRings/r/cryptoKeys/k", "key path"),
    ("azurekms://vault/key/UPPER", "key path"),
    ("hashivault://-bad", "key path"),
    ("k8s://only-a-name", "NAMESPACE/SECRET"),
    ("k8s://a/b/c", "NAMESPACE/SECRET"),
    ("s3kms://bucket/key", "scheme"),
])
def test_malformed_uris_name_the_part_at_fault(ref: str, part: str) -> None:
    with pytest.raises(KeyURIError) as err:
        parse_key_uri(ref)
    assert err.value.part == part
    assert err.value.details["part at fault"] == part


def test_a_pin_never_shows_in_an_error() -> None:
    with pytest.raises(KeyURIError) as err:
        parse_key_uri("pkcs11:token=t;object=k?pin-value=s3cret")
    assert "s3cret" not in err.value.diagnostics()


def test_uri_or_file() -> None:
    assert is_key_uri("pkcs11:token=t") and is_key_uri("awskms://x/alias/a") and is_key_uri("foo://x")
    assert not is_key_uri("cosign.key") and not is_key_uri("./keys/cosign.pub") and not is_key_uri("C:key")


def test_a_refused_uri_never_falls_back_to_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Even with a file named like the URI's tail in the working directory, the URI is refused, nothing is written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"x")
    for argv in (["sign-blob", "--key", "hashivault://release", "--tlog-upload=false", "--bundle", "b.json", "a.txt"],
                 ["generate-key-pair", "--kms", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"],
                 ["public-key", "--key", "azurekms://vault/key"],
                 ["verify-blob", "--key", "k8s://default/cosign", "--bundle", "b.json", "a.txt"],
                 ["sign-blob", "--key", "awskms:///alias/release", "--tlog-upload=false", "a.txt"],
                 ["sign-blob", "--key", "pkcs11:token=t;object=k", "--tlog-upload=false", "a.txt"]):
        capsys.readouterr()
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "key URI part: " in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
