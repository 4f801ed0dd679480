"""Conversions to the v0.3 bundle other Sigstore clients verify.

* `convert_document`: a wrapper (PEP 740 object, npm response) or a bundle, read
  through the one recogniser (`labkit.analyst.wrappers`) and the strict bundle
  reader, written back as protobuf JSON. Wrapper bundles are v0.3 already;
  v0.1/v0.2 bundles are upgraded by `to_v03`.
* `to_v03`: v0.1/v0.2 to v0.3 (protobuf-specs ``sigstore_bundle.proto``: a v0.3
  bundle carries the leaf as ``certificate`` and every entry an inclusion proof
  with a checkpoint). A missing proof is taken from a `ProofSource`.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal import jsonio
from labkit.analyst.inspect import read_document
from labkit.analyst.wrappers import unwrap
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, InclusionProof, TransparencyLogEntry, check_version_rules
from labkit.errors import BundleFormatError, InputError, LabkitError
from labkit.keys import load_public_key
from labkit.tlog.entries import LogEntry
from labkit.verify.legacy import legacy_bundle, rekor_bundle_entry

__all__ = ["ProofSource", "convert_document", "create_from_legacy", "log_proofs", "to_v03"]

#: Gives the inclusion proof (with checkpoint) of an entry a bundle lacks it for, or None.
ProofSource = Callable[[TransparencyLogEntry], "InclusionProof | None"]


def log_proofs(get: Callable[[int], LogEntry]) -> ProofSource:
    """A `ProofSource` reading entries by index from a log (`TransparencyLog.get`, `RekorClient.get_by_index`).

    The log's entry at the bundle entry's index must hold the same body, or the proof would vouch for another entry.
    """
    def source(entry: TransparencyLogEntry) -> InclusionProof | None:
        try:
            logged = get(entry.log_index)
        except LabkitError as exc:
            raise BundleFormatError(f"the log has no entry {entry.log_index}: {exc.message}") from None
        if logged.body != entry.canonicalized_body:
            raise BundleFormatError(
                f"the log's entry {entry.log_index} is not the one in the bundle (another body): no proof taken",
                details={"logIndex": entry.log_index},
            )
        return logged.to_bundle_entry().inclusion_proof

    return source


def _pick(data: bytes | str, index: int | None) -> Bundle:
    found = unwrap(read_document(data))
    if index is None and len(found) > 1:
        labels = "; ".join(f"[{i}] {u.label}" for i, u in enumerate(found))
        raise BundleFormatError(f"the input holds {len(found)} bundles; choose one with --index N",
                                details={"bundles": labels})
    i = 0 if index is None else index
    if not 0 <= i < len(found):
        raise BundleFormatError(f"--index {i} is out of range: the input holds {len(found)} bundle(s)")
    return Bundle.from_dict(found[i].doc)


def to_v03(bundle: Bundle, proofs: ProofSource | None = None) -> Bundle:
    """The same signature as a v0.3 bundle; raises `BundleFormatError` when a proof is missing and not found."""
    out = copy.deepcopy(bundle)
    vm = out.verification_material
    if vm.certificate_chain is not None:
        vm.certificate, vm.certificate_chain = vm.certificate_chain[0], None  # v0.3: the leaf only
    for i, entry in enumerate(vm.tlog_entries):
        if entry.inclusion_proof is not None and entry.inclusion_proof.checkpoint:
            continue
        proof = proofs(entry) if proofs is not None else None
        if proof is None or not proof.checkpoint:
            raise BundleFormatError(
                f"tlogEntries[{i}] (log index {entry.log_index}) has no inclusion proof with a checkpoint, which a "
                "v0.3 bundle requires; give the log (--log-dir or --log-url) to fetch it",
                details={"logIndex": entry.log_index},
            )
        entry.inclusion_proof = proof
    out.media_type = BUNDLE_V03_MEDIA_TYPE
    check_version_rules(out)
    return out


def convert_document(data: bytes | str, *, index: int | None = None, proofs: ProofSource | None = None) -> Bundle:
    """The bundle the input carries (wrapper or bundle; `index` picks one of several), as v0.3."""
    bundle = _pick(data, index)
    return bundle if bundle.version >= (0, 3) else to_v03(bundle, proofs)


def _signature_bytes(data: bytes) -> bytes:
    """cosign writes ``.sig`` files base64-encoded; raw signature bytes are accepted too."""
    text = data.strip()
    try:
        return base64.b64decode(text, validate=True) if text else b""
    except (binascii.Error, ValueError):
        return data


def _pem_certificates(pem: bytes, what: str) -> list[bytes]:
    try:
        return [c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]
    except ValueError as exc:
        raise InputError(f"{what} is not PEM certificates: {exc}") from None


def create_from_legacy(
    artifact: bytes,
    *,
    signature: bytes | None = None,
    certificate_pem: bytes | None = None,
    chain_pem: bytes | None = None,
    key_pem: bytes | None = None,
    rekor_bundle: bytes | None = None,
    proofs: ProofSource | None = None,
) -> Bundle:
    """``bundle create``: a bundle from cosign's legacy material (signature, certificate or key, rekorBundle).

    `rekor_bundle` is a rekorBundle JSON or cosign's legacy bundle file (``{base64Signature, cert,
    rekorBundle}``), whose signature and certificate are used when not given. v0.3 when `proofs` supplies the
    inclusion proof, else v0.1 (which carries the inclusion promise instead).
    """
    rekor: Any = None
    if rekor_bundle is not None:
        doc = jsonio.loads(rekor_bundle, what="rekor bundle", error=BundleFormatError)
        if isinstance(doc, dict) and "rekorBundle" in doc:
            if signature is None and isinstance(doc.get("base64Signature"), str):
                signature = str(doc["base64Signature"]).encode()
            if certificate_pem is None and isinstance(doc.get("cert"), str) and doc["cert"]:
                certificate_pem = _signature_bytes(str(doc["cert"]).encode())
            doc = doc["rekorBundle"]
        rekor = doc
    if signature is None:
        raise InputError("no signature: give --signature (or a legacy bundle file that has base64Signature)")
    if rekor is None:
        raise InputError("no log entry: a bundle needs the rekorBundle (--rekor-bundle) of the signature")
    certs = None
    if certificate_pem is not None:
        certs = _pem_certificates(certificate_pem, "the certificate")
        if chain_pem is not None:
            certs += _pem_certificates(chain_pem, "the certificate chain")
    hint = None
    if certs is None:
        if key_pem is None:
            raise InputError("give the signer's --certificate or --key")
        hint = base64.b64encode(load_public_key(key_pem).key_id()).decode()
    # a root the signer shipped is dropped: the trusted root holds the anchors
    chain = [c for i, c in enumerate(certs) if i == 0 or not _self_issued(c)] if certs else ()
    bundle = legacy_bundle(artifact, _signature_bytes(signature), rekor_bundle_entry(rekor), certificates=chain,
                           key_hint=hint)
    return to_v03(bundle, proofs) if proofs is not None else bundle


def _self_issued(der: bytes) -> bool:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return False
    return bool(cert.issuer == cert.subject)
