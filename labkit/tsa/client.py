"""Asking a timestamp authority for a timestamp over a signature, as cosign and sigstore-python do.

Both timestampers send a TimeStampReq over the signature bytes (SHA-256
imprint, a random nonce, certReq TRUE) and return the DER TimeStampResp
that goes into a bundle's ``timestampVerificationData``. Before returning it
they check what the client can check without trust material (RFC 3161
§2.4.2): status granted, the imprint is over this signature, the nonce is
echoed. Whether the TSA is trusted is the verifier's question
(`labkit.verify.timestamp`), not the signer's.

`HTTPTimestamper` talks to a URL (``POST application/timestamp-query``);
`LocalTimestamper` calls a `TimestampAuthority` in process (notebooks).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import requests

from labkit._internal import der
from labkit.errors import KeylessError
from labkit.lab import Entropy, SystemEntropy
from labkit.tsa.authority import PKIStatus, TimestampAuthority, build_request
from labkit.tsa.server import QUERY_TYPE

__all__ = ["HTTPTimestamper", "LocalTimestamper", "Timestamper"]

#: A TimeStampResp with a two-certificate chain is about 2 KiB; anything past this is refused unread.
_MAX_RESPONSE_BYTES = 64 * 1024
_SHA256_OID = "2.16.840.1.101.3.4.2.1"


class TimestampFailed(KeylessError):
    """The timestamp authority did not give a usable timestamp."""

    hint = "Check the TSA URL in the signing config and that the TSA is running (labkit serve)."


class Timestamper(Protocol):
    """Anything that returns a DER TimeStampResp over `signature`."""

    def timestamp(self, signature: bytes) -> bytes:
        """A checked TimeStampResp (DER) over `signature`."""
        ...


def _nonce(entropy: Entropy) -> int:
    # 64 bits, positive, as sigstore-go and rfc3161-client use.
    return int.from_bytes(entropy.random_bytes("tsa/nonce", 8), "big") >> 1 | 1


def _status_text(status_info: der.Element) -> str:
    texts = [x for x in der.children(status_info)[1:] if x.tag == der.SEQUENCE]
    if not texts:
        return ""
    return "; ".join(t.content.decode("utf-8", "replace") for t in der.children(texts[0]))


def _refusal(response: bytes) -> str:
    """The status text of a DER TimeStampResp rejection, or "" when `response` is not one."""
    try:
        status_info = der.children(der.parse(response))[0]
        return _status_text(status_info) or f"status {der.decode_integer(der.children(status_info)[0])}"
    except (der.DERError, IndexError):
        return ""


def check_response(response: bytes, signature: bytes, nonce: int) -> None:
    """Raise `TimestampFailed` unless `response` is granted, over SHA-256(`signature`), and echoes `nonce`."""
    try:
        top = der.children(der.parse(response))
        status = der.decode_integer(der.children(top[0])[0])
        if status not in (PKIStatus.GRANTED, 1):  # 1 = grantedWithMods
            raise TimestampFailed(f"the TSA refused the request (status {status}): {_status_text(top[0])}")
        if len(top) != 2:
            raise TimestampFailed("the TSA granted the request but sent no timestamp token")
        signed_data = der.children(der.children(der.children(top[1])[1])[0])
        content = der.children(der.children(signed_data[2])[1])[0]
        tst_info = der.children(der.parse(content.content))
        imprint = der.children(tst_info[2])
        algorithm = der.decode_oid(der.children(imprint[0])[0])
        nonces = [x for x in tst_info[5:] if x.tag == der.INTEGER]
    except (der.DERError, IndexError) as exc:
        raise TimestampFailed(f"the TSA's response is not a TimeStampResp: {exc}") from None
    if algorithm != _SHA256_OID or imprint[1].content != hashlib.sha256(signature).digest():
        raise TimestampFailed("the TSA's timestamp is over something other than this signature")
    if not nonces or der.decode_integer(nonces[0]) != nonce:
        raise TimestampFailed("the TSA's timestamp does not echo the request's nonce (RFC 3161 §2.4.2)")


class LocalTimestamper:
    """Timestamps from a `TimestampAuthority` in this process."""

    def __init__(self, authority: TimestampAuthority, *, entropy: Entropy | None = None) -> None:
        self.authority = authority
        self.entropy: Entropy = entropy or authority.entropy

    def timestamp(self, signature: bytes) -> bytes:
        """A checked TimeStampResp over `signature`."""
        nonce = _nonce(self.entropy)
        response = self.authority.respond(build_request(signature, nonce=nonce, cert_req=True))
        check_response(response, signature, nonce)
        return response


class HTTPTimestamper:
    """Timestamps from a TSA URL such as ``http://127.0.0.1:PORT/api/v1/timestamp``."""

    def __init__(self, url: str, *, timeout: float = 10.0, entropy: Entropy | None = None,
                 session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.entropy: Entropy = entropy or SystemEntropy()
        self.session = session or requests.Session()

    def _post(self, body: bytes) -> tuple[int, bytes]:
        try:
            with self.session.post(self.url, data=body, headers={"Content-Type": QUERY_TYPE},
                                   timeout=self.timeout, stream=True) as reply:
                length = reply.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > _MAX_RESPONSE_BYTES:
                    raise TimestampFailed(f"the TSA at {self.url} sent {length} bytes; the limit is "
                                          f"{_MAX_RESPONSE_BYTES}")
                data = b""
                for chunk in reply.iter_content(16 * 1024):
                    data += chunk
                    if len(data) > _MAX_RESPONSE_BYTES:
                        raise TimestampFailed(f"the TSA at {self.url} sent more than {_MAX_RESPONSE_BYTES} bytes")
                return reply.status_code, data
        except requests.RequestException as exc:
            raise TimestampFailed(f"cannot reach the TSA at {self.url}: {exc}") from None

    def timestamp(self, signature: bytes) -> bytes:
        """A checked TimeStampResp over `signature`."""
        nonce = _nonce(self.entropy)
        status, response = self._post(build_request(signature, nonce=nonce, cert_req=True))
        if status not in (200, 201):
            # labkit's TSA sends an RFC 3161 rejection with its 400; sigstore's sends JSON.
            why = _refusal(response) or response[:200].decode("utf-8", "replace").strip()
            raise TimestampFailed(f"the TSA at {self.url} answered HTTP {status}" + (f": {why}" if why else ""))
        check_response(response, signature, nonce)
        return response
