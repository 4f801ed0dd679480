"""The Sigstore TrustedRoot: which CAs, logs, CT logs and TSAs to trust, and when.

Format: protobuf-specs ``sigstore_trustroot.proto`` (``TrustedRoot``), proto3
JSON mapping read strictly by `labkit._internal.protojson` (the same reader as
bundles: JSON or proto field names, base64 bytes, enum names checked). Every
CA has a ``validFor`` ``TimeRange``; a public key's ``validFor`` is optional
(absent: valid at all times, as sigstore-python reads it). A present
``validFor`` needs its ``start`` and is closed (``start <= t <= end``, end
inclusive; no ``end`` means still valid). A key whose ``keyDetails``
contradicts the key itself is refused. A malformed root is rejected with
`TrustRootError`, never read as "unbounded".

    >>> root = TrustedRoot.production()
    >>> [t.base_url for t in root.tlogs][:1]
    ['https://rekor.sigstore.dev']
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.resources
import re
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from labkit._internal import protojson
from labkit._internal.chain_fastpath import ChainAnchor
from labkit._internal.cms_fastpath import TsaAnchor
from labkit._internal.fsutil import read_bytes
from labkit._internal.jsonio import JSONValue
from labkit._internal.protojson import HASH_ALGORITHM, PUBLIC_KEY_DETAILS, Message
from labkit.errors import KeyFileError, KeylessError
from labkit.keys import VerifyingKey, load_public_key

__all__ = ["TrustedRoot", "parse_rfc3339"]

#: Media types accepted (protobuf-specs: v0.1 spelled both ways, and v0.2).
_TRUSTED_ROOT_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
)

#: Where `TrustedRoot.for_log` starts a log key's validity by default: before any lab clock.
LAB_LOG_START = _dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


class TrustRootError(KeylessError):
    """A trusted root does not parse or violates the TrustedRoot specification."""

    hint = "Check the trusted_root.json: every CA needs a validFor with a start; keys and certificates in base64."


def parse_rfc3339(value: JSONValue, what: str) -> _dt.datetime:
    """Parse an RFC 3339 timestamp (protobuf ``Timestamp`` JSON) to an aware UTC datetime."""
    if not isinstance(value, str):
        raise TrustRootError(f"{what} must be an RFC 3339 string, got {type(value).__name__}")
    m = _RFC3339.match(value)
    if m is None:
        raise TrustRootError(f"{what} is not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    tz = m.group(8)
    try:
        when = _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=_dt.timezone.utc)
    except ValueError as exc:
        raise TrustRootError(f"{what} is not a valid date: {value!r} ({exc})") from None
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        when -= sign * _dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return when


@functools.lru_cache(maxsize=128)
def _load_key(der: bytes) -> VerifyingKey:
    return load_public_key(der)


_BEGINNING = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class TimeRange:
    """A closed validity interval; `end` None means open-ended."""

    start: _dt.datetime
    end: _dt.datetime | None = None

    #: A public key given without ``validFor``: valid at all times.
    ALWAYS: ClassVar[TimeRange]

    def contains(self, when: _dt.datetime) -> bool:
        """``start <= when <= end`` (protobuf-specs TimeRange: both bounds inclusive)."""
        if when < self.start:
            return False
        return self.end is None or when <= self.end

    def describe(self) -> str:
        """The range as text."""
        if self.start == _BEGINNING and self.end is None:
            return "[always: no validFor]"
        end = self.end.isoformat() if self.end else "open"
        return f"[{self.start.isoformat()}, {end}]"

    @classmethod
    def from_json(cls, data: JSONValue, what: str) -> TimeRange:
        """Parse a ``validFor`` object (`what` names it in errors)."""
        if not isinstance(data, dict):
            raise TrustRootError(f"{what}.validFor is missing or not an object")
        m = Message(data, f"{what}.validFor", TrustRootError)
        # protobuf-specs TimeRange: `start` is REQUIRED; a missing start is malformed, not "since forever".
        if not m.has("start"):
            raise TrustRootError(f"{what}.validFor.start is missing (it is required)")
        start = parse_rfc3339(m.raw("start"), f"{what}.validFor.start")
        end = parse_rfc3339(m.raw("end"), f"{what}.validFor.end") if m.has("end") else None
        if end is not None and end < start:
            raise TrustRootError(f"{what}.validFor ends before it starts")
        return cls(start, end)


TimeRange.ALWAYS = TimeRange(_BEGINNING)


def _message(data: JSONValue, what: str) -> Message:
    if not isinstance(data, dict):
        raise TrustRootError(f"{what} is missing or not an object")
    return Message(data, what, TrustRootError)


def _nonempty_bytes(m: Message, name: str) -> bytes:
    value = m.binary(name)
    if not value:
        raise TrustRootError(f"{m.where}.{name} is missing or not a base64 string")
    return value


#: What each classical ``PublicKeyDetails`` says the key is: (type, curve name or RSA size, '' for any).
_KEY_SHAPES: dict[str, tuple[str, str]] = {
    "PKCS1_RSA_PKCS1V5": ("RSA", ""), "PKCS1_RSA_PSS": ("RSA", ""), "PKIX_RSA_PKCS1V5": ("RSA", ""),
    "PKIX_RSA_PSS": ("RSA", ""),
    **{f"PKIX_RSA_{pad}_{bits}_SHA256": ("RSA", bits)
       for pad in ("PKCS1V15", "PSS") for bits in ("2048", "3072", "4096")},
    "PKIX_ECDSA_P256_HMAC_SHA_256": ("EC", "secp256r1"), "PKIX_ECDSA_P256_SHA_256": ("EC", "secp256r1"),
    "PKIX_ECDSA_P384_SHA_384": ("EC", "secp384r1"), "PKIX_ECDSA_P384_SHA_256": ("EC", "secp384r1"),
    "PKIX_ECDSA_P521_SHA_512": ("EC", "secp521r1"), "PKIX_ECDSA_P521_SHA_256": ("EC", "secp521r1"),
    "PKIX_ED25519": ("Ed25519", ""), "PKIX_ED25519_PH": ("Ed25519", ""),
}


def _key_shape(der: bytes) -> tuple[str, str] | None:
    """(type, curve or size) of a DER public key; None when it does not parse as a classical key."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm, TypeError):
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.name
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", str(key.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", ""
    return None


def _check_key_details(details: str, der: bytes, what: str) -> None:
    """Refuse a ``keyDetails`` that names another kind of key than the one given."""
    if details in ("", "PUBLIC_KEY_DETAILS_UNSPECIFIED"):
        return
    actual = _key_shape(der)
    if actual is None:
        return  # not a key labkit can read; using it fails later with its own error
    want = _KEY_SHAPES.get(details)  # None: a post-quantum or stateful scheme, never an RSA/EC/Ed25519 key
    if want is None or want[0] != actual[0] or (want[1] and want[1] != actual[1]):
        raise TrustRootError(
            f"{what}.keyDetails says {details}, but the key is {' '.join(filter(None, actual))}",
            details={"keyDetails": details, "key": " ".join(filter(None, actual))},
        )


@dataclass(frozen=True)
class TransparencyLogInstance:
    """A transparency log or CT log: its key, log ID and validity window."""

    base_url: str
    log_id: bytes
    key_der: bytes
    key_details: str
    valid_for: TimeRange
    checkpoint_key_id: bytes | None = None

    @property
    def origin_host(self) -> str:
        """The host part of `base_url` (the checkpoint signer name for Rekor v1 and v2)."""
        url = self.base_url.split("://", 1)[-1]
        return url.split("/", 1)[0]

    def verifying_key(self) -> VerifyingKey:
        """The log's public key (`TrustRootError` if its type is not supported)."""
        try:
            return _load_key(self.key_der)
        except KeyFileError as exc:
            raise TrustRootError(f"log key of {self.base_url} is unusable: {exc.message}") from None

    @classmethod
    def from_json(cls, data: JSONValue, what: str) -> TransparencyLogInstance:
        """Parse a trusted-root ``tlogs``/``ctlogs`` entry."""
        d = _message(data, what)
        pk = _message(d.raw("publicKey"), f"{what}.publicKey")
        ckid = d.optional_message("checkpointKeyId")
        key_der = _nonempty_bytes(pk, "rawBytes")
        key_details = pk.enum("keyDetails", PUBLIC_KEY_DETAILS)
        _check_key_details(key_details, key_der, pk.where)
        d.enum("hashAlgorithm", HASH_ALGORITHM)
        d.string("operator")
        return cls(
            base_url=d.string("baseUrl", required=True),
            log_id=_nonempty_bytes(_message(d.raw("logId"), f"{what}.logId"), "keyId"),
            key_der=key_der,
            key_details=key_details,
            # protobuf-specs PublicKey.valid_for is optional: without it the key is valid at all times.
            valid_for=TimeRange.from_json(pk.raw("validFor"), pk.where) if pk.has("validFor") else TimeRange.ALWAYS,
            checkpoint_key_id=(ckid.binary("keyId") or None) if ckid is not None else None,
        )


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA (Fulcio) or a timestamp authority: its chain (leaf-most first, root last) and validity."""

    uri: str
    chain_der: tuple[bytes, ...]
    valid_for: TimeRange
    subject: str = ""
    #: Parsed certificates, filled on first use (trust material only: never per bundle).
    _parsed: list[tuple[x509.Certificate, ...]] = field(default_factory=list, init=False, repr=False, compare=False)

    def certificates(self) -> list[x509.Certificate]:
        """The chain as `cryptography` certificates (parsed once per `CertificateAuthority`)."""
        if not self._parsed:
            out = []
            for der in self.chain_der:
                try:
                    out.append(x509.load_der_x509_certificate(der))
                except ValueError as exc:
                    raise TrustRootError(f"certificate of {self.uri} does not parse: {exc}") from None
            self._parsed.append(tuple(out))
        return list(self._parsed[0])

    @classmethod
    def from_json(cls, data: JSONValue, what: str) -> CertificateAuthority:
        """Parse a trusted-root ``certificateAuthorities`` entry."""
        d = _message(data, what)
        chain = _message(d.raw("certChain"), f"{what}.certChain").messages("certificates")
        if not chain:
            raise TrustRootError(f"{what}.certChain.certificates is missing or empty")
        ders = tuple(_nonempty_bytes(c, "rawBytes") for c in chain)
        for i, der in enumerate(ders):
            try:
                x509.load_der_x509_certificate(der)
            except ValueError:
                raise TrustRootError(f"{what}.certChain.certificates[{i}] is not a DER certificate") from None
        subject = d.optional_message("subject")
        name = ""
        if subject is not None:
            name = "/".join(filter(None, (subject.string("organization"), subject.string("commonName"))))
        d.string("operator")
        return cls(
            uri=d.string("uri"),
            chain_der=ders,
            valid_for=TimeRange.from_json(d.raw("validFor"), what),
            subject=name,
        )


@dataclass(frozen=True)
class TrustedRoot:
    """A parsed TrustedRoot."""

    media_type: str
    tlogs: tuple[TransparencyLogInstance, ...] = ()
    certificate_authorities: tuple[CertificateAuthority, ...] = ()
    ctlogs: tuple[TransparencyLogInstance, ...] = ()
    timestamp_authorities: tuple[CertificateAuthority, ...] = ()
    source: str = field(default="", compare=False)

    @functools.cached_property
    def derived(self) -> TrustDerived:
        """Work derived from this trusted root only, done on first use and kept for the object's lifetime."""
        return TrustDerived()

    @classmethod
    def from_json(cls, data: bytes | str, *, source: str = "") -> TrustedRoot:
        """Parse TrustedRoot JSON strictly (`TrustRootError` on anything malformed)."""
        d = _message(protojson.loads(data, what="trusted root", error=TrustRootError), "trusted root")
        media_type = d.raw("mediaType")
        if media_type not in _TRUSTED_ROOT_MEDIA_TYPES:
            raise TrustRootError(
                f"unsupported trusted root media type {media_type!r}",
                details={"expected": " or ".join(_TRUSTED_ROOT_MEDIA_TYPES), "actual": media_type},
            )
        many = d.repeated

        return cls(
            media_type=str(media_type),
            tlogs=tuple(TransparencyLogInstance.from_json(x, f"tlogs[{i}]") for i, x in enumerate(many("tlogs"))),
            certificate_authorities=tuple(
                CertificateAuthority.from_json(x, f"certificateAuthorities[{i}]")
                for i, x in enumerate(many("certificateAuthorities"))
            ),
            ctlogs=tuple(TransparencyLogInstance.from_json(x, f"ctlogs[{i}]") for i, x in enumerate(many("ctlogs"))),
            timestamp_authorities=tuple(
                CertificateAuthority.from_json(x, f"timestampAuthorities[{i}]")
                for i, x in enumerate(many("timestampAuthorities"))
            ),
            source=source,
        )

    @classmethod
    def for_log(
        cls,
        base_url: str,
        key: VerifyingKey,
        *,
        log_id: bytes | None = None,
        start: _dt.datetime = LAB_LOG_START,
        certificate_authorities: tuple[CertificateAuthority, ...] = (),
    ) -> TrustedRoot:
        """A trusted root that trusts one log: `key` at `base_url`, valid from `start` (no end).

        `log_id` defaults to SHA-256 of the key's DER SubjectPublicKeyInfo (protobuf-specs
        sigstore_trustroot.proto: a Rekor v1 log's ``logId``). This is the one builder of such roots
        (tests, the attack lab's sandbox logs, ``labkit demo``); `labkit log trusted-root` writes the same as JSON.
        """
        log = TransparencyLogInstance(
            base_url=base_url, log_id=key.key_id() if log_id is None else log_id, key_der=key.der(),
            key_details=key.algorithm.key_details, valid_for=TimeRange(start),
        )
        return cls(_TRUSTED_ROOT_MEDIA_TYPES[0], (log,), certificate_authorities)

    @classmethod
    def from_file(cls, path: str) -> TrustedRoot:
        """Read and parse a trusted_root.json file."""
        return cls.from_json(read_bytes(path, "trusted root"), source=str(path))

    @classmethod
    def production(cls) -> TrustedRoot:
        """The pinned Sigstore public-good trusted root shipped in labkit (no network).

        Parsed once per process: it is immutable trust material, so every caller shares one object
        (and its trust-root-only cache).
        """
        if cls is not TrustedRoot:
            return cls.from_json(_production_bytes(), source="sigstore public-good (pinned)")
        return _production_root()

    @functools.cached_property
    def _tlog_index(self) -> dict[bytes, TransparencyLogInstance]:
        return _index(self.tlogs)

    @functools.cached_property
    def _ctlog_index(self) -> dict[bytes, TransparencyLogInstance]:
        return _index(self.ctlogs)

    def tlog(self, log_id: bytes) -> TransparencyLogInstance | None:
        """The transparency log with this log ID, if trusted."""
        return self._tlog_index.get(log_id)

    def ctlog(self, log_id: bytes) -> TransparencyLogInstance | None:
        """The CT log with this log ID, if trusted."""
        return self._ctlog_index.get(log_id)


def _index(logs: tuple[TransparencyLogInstance, ...]) -> dict[bytes, TransparencyLogInstance]:
    index: dict[bytes, TransparencyLogInstance] = {}
    for t in logs:
        index.setdefault(t.log_id, t)  # the first listed log wins, as a linear search would
    return index


@dataclass
class TrustDerived:
    """What verification derives from one trusted root only, typed, filled on first use (`TrustedRoot.derived`).

    Validated CA/TSA chains (or why they fail), the CA certificates, SCT issuer key hashes, TSA and
    leaf-chain fast-path anchors. Nothing derived from a bundle is ever stored here; see docs/adr/0003-fast-paths.md
    and docs/adr/0005-leaf-chain-fast-path.md.
    """

    #: (is a TSA, authority) -> its validated chain, or the error that refused it.
    authority_chains: dict[tuple[bool, CertificateAuthority], tuple[x509.Certificate, ...] | TrustRootError] = field(
        default_factory=dict
    )
    ca_certificates: frozenset[x509.Certificate] | None = None
    #: CA certificate -> SHA-256 of its SubjectPublicKeyInfo (RFC 6962 issuer_key_hash).
    sct_issuer_key_hashes: dict[x509.Certificate, bytes] = field(default_factory=dict)
    #: TSA -> its validated fast-path anchor (None: its timestamps take the full verification).
    tsa_anchors: dict[CertificateAuthority, TsaAnchor | None] = field(default_factory=dict)
    #: CA -> its validated leaf-chain fast-path anchor (None: its leaves take the full path builder).
    chain_anchors: dict[CertificateAuthority, ChainAnchor | None] = field(default_factory=dict)
    #: CAs that have chained one leaf: the anchor is built on the second (a one-shot root skips the probe).
    chain_used: set[CertificateAuthority] = field(default_factory=set)
    #: The verify checklist's LAB note for this root (`labkit.verify.lab_material.lab_note`), once computed.
    lab_note: str | None = None
    #: The detail of the checklist's passed ``trust_root.parse`` step, once every chain of this root validated.
    trust_detail: str | None = None


def _production_bytes() -> bytes:
    return importlib.resources.files("labkit").joinpath("_store/production_trusted_root.json").read_bytes()


@functools.lru_cache(maxsize=1)
def _production_root() -> TrustedRoot:
    return TrustedRoot.from_json(_production_bytes(), source="sigstore public-good (pinned)")


def is_pinned_production(root: TrustedRoot) -> bool:
    """True when `root` is the object `TrustedRoot.production()` returned (the pinned public-good root)."""
    return _production_root.cache_info().currsize > 0 and root is _production_root()
