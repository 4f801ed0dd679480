"""`labkit bundle inspect`: what a bundle claims, decoded with the verifier's own parsers, never verified.

For every bundle in the input (a bundle, a PEP 740 object or an npm response, see
`labkit.analyst.wrappers`): media type and version, content kind, each
certificate's identity (SAN, OIDC issuer from Fulcio extension
1.3.6.1.4.1.57264.1.8 or .1.1, the workflow extensions .1.2-.1.22 by name),
the log entries (kind, version, log ID, index, integrated time, checkpoint),
the RFC 3161 timestamps (time, TSA) and, for DSSE, the statement's subjects and
predicate type. Nothing is checked: a claim printed here is only a claim.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography import x509

from labkit._internal import protojson
from labkit.analyst.wrappers import Unwrapped, unwrap
from labkit.bundle import MAX_BUNDLE_BYTES, Bundle, MessageSignature, TransparencyLogEntry
from labkit.checks import CheckResult, Recorder, StepTable
from labkit.errors import BundleFormatError, LabkitError
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Envelope, Statement
from labkit.tlog.checkpoint import SignedNote
from labkit.verify.fulcio import FULCIO_EXTENSIONS, fulcio_extensions
from labkit.verify.policy import certificate_identity
from labkit.verify.timestamp import describe_timestamp

__all__ = ["check_predicate_type", "inspect_document"]

NOT_VERIFIED = "NOT VERIFIED: inspect decodes what the bundle claims and checks nothing (use verify-bundle)"
_TITLES = {e.name: e.title for e in FULCIO_EXTENSIONS}


@dataclass
class CertificateView:
    """One certificate's identity, decoded."""

    position: str
    subject: str = ""
    issuer_dn: str = ""
    serial: str = ""
    not_before: str = ""
    not_after: str = ""
    sha256: str = ""
    san: list[str] = field(default_factory=list)
    oidc_issuer: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass
class EntryView:
    """One transparency-log entry's claims."""

    kind: str
    version: str
    log_id: str
    log_index: int
    integrated_time: str | None
    inclusion_promise: bool
    proof_index: int | None = None
    tree_size: int | None = None
    checkpoint_origin: str = ""
    checkpoint_size: int | None = None
    checkpoint_signers: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class TimestampView:
    """One RFC 3161 timestamp's claims."""

    time: str = ""
    tsa: str = ""
    hash_algorithm: str = ""
    certificates: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class ContentView:
    """The signed content: a message signature or a DSSE envelope (and its statement)."""

    kind: str
    digest: str = ""
    payload_type: str = ""
    predicate_type: str = ""
    subjects: list[dict[str, Any]] = field(default_factory=list)
    signatures: int = 1
    error: str = ""


@dataclass
class BundleReport:
    """Everything one bundle claims, and where it came from."""

    source: str
    media_type: str
    version: str
    material: str
    content: ContentView
    key_hint: str | None = None
    certificates: list[CertificateView] = field(default_factory=list)
    entries: list[EntryView] = field(default_factory=list)
    timestamps: list[TimestampView] = field(default_factory=list)
    verified: bool = False
    note: str = NOT_VERIFIED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @property
    def signer(self) -> str:
        """Who signed, as claimed: the leaf's SAN and issuer, or the key hint."""
        if self.certificates:
            leaf = self.certificates[0]
            if leaf.error:
                return f"(certificate does not parse: {leaf.error})"
            return f"{', '.join(leaf.san) or '(no SAN)'} via {leaf.oidc_issuer or '(no OIDC issuer extension)'}"
        return f"managed key (hint {self.key_hint or 'none'})"

    def text(self) -> str:
        """The report as an indented plain-text tree."""
        lines = [f"{self.source}: {self.media_type} (v{self.version})", f"  {self.note}",
                 f"  content: {self.content.kind}"]
        c = self.content
        for label, value in (("digest", c.digest), ("payload type", c.payload_type),
                             ("predicate type", c.predicate_type), ("problem", c.error)):
            if value:
                lines.append(f"    {label}: {value}")
        for s in c.subjects:
            digests = ", ".join(f"{k}:{v}" for k, v in sorted(s.get("digest", {}).items()))
            lines.append(f"    subject: {s.get('name') or '(unnamed)'} {digests}")
        lines.append(f"  signed with: {self.material}")
        lines.append(f"  signer (claimed): {self.signer}")
        for cert in self.certificates:
            lines.extend(_cert_lines(cert))
        lines.append(f"  transparency log entries: {len(self.entries)}")
        for i, e in enumerate(self.entries):
            lines.extend(_entry_lines(i, e))
        lines.append(f"  RFC 3161 timestamps: {len(self.timestamps)}")
        for i, t in enumerate(self.timestamps):
            lines.append(f"    [{i}] " + (f"does not decode: {t.error}" if t.error else f"{t.time} by {t.tsa}"))
        return "\n".join(lines)


def _cert_lines(cert: CertificateView) -> list[str]:
    if cert.error:
        return [f"  certificate {cert.position}: does not parse: {cert.error}"]
    out = [f"  certificate {cert.position}: {cert.subject or '(empty subject)'} issued by {cert.issuer_dn}",
           f"    valid {cert.not_before} .. {cert.not_after}; sha256 {cert.sha256}"]
    if cert.san:
        out.append(f"    SAN: {', '.join(cert.san)}")
    for name, value in cert.extensions.items():
        out.append(f"    {_TITLES.get(name, name)}: {value}")
    return out


def _entry_lines(i: int, e: EntryView) -> list[str]:
    when = e.integrated_time or "none (Rekor v2 entries carry no integrated time)"
    out = [f"    [{i}] {e.kind} {e.version}, log {e.log_id}, index {e.log_index}, integrated {when}",
           f"        inclusion promise: {'yes' if e.inclusion_promise else 'no'}"]
    if e.tree_size is not None:
        out.append(f"        inclusion proof: index {e.proof_index} in tree of {e.tree_size}")
    if e.checkpoint_origin:
        out.append(f"        checkpoint: {e.checkpoint_origin}, size {e.checkpoint_size}, "
                   f"signed by {', '.join(e.checkpoint_signers) or 'nobody'}")
    if e.error:
        out.append(f"        problem: {e.error}")
    return out


def _utc(seconds: int) -> str:
    try:
        return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (out of range)"


def _certificate(der: bytes, position: str) -> CertificateView:
    view = CertificateView(position, sha256=hashlib.sha256(der).hexdigest())
    try:
        cert = x509.load_der_x509_certificate(der)
        view.subject = cert.subject.rfc4514_string()
        view.issuer_dn = cert.issuer.rfc4514_string()
        view.serial = format(cert.serial_number, "x")
        view.not_before = cert.not_valid_before_utc.isoformat()
        view.not_after = cert.not_valid_after_utc.isoformat()
        ident = certificate_identity(cert)
        view.san = list(ident.sans)
        view.oidc_issuer = ident.issuer
        view.extensions = fulcio_extensions(cert)
    except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        view.error = str(exc) or type(exc).__name__
    return view


def _entry(e: TransparencyLogEntry) -> EntryView:
    view = EntryView(
        e.kind, e.version, e.log_id.hex(), e.log_index,
        None if not e.integrated_time else _utc(e.integrated_time), e.inclusion_promise is not None,
    )
    proof = e.inclusion_proof
    if proof is not None:
        view.proof_index, view.tree_size = proof.log_index, proof.tree_size
        if proof.checkpoint:
            try:
                note = SignedNote.parse(proof.checkpoint)
                cp = note.checkpoint()
                view.checkpoint_origin, view.checkpoint_size = cp.origin, cp.size
                view.checkpoint_signers = [f"{s.name} ({s.key_hint.hex()})" for s in note.signatures]
            except LabkitError as exc:
                view.error = f"checkpoint does not parse: {exc.message}"
    return view


def _timestamp(data: bytes) -> TimestampView:
    try:
        facts = describe_timestamp(data)
    except LabkitError as exc:
        return TimestampView(error=exc.message)
    return TimestampView(facts.time.isoformat(), facts.signer, facts.hash_algorithm, list(facts.embedded_certificates))


def _content(bundle: Bundle) -> ContentView:
    content = bundle.content
    if isinstance(content, MessageSignature):
        alg = content.algorithm or "(no digest)"
        return ContentView("message signature", f"{alg}:{content.digest.hex()}" if content.digest else alg)
    assert isinstance(content, Envelope)
    view = ContentView("DSSE envelope", payload_type=content.payload_type, signatures=len(content.signatures))
    if content.payload_type == INTOTO_PAYLOAD_TYPE:
        try:
            st = Statement.from_json(content.payload)
            view.predicate_type = st.predicate_type
            view.subjects = [{"name": s.name, "digest": dict(s.digest)} for s in st.subjects]
        except LabkitError as exc:
            view.error = f"the in-toto statement does not parse: {exc.message}"
    return view


def inspect_bundle(bundle: Bundle, source: str = "Sigstore bundle") -> BundleReport:
    """Decode one parsed bundle's claims (never verifies, never raises on odd claims)."""
    vm = bundle.verification_material
    if vm.public_key_hint is not None:
        material = "managed key (publicKey hint)"
    elif vm.certificate is not None:
        material = "certificate (v0.3 single leaf)"
    else:
        material = f"certificate chain of {len(vm.certificate_chain or [])}"
    major, minor = bundle.version
    report = BundleReport(source, bundle.media_type, f"{major}.{minor}", material, _content(bundle),
                          key_hint=vm.public_key_hint)
    if vm.certificate is not None:
        report.certificates.append(_certificate(vm.certificate, "leaf"))
    for i, der in enumerate(vm.certificate_chain or []):
        report.certificates.append(_certificate(der, "leaf" if i == 0 else f"chain[{i}]"))
    report.entries = [_entry(e) for e in vm.tlog_entries]
    report.timestamps = [_timestamp(t) for t in vm.rfc3161_timestamps]
    return report


def read_document(data: bytes | str) -> Any:
    """Parse input JSON with the bundle reader's bounded, strict JSON reader."""
    return protojson.loads(data, what="bundle", error=BundleFormatError, max_bytes=MAX_BUNDLE_BYTES)


def inspect_document(data: bytes | str) -> list[BundleReport]:
    """Every bundle in the input (bundle or wrapper), inspected; raises `BundleFormatError` if one is malformed."""
    found: list[Unwrapped] = unwrap(read_document(data))
    return [inspect_bundle(Bundle.from_dict(u.doc), u.label) for u in found]


#: The step `check_predicate_type` appends: id -> (title, spec).
PREDICATE_TYPE_STEPS: StepTable = {
    "policy.predicate_type": ("The attestation has the expected predicate type", "in-toto Statement v1 predicateType"),
}


def check_predicate_type(result: CheckResult, bundle: bytes | str, want: str) -> bool:
    """gh's ``--predicate-type``: append a ``policy.predicate_type`` step comparing the statement's type; returns ok."""
    try:
        content = Bundle.from_json(bundle).content
        got = Statement.from_json(content.payload).predicate_type if isinstance(content, Envelope) else "(no DSSE)"
    except LabkitError as exc:
        got = f"(unreadable: {exc.message})"
    detail = "" if got == want else "another predicate type"
    return Recorder(result, PREDICATE_TYPE_STEPS).record("policy.predicate_type", got == want, detail,
                                                         expected=want, actual=got)
