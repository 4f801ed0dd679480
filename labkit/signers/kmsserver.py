"""The lab's local stand-in for AWS KMS: moto's server on 127.0.0.1, started and stopped by labkit.

`start_local_kms` runs ``python -m labkit.signers.kmsserver PORT`` (moto's
server with dummy credentials, loopback only) and returns a `LocalKms`
handle: its endpoint, ``awskms://`` URIs for aliases, and the principals and
policy used to show a denied signing request.

Two things differ from AWS and are stated here, not hidden:

- moto (5.2) ignores ``MessageType=DIGEST`` and hashes the digest again; the
  launcher makes its ``Sign`` honour ``DIGEST`` as AWS documents it (the
  message is the digest, of the algorithm's size). The signer checks every
  signature against the public key, so an unpatched endpoint fails loudly.
- moto (5.2) signs with a disabled key or one pending deletion; the
  launcher refuses as AWS does (``DisabledException``,
  ``KMSInvalidStateException``).
- moto stores a key policy but evaluates it only for ``DescribeKey`` and
  without its ``Principal``; `LocalKms.deny_signing` therefore writes the
  key policy AWS would enforce *and* the same Deny as the principal's IAM
  policy, which moto enforces once `LocalKms.enforce_authentication` is on
  (moto matches IAM statements against Resource ``*`` only, so that Deny
  covers all of the principal's signing, not just this key's).
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils

from labkit.errors import LabkitError
from labkit.signers.awskms import Credentials, kms_client
from labkit.signers.uri import AwsKmsURI, parse_awskms

__all__ = ["main", "start_local_kms"]

#: moto's default account.
_ACCOUNT = "123456789012"
_DUMMY = Credentials("labkit-lab", "labkit-lab")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


@dataclass
class LocalKms:
    """A running stand-in: `endpoint` (``127.0.0.1:PORT``), the `process`, principals created on it."""

    process: subprocess.Popen[bytes]
    port: int
    principals: dict[str, Credentials] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def uri(self, alias: str) -> str:
        """``awskms://127.0.0.1:PORT/alias/NAME``."""
        return f"awskms://{self.endpoint}/alias/{alias}"

    def describe(self) -> str:
        """One line for outputs: what this endpoint is."""
        return f"AWS KMS API at http://{self.endpoint} — LAB: moto's server, the local stand-in for AWS KMS"

    def add_principal(self, name: str) -> Credentials:
        """An IAM user `name` with an access key and an identity policy allowing ``kms:*``."""
        iam = boto3.client("iam", endpoint_url=f"http://{self.endpoint}", region_name="us-east-1",
                           aws_access_key_id=self._admin().access_key_id,
                           aws_secret_access_key=self._admin().secret_access_key)
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="kms-use", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["kms:*", "iam:*"], "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        self.principals[name] = creds
        return creds

    def deny_signing(self, uri: str, principal: str) -> dict[str, Any]:
        """Deny ``kms:Sign`` on the URI's key to `principal`: the key policy AWS enforces, and the same Deny
        as the principal's IAM policy (what moto enforces). Returns the key policy."""
        parsed = parse_awskms(uri)
        client = kms_client(parsed, self._admin())
        key_arn = client.describe_key(KeyId=parsed.key)["KeyMetadata"]["Arn"]
        principal_arn = f"arn:aws:iam::{_ACCOUNT}:user/{principal}"
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{_ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "no-signing", "Effect": "Deny", "Principal": {"AWS": principal_arn},
             "Action": "kms:Sign", "Resource": "*"}]}
        client.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
        iam = boto3.client("iam", endpoint_url=f"http://{self.endpoint}", region_name="us-east-1",
                           aws_access_key_id=self._admin().access_key_id,
                           aws_secret_access_key=self._admin().secret_access_key)
        iam.put_user_policy(UserName=principal, PolicyName="deny-sign", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                # moto checks IAM policies against Resource "*" only, so the stand-in's Deny covers every key.
                {"Effect": "Deny", "Action": "kms:Sign", "Resource": "*"}]}))
        return policy

    def enforce_authentication(self) -> None:
        """From now on every request must be signed by a principal's key and is checked against its policies."""
        requests.post(f"http://{self.endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()

    def _admin(self) -> Credentials:
        return self.principals.get("owner", _DUMMY)

    def stop(self) -> None:
        """Stop the server (its keys are gone with it)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_local_kms(port: int | None = None, *, timeout: float = 60.0,
                    popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen) -> LocalKms:
    """Start the stand-in on 127.0.0.1 (a free port unless given) and wait until it answers.

    `popen` starts the process (tests pass their ``spawn`` fixture, which stops it whatever happens).
    """
    port = port or _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": _DUMMY.access_key_id, "AWS_SECRET_ACCESS_KEY": _DUMMY.secret_access_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    proc = popen([sys.executable, "-m", "labkit.signers.kmsserver", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kms = LocalKms(proc, port)
    atexit.register(kms.stop)  # a notebook kernel that stops mid-way does not leave the server behind
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabkitError(f"the local KMS stand-in exited with status {proc.returncode}",
                              hint="Install moto[server] (the lab/test extras) and check the port is free.")
        try:
            kms_client(AwsKmsURI("", kms.endpoint, "", None), _DUMMY).list_keys(Limit=1)
            return kms
        except Exception:  # noqa: BLE001 - not answering yet
            time.sleep(0.2)
    kms.stop()
    raise LabkitError(f"the local KMS stand-in did not answer on {kms.endpoint} within {timeout:.0f} s")


_digest_call = threading.local()


def _honour_digest() -> None:
    """Make moto's ``Sign`` behave as AWS documents it: ``MessageType=DIGEST`` means the message is the digest,
    and a disabled key or one pending deletion does not sign."""
    from moto.core.exceptions import JsonRESTError
    from moto.kms import responses  # the stand-in's process only
    from moto.kms import utils as kms_utils
    from moto.kms.exceptions import ValidationException

    original_sign = responses.KmsResponse.sign

    def sign(self: responses.KmsResponse) -> str:
        key = self.kms_backend.describe_key(self.kms_backend.get_key_id(self._get_param("KeyId")))
        if key.key_state == "Disabled":
            raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
        if key.key_state != "Enabled":
            raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is {key.key_state}.")
        _digest_call.on = self._get_param("MessageType") == "DIGEST"
        try:
            return str(original_sign(self))
        finally:
            _digest_call.on = False

    def sign_digest(key: kms_utils.ECDSAPrivateKey | kms_utils.RSAPrivateKey, digest: bytes, algorithm: str) -> bytes:
        allowed = getattr(key, "valid_signing_algorithms", kms_utils.SigningAlgorithm.rsa_signing_algorithms())
        kms_utils.validate_signing_algorithm(algorithm, allowed)
        h = _HASHES[algorithm[-3:]]()
        if len(digest) != h.digest_size:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        pre = asym_utils.Prehashed(h)
        if isinstance(key, kms_utils.ECDSAPrivateKey):  # validate_signing_algorithm: ECDSA_* only for EC keys
            return bytes(key.private_key.sign(digest, ec.ECDSA(pre)))
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
        if "PSS" in algorithm:
            pad = padding.PSS(mgf=padding.MGF1(_HASHES[algorithm[-3:]]()), salt_length=padding.PSS.DIGEST_LENGTH)
        return bytes(key.private_key.sign(digest, pad, pre))

    for cls in (kms_utils.ECDSAPrivateKey, kms_utils.RSAPrivateKey):
        def patched(self: kms_utils.ECDSAPrivateKey | kms_utils.RSAPrivateKey, message: bytes, signing_algorithm: str,
                    _orig: Callable[..., bytes] = cls.sign) -> bytes:
            if getattr(_digest_call, "on", False):
                return sign_digest(self, message, signing_algorithm)
            return bytes(_orig(self, message, signing_algorithm))

        cls.sign = patched  # type: ignore[method-assign]
    responses.KmsResponse.sign = sign  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in on 127.0.0.1:PORT (argv[0]) until terminated."""
    from moto.server import ThreadedMotoServer

    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else 5000
    _honour_digest()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
