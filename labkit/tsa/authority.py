"""An RFC 3161 timestamp authority with no IO: DER TimeStampReq in, DER TimeStampResp out.

A granted response (RFC 3161 §2.4.2) carries a TimeStampToken: CMS SignedData
(RFC 5652 §5) over a TSTInfo, signed by the TSA leaf with the signed
attributes content-type (id-ct-TSTInfo), message-digest and the ESS
signing-certificate-v2 that binds the TSA certificate (RFC 5816). A refused
request gets status rejection with one failInfo bit and no token, so a bad
request is never signed.

    >>> from labkit.lab import Lab
    >>> tsa = TimestampAuthority.create(lab=Lab(seed="docs"))
    >>> reply = tsa.respond(build_request(b"signature bytes"))
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal import der
from labkit.keys import KeyAlgorithm, SigningKey
from labkit.lab import Clock, Entropy, Lab, SystemClock, SystemEntropy
from labkit.tsa.chain import TSAMaterial, check_tsa_chain, create_tsa
from labkit.tsa.request import MAX_REQUEST_BYTES, FailureInfo, RequestCheck, RequestRefused, explain_request

__all__ = ["TimestampAuthority"]

#: labkit's TSA policy: an OID minted from a UUID (ITU-T X.667 arc 2.25), as no registered arc is labkit's.
LAB_POLICY_OID = "2.25.199372833199221027952820365564245033342"

_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_DIGEST_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1", "sha384": "2.16.840.1.101.3.4.2.2", "sha512": "2.16.840.1.101.3.4.2.3",
}
_ECDSA_OIDS = {"sha256": "1.2.840.10045.4.3.2", "sha384": "1.2.840.10045.4.3.3"}


class PKIStatus:
    """PKIStatus values (RFC 3161 §2.4.2)."""

    GRANTED = 0
    REJECTION = 2


@dataclass(frozen=True)
class Accuracy:
    """How far genTime may be from the true time (RFC 3161 §2.4.2 Accuracy)."""

    seconds: int = 1
    millis: int = 0
    micros: int = 0

    def der(self) -> bytes:
        """Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] OPTIONAL, micros [1] OPTIONAL }."""
        parts = []
        if self.seconds:
            parts.append(der.integer(self.seconds))
        for number, value in ((0, self.millis), (1, self.micros)):
            if value:
                parts.append(der.context(number, der.integer(value)[2:], constructed=False))
        return der.sequence(*parts)


def _algorithm(oid: str) -> bytes:
    """AlgorithmIdentifier with absent parameters (RFC 5754 §2, RFC 5758 §3.2)."""
    return der.sequence(der.oid(oid))


def _status(status: int, text: str = "", fail_info: FailureInfo | None = None) -> bytes:
    parts = [der.integer(status)]
    if text:
        parts.append(der.sequence(der.utf8_string(text)))
    if fail_info is not None:
        parts.append(der.bit_string([fail_info]))
    return der.sequence(*parts)


def failure_response(fail_info: FailureInfo, text: str) -> bytes:
    """A TimeStampResp with status rejection, a status string and one failInfo bit; no token."""
    return der.sequence(_status(PKIStatus.REJECTION, text, fail_info))


def _issuer_and_serial(cert_der: bytes) -> tuple[bytes, bytes]:
    """The raw DER issuer Name and serialNumber INTEGER of a certificate (RFC 5280 §4.1)."""
    tbs = der.children(der.children(der.parse(cert_der))[0])
    if tbs[0].tag == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    return tbs[2].raw, tbs[0].raw


def build_request(data: bytes, *, hash_name: str = "sha256", nonce: int | None = None, cert_req: bool = True,
                  policy: str | None = None) -> bytes:
    """A DER TimeStampReq over `data` (what a client sends; for notebooks, tests and in-process use)."""
    if hash_name not in _DIGEST_OIDS:
        raise RequestRefused(f"unsupported hash {hash_name!r}; use sha256, sha384 or sha512", FailureInfo.BAD_ALG)
    imprint = der.sequence(_algorithm(_DIGEST_OIDS[hash_name]), der.octet_string(hashlib.new(hash_name, data).digest()))
    parts = [der.integer(1), imprint]
    if policy is not None:
        parts.append(der.oid(policy))
    if nonce is not None:
        parts.append(der.integer(nonce))
    if cert_req:
        parts.append(der.boolean(True))
    return der.sequence(*parts)


class TimestampAuthority:
    """Grants RFC 3161 timestamps with one signing key and its chain [leaf, intermediates..., root].

    `clock` gives genTime; `entropy` the serial-number prefix (see
    `_next_serial`; with a lab seed the sequence repeats run after run). Only
    `policies` are accepted in requests; `policy` is answered when a request
    names none.
    """

    def __init__(
        self,
        signing_key: SigningKey,
        chain: Sequence[x509.Certificate],
        *,
        clock: Clock | None = None,
        entropy: Entropy | None = None,
        policy: str = LAB_POLICY_OID,
        policies: Collection[str] = (),
        accuracy: Accuracy = Accuracy(),
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        check_tsa_chain(signing_key, chain)
        self.signing_key = signing_key
        self.chain = tuple(chain)
        self.clock: Clock = clock or SystemClock()
        self.entropy: Entropy = entropy or SystemEntropy()
        self.policy = policy
        self.policies = frozenset({policy, *policies})
        self.accuracy = accuracy
        self.max_request_bytes = max_request_bytes
        self._leaf_der = self.chain[0].public_bytes(serialization.Encoding.DER)
        self._hash = "sha384" if signing_key.algorithm is KeyAlgorithm.ECDSA_P384 else "sha256"
        issuer, serial = _issuer_and_serial(self._leaf_der)
        self._sid = der.sequence(issuer, serial)
        self._ess_attribute = self._signing_certificate_v2(issuer, serial)
        self._serial_prefix = self.entropy.random_bytes("tsa/serial-prefix", 16)
        self._counter = 0
        self._lock = threading.Lock()

    @classmethod
    def create(cls, *, lab: Lab | None = None, material: TSAMaterial | None = None,
               clock: Clock | None = None) -> TimestampAuthority:
        """A TSA from `material` (default: a new `create_tsa(lab=lab)`), on the lab's clock and entropy if given."""
        material = material or create_tsa(lab=lab)
        return cls(
            material.signing_key, material.chain,
            clock=clock or (lab.clock if lab is not None else None),
            entropy=lab.entropy if lab is not None else None,
        )

    @property
    def lab(self) -> bool:
        """True when the TSA signs with a lab (seeded) key."""
        return self.signing_key.lab

    def chain_pem(self) -> bytes:
        """The chain, leaf first, as concatenated PEM."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def _signing_certificate_v2(self, issuer: bytes, serial: bytes) -> bytes:
        """ESS signing-certificate-v2 (RFC 5035 §3, RFC 5816 §2.2.1): SHA-256 of the leaf, with issuer/serial."""
        issuer_serial = der.sequence(der.sequence(der.context(4, issuer)), serial)  # GeneralNames { directoryName }
        # hashAlgorithm is omitted: its DEFAULT is id-sha256 (X.690 §11.5: DER leaves out default values).
        cert_id = der.sequence(der.octet_string(hashlib.sha256(self._leaf_der).digest()), issuer_serial)
        value = der.sequence(der.sequence(cert_id))
        return der.sequence(der.oid(_OID_SIGNING_CERTIFICATE_V2), der.set_of([value]))

    def _next_serial(self, request: bytes) -> int:
        """A positive serial of at most 127 bits: a digest of (TSA prefix, genTime, imprint, nonce), then a counter.

        The counter keeps every serial of this object distinct; the digest keeps serials distinct across
        restarts (a real TSA's prefix is random; a lab TSA's repeats, and so does its whole token for the
        same request at the same lab time). RFC 3161 §2.4.2: unique per TSA, at most 160 bits.
        """
        with self._lock:
            self._counter += 1
            counter = self._counter
        digest = hashlib.sha256(self._serial_prefix + request).digest()
        return (int.from_bytes(digest[:8], "big") >> 1) << 64 | counter

    def explain(self, request_der: bytes) -> RequestCheck:
        """The checks this TSA makes on a request, as ordered steps (never raises); see `respond`."""
        return explain_request(request_der, max_bytes=self.max_request_bytes, policies=self.policies)

    def respond(self, request_der: bytes) -> bytes:
        """Answer a DER TimeStampReq: a granted TimeStampResp, or a rejection with failInfo (never raises on input)."""
        check = self.explain(request_der)
        request = check.request
        if request is None:
            failed = check.failed_step
            return failure_response(check.fail_info, check.message(failed) if failed else "request refused")
        tst_info = self._tst_info(request.imprint_der, request.policy or self.policy, request.nonce_der)
        token = self._signed_data(tst_info, request.cert_req)
        return der.sequence(_status(PKIStatus.GRANTED), token)

    def _tst_info(self, imprint_der: bytes, policy: str, nonce_der: bytes | None) -> bytes:
        """TSTInfo (RFC 3161 §2.4.2): version, policy, the request's imprint, serial, genTime, accuracy, nonce.

        genTime is whole seconds (the accuracy is one second; rfc3161-client drops fractions anyway).
        """
        gen_time = der.generalized_time(self.clock.now().replace(microsecond=0))
        serial = der.integer(self._next_serial(gen_time + imprint_der + (nonce_der or b"")))
        parts = [der.integer(1), der.oid(policy), imprint_der, serial, gen_time, self.accuracy.der()]
        if nonce_der is not None:
            parts.append(nonce_der)
        return der.sequence(*parts)

    def _signed_data(self, tst_info: bytes, cert_req: bool) -> bytes:
        """ContentInfo { id-signedData, [0] SignedData } with one SignerInfo (RFC 5652 §5.1, §5.3)."""
        digest_alg = _algorithm(_DIGEST_OIDS[self._hash])
        attrs = [
            der.sequence(der.oid(_OID_CONTENT_TYPE), der.set_of([der.oid(_OID_TST_INFO)])),
            der.sequence(der.oid(_OID_MESSAGE_DIGEST),
                         der.set_of([der.octet_string(hashlib.new(self._hash, tst_info).digest())])),
            self._ess_attribute,
        ]
        signed_attrs = der.set_of(attrs)  # RFC 5652 §5.4: the signature covers the SET OF's DER, tag 0x31
        signature = self.signing_key.sign(signed_attrs)
        signer_info = der.sequence(
            der.integer(1), self._sid, digest_alg,
            b"\xa0" + signed_attrs[1:],  # [0] IMPLICIT SET OF Attribute
            _algorithm(_ECDSA_OIDS[self._hash]), der.octet_string(signature),
        )
        parts = [
            der.integer(3),  # RFC 5652 §5.1: version 3 when eContentType is not id-data
            der.set_of([digest_alg]),
            der.sequence(der.oid(_OID_TST_INFO), der.context(0, der.octet_string(tst_info))),
        ]
        if cert_req:  # RFC 3161 §2.4.1: certReq TRUE → the TSA's certificate MUST be in certificates
            parts.append(der.context(0, self._leaf_der))
        parts.append(der.set_of([signer_info]))
        return der.sequence(der.oid(_OID_SIGNED_DATA), der.context(0, der.sequence(*parts)))

    def timestamp(self, data: bytes, *, hash_name: str = "sha256", nonce: int | None = None,
                  cert_req: bool = True) -> bytes:
        """Timestamp `data` in process: build the request, answer it (a TimeStampResp, granted or not)."""
        return self.respond(build_request(data, hash_name=hash_name, nonce=nonce, cert_req=cert_req))

    def __repr__(self) -> str:
        tag = "LAB " if self.lab else ""
        return f"<TimestampAuthority {tag}{self.chain[0].subject.rfc4514_string()}>"

