"""AWS KMS signing through the AWS KMS API on a loopback endpoint (the lab's stand-in: moto's server).

The signer resolves the URI's key (an alias follows to its current key)
once, fetches the public key, and then sends digests only
(``Sign`` with ``MessageType=DIGEST``); each signature is checked against
the public key before it is returned. boto3 is the client (the ``keys``
extra). Credentials come from the caller, or ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, or are dummies: the endpoint is always on
loopback (see `labkit.signers.uri.parse_awskms`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import botocore.exceptions
from botocore.config import Config

from labkit.errors import KeyFileError, LabkitError
from labkit.keys import KeyAlgorithm, VerifyingKey, load_public_key
from labkit.signers.base import KeyURIError, check_digest, sign_by_digest
from labkit.signers.uri import AwsKmsURI

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient  # type stubs only (the test extra)

__all__ = ["AwsKmsSigner", "read_public_key", "rotate_alias"]

#: labkit algorithm → (KMS KeySpec, the signing algorithm labkit asks for).
_SPECS = {
    KeyAlgorithm.ECDSA_P256: ("ECC_NIST_P256", "ECDSA_SHA_256"),
    KeyAlgorithm.ECDSA_P384: ("ECC_NIST_P384", "ECDSA_SHA_384"),
    KeyAlgorithm.RSA_3072: ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_256"),
    KeyAlgorithm.RSA_4096: ("RSA_4096", "RSASSA_PKCS1_V1_5_SHA_256"),
}
_BY_SPEC = {spec: alg for alg, (spec, _) in _SPECS.items()}


@dataclass(frozen=True)
class Credentials:
    """An access key pair for the stand-in (never real AWS credentials: the endpoint is loopback)."""

    access_key_id: str
    secret_access_key: str


def kms_client(uri: AwsKmsURI, credentials: Credentials | None = None) -> KMSClient:
    """A boto3 KMS client for the URI's loopback endpoint: one attempt, short timeouts."""
    creds = credentials or Credentials(os.environ.get("AWS_ACCESS_KEY_ID", "labkit-lab"),
                                       os.environ.get("AWS_SECRET_ACCESS_KEY", "labkit-lab"))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=30)
    return boto3.client("kms", endpoint_url=uri.endpoint_url, region_name=region, config=config,
                        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key)


def _fail(exc: Exception, uri: AwsKmsURI, doing: str) -> KeyURIError:
    """The labkit error for a failed KMS call, naming the URI part at fault."""
    if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                        botocore.exceptions.ReadTimeoutError)):
        return KeyURIError(f"the KMS endpoint {uri.endpoint} is unreachable while {doing}", uri=uri.text,
                           part="ENDPOINT", hint="Start the stand-in (labkit.signers.kmsserver.start_local_kms) "
                           "and use its port.")
    if isinstance(exc, botocore.exceptions.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        text = str(exc.response.get("Error", {}).get("Message", ""))
        xml_code = re.search(r"<Code>(.*?)</Code>", text)  # the stand-in's IAM checks answer in XML
        if code == "403" and xml_code:
            code = xml_code.group(1)
        code = "AccessDeniedException" if code == "AccessDenied" else code
        found = re.search(r"<Message>(.*?)</Message>", text, re.DOTALL)
        text = " ".join((found.group(1) if found else text).split())[:200]
        messages = {
            "NotFoundException": f"the KMS has no key {uri.key}",
            "DisabledException": f"the KMS key {uri.key} is disabled",
            "KMSInvalidStateException": f"the KMS key {uri.key} cannot be used in its state ({text})",
            "AccessDeniedException": f"the KMS denied this principal {doing} with {uri.key} ({text})",
            "UnrecognizedClientException": "the KMS does not know these credentials",
            "InvalidClientTokenId": "the KMS does not know these credentials",
        }
        part = "credentials" if code in ("UnrecognizedClientException", "InvalidClientTokenId") else "key"
        return KeyURIError(messages.get(code, f"the KMS refused {doing}: {code} {text}"), uri=uri.text, part=part)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return KeyURIError(f"the KMS call failed while {doing}: {exc}", uri=uri.text, part="ENDPOINT")
    raise exc


_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def _public(client: KMSClient, uri: AwsKmsURI, key_id: str) -> VerifyingKey:
    try:
        der = client.get_public_key(KeyId=key_id)["PublicKey"]
    except _ERRORS as exc:
        raise _fail(exc, uri, "reading the public key") from None
    try:
        return load_public_key(der)
    except KeyFileError:
        raise KeyURIError("the KMS returned a public key labkit cannot read", uri=uri.text, part="key") from None


class AwsKmsSigner:
    """A KMS key, resolved once to a concrete key ID (so its public key and signatures always match)."""

    lab = False

    def __init__(self, uri: AwsKmsURI, client: KMSClient, key_id: str, public: VerifyingKey) -> None:
        self.uri = uri
        self.key_id = key_id
        self._client = client
        self._public = public
        self._signing_algorithm = _SPECS[public.algorithm][1]

    @classmethod
    def open(cls, uri: AwsKmsURI, credentials: Credentials | None = None) -> AwsKmsSigner:
        """Describe the key (following an alias), check it signs, and fetch its public key."""
        client = kms_client(uri, credentials)
        try:
            meta = client.describe_key(KeyId=uri.key)["KeyMetadata"]
        except _ERRORS as exc:
            raise _fail(exc, uri, "looking up the key") from None
        if meta.get("KeyUsage") != "SIGN_VERIFY":
            raise KeyURIError(f"the KMS key {uri.key} is not a signing key ({meta.get('KeyUsage')})", uri=uri.text,
                              part="key")
        if meta.get("KeyState") != "Enabled":
            state = str(meta.get("KeyState"))
            raise KeyURIError(f"the KMS key {uri.key} is {state.lower()} (KeyState {state}), not enabled",
                              uri=uri.text, part="key")
        spec = str(meta.get("KeySpec", ""))
        if spec not in _BY_SPEC:
            raise KeyURIError(f"the KMS key spec {spec} is not one labkit signs with (P-256, P-384, RSA 3072/4096)",
                              uri=uri.text, part="key")
        return cls(uri, client, meta["KeyId"], _public(client, uri, meta["KeyId"]))

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The key's algorithm."""
        return self._public.algorithm

    @property
    def location(self) -> str:
        """The endpoint (the lab's local stand-in for AWS KMS) and the key."""
        alias = f"{self.uri.alias} → " if self.uri.alias else ""
        return f"AWS KMS API at {self.uri.endpoint_url} (LAB: local stand-in for AWS KMS), key {alias}{self.key_id}"

    def public_key(self) -> VerifyingKey:
        """The KMS key's public key (fetched when the signer opened)."""
        return self._public

    def sign_digest(self, digest: bytes, hash_name: str = "sha256") -> bytes:
        """``Sign`` with ``MessageType=DIGEST``: only the digest crosses the wire."""
        check_digest(self.algorithm, digest, hash_name, self.uri.text)
        try:
            answer = self._client.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST",
                                       SigningAlgorithm=self._signing_algorithm)  # type: ignore[arg-type]
            signature = answer["Signature"]
        except _ERRORS as exc:
            raise _fail(exc, self.uri, "signing") from None
        try:
            self._public.verify_digest(signature, digest, hash_name)
        except LabkitError:
            raise KeyURIError("the KMS signature does not verify with the key's public key (an endpoint that "
                              "ignores MessageType=DIGEST signs a hash of the digest)", uri=self.uri.text,
                              part="ENDPOINT") from None
        return signature

    def sign(self, data: bytes) -> bytes:
        """Hash here, sign the digest in the KMS."""
        return sign_by_digest(self, data)

    def __repr__(self) -> str:
        return f"<AwsKmsSigner {self.uri.text} {self.key_id} {self.algorithm.value}>"


def create_key(uri: AwsKmsURI, algorithm: str | KeyAlgorithm, credentials: Credentials | None = None) -> VerifyingKey:
    """As ``cosign generate-key-pair --kms``: an alias URI is needed; an existing alias gives its key's public key."""
    alg = KeyAlgorithm.parse(algorithm)
    if uri.alias is None:
        raise KeyURIError("creating a KMS key needs an alias URI: awskms://ENDPOINT/alias/NAME", uri=uri.text,
                          part="key")
    if alg not in _SPECS:
        raise KeyURIError(f"{alg.value} cannot sign a digest in a KMS; use ecdsa-p256, ecdsa-p384 or rsa-3072",
                          uri=uri.text, part="key algorithm")
    client = kms_client(uri, credentials)
    try:
        return read_public_key(uri, credentials)
    except KeyURIError as exc:
        if exc.part != "key" or "has no key" not in exc.message:
            raise
    return _new_key(client, uri, alg, alias_exists=False)


def _new_key(client: KMSClient, uri: AwsKmsURI, alg: KeyAlgorithm, *, alias_exists: bool) -> VerifyingKey:
    assert uri.alias is not None
    try:
        meta = client.create_key(KeySpec=_SPECS[alg][0], KeyUsage="SIGN_VERIFY",  # type: ignore[arg-type]
                                 Description="Created by labkit")["KeyMetadata"]
        if alias_exists:
            client.update_alias(AliasName=uri.alias, TargetKeyId=meta["KeyId"])
        else:
            client.create_alias(AliasName=uri.alias, TargetKeyId=meta["KeyId"])
    except _ERRORS as exc:
        raise _fail(exc, uri, "creating the key") from None
    return _public(client, uri, meta["KeyId"])


def rotate_alias(uri: AwsKmsURI, algorithm: str | KeyAlgorithm | None = None,
                 credentials: Credentials | None = None) -> VerifyingKey:
    """Point the URI's alias at a new key (same algorithm unless given); the new public key.

    Signatures made before keep verifying with the old public key only; a
    verifier that fetches the key through the alias sees the new key.
    """
    if uri.alias is None:
        raise KeyURIError("rotation moves an alias: use awskms://ENDPOINT/alias/NAME", uri=uri.text, part="key")
    alg = KeyAlgorithm.parse(algorithm) if algorithm is not None else read_public_key(uri, credentials).algorithm
    return _new_key(kms_client(uri, credentials), uri, alg, alias_exists=True)


def read_public_key(uri: AwsKmsURI, credentials: Credentials | None = None) -> VerifyingKey:
    """``GetPublicKey`` for the URI's key (an alias resolves to its current key)."""
    return _public(kms_client(uri, credentials), uri, uri.key)

