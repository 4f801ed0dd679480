"""The lower bounds `bench_audit.py --bound` reports: what verifying one bundle of the lab corpus costs at least.

Not a verifier (nothing imports it; it explains nothing and names no failure). Two measuring sticks, each over
the same bundles both tools judge:

* `bare_verify`: the cryptographic and binding checks both tools make on a lab-corpus bundle (v0.3, one
  certificate, one Rekor v1 entry with SET, inclusion proof and checkpoint; a hashedrekord or a DSSE statement),
  written as straight-line Python with nothing else: no step records, no messages, no error classes, no RFC 5280
  path building beyond the leaf's signature, issuer name, key usage and validity. Any verifier in Python over
  pyca/cryptography does at least this work; its CPU per bundle bounds the throughput any of them reaches.
* `crypto_only`: only the five signature verifications a bundle needs (the leaf certificate's P-384 signature by
  the intermediate, the SCT, the artifact or DSSE signature, the SET, the checkpoint; four P-256), over inputs
  prepared beforehand: OpenSSL's share, the floor below which no implementation in any language on this machine's
  pyca/cryptography can go.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

b64 = base64.b64decode
P256 = ec.ECDSA(hashes.SHA256())
FULCIO_ISSUER = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
#: Parsed JSON (a measuring stick, not a trust boundary: shapes are the corpus's, unchecked).
Doc = dict[str, Any]


def _log_keys(entries: list[Doc]) -> dict[bytes, ec.EllipticCurvePublicKey]:
    keys = {}
    for entry in entries:
        der = b64(entry["publicKey"]["rawBytes"])
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        keys[hashlib.sha256(der).digest()] = key
    return keys


@dataclass
class Trust:
    """The trusted root, parsed once (both tools parse theirs once too)."""

    intermediate: x509.Certificate
    ca_key: ec.EllipticCurvePublicKey
    ca_key_hash: bytes
    tlogs: dict[bytes, ec.EllipticCurvePublicKey]
    ctlogs: dict[bytes, ec.EllipticCurvePublicKey]
    issuer: str
    identities: frozenset[str]

    @classmethod
    def load(cls, trusted_root: Path, issuer: str, identities: Iterable[str]) -> Trust:
        doc = json.loads(trusted_root.read_bytes())
        chain = doc["certificateAuthorities"][0]["certChain"]["certificates"]
        inter, root = (x509.load_der_x509_certificate(b64(c["rawBytes"])) for c in chain[:2])
        root_key, key = root.public_key(), inter.public_key()
        assert isinstance(root_key, ec.EllipticCurvePublicKey) and isinstance(key, ec.EllipticCurvePublicKey)
        assert inter.signature_hash_algorithm is not None
        root_key.verify(inter.signature, inter.tbs_certificate_bytes, ec.ECDSA(inter.signature_hash_algorithm))
        spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(inter, key, hashlib.sha256(spki).digest(), _log_keys(doc["tlogs"]), _log_keys(doc["ctlogs"]),
                   issuer, frozenset(identities))


def _inclusion_root(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root an inclusion proof implies (None: the proof's length does not fit)."""
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None


def _sct_message(cert: x509.Certificate, sct: x509.certificate_transparency.SignedCertificateTimestamp,
                 issuer_key_hash: bytes) -> bytes:
    """RFC 6962 3.2: the digitally-signed struct of a precertificate SCT."""
    tbs, ext = cert.tbs_precertificate_bytes, sct.extension_bytes
    millis = int(sct.timestamp.timestamp() * 1000)
    return (b"\x00\x00" + millis.to_bytes(8, "big") + b"\x00\x01" + issuer_key_hash + len(tbs).to_bytes(3, "big")
            + tbs + len(ext).to_bytes(2, "big") + ext)


def _set_message(entry: Doc, log_id: bytes) -> bytes:
    """The SET's signed message: canonical JSON of the entry's body, time, log id and index."""
    doc = {"body": entry["canonicalizedBody"], "integratedTime": int(entry["integratedTime"]),
           "logID": log_id.hex(), "logIndex": int(entry["logIndex"])}
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _certificate_ok(trust: Trust, cert: x509.Certificate) -> bool:
    """Issued by the intermediate (name, signature), for code signing, to an identity the policy accepts."""
    if cert.issuer != trust.intermediate.subject or cert.signature_hash_algorithm is None:
        return False
    trust.ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    exts = cert.extensions
    usage = exts.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    eku = exts.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    if not (isinstance(usage, x509.KeyUsage) and usage.digital_signature
            and isinstance(eku, x509.ExtendedKeyUsage) and ExtendedKeyUsageOID.CODE_SIGNING in eku):
        return False
    scts = exts.get_extension_for_oid(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS).value
    sct = next(iter(scts))
    trust.ctlogs[sct.log_id].verify(sct.signature, _sct_message(cert, sct, trust.ca_key_hash), P256)
    san = exts.get_extension_for_class(x509.SubjectAlternativeName).value
    names = san.get_values_for_type(x509.RFC822Name) + san.get_values_for_type(x509.UniformResourceIdentifier)
    issuer = exts.get_extension_for_oid(FULCIO_ISSUER).value
    assert isinstance(issuer, x509.UnrecognizedExtension)
    return len(names) == 1 and names[0] in trust.identities and issuer.value[2:].decode() == trust.issuer


def _content_ok(bundle: Doc, body: Doc, key: ec.EllipticCurvePublicKey, pem: bytes, artifact: bytes) -> bool:
    """The signature over the artifact (or the DSSE envelope naming it), and the log entry recording the same."""
    spec = body["spec"]
    if "messageSignature" in bundle:
        digest = hashlib.sha256(artifact).digest()
        sig = b64(bundle["messageSignature"]["signature"])
        key.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return (b64(bundle["messageSignature"]["messageDigest"]["digest"]) == digest
                and body["kind"] == "hashedrekord" and spec["data"]["hash"]["value"] == digest.hex()
                and b64(spec["signature"]["content"]) == sig
                and b64(spec["signature"]["publicKey"]["content"]) == pem)
    env = bundle["dsseEnvelope"]
    payload, ptype = b64(env["payload"]), env["payloadType"]
    sig = b64(env["signatures"][0]["sig"])
    key.verify(sig, b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload), P256)
    digest = hashlib.sha256(artifact).hexdigest()
    named = any(s["digest"].get("sha256") == digest for s in json.loads(payload)["subject"])
    logged = spec["signatures"][0]
    return (named and body["kind"] == "dsse" and spec["payloadHash"]["value"] == hashlib.sha256(payload).hexdigest()
            and b64(logged["signature"]) == sig and b64(logged["verifier"]) == pem)


def _entry_ok(entry: Doc, body_raw: bytes, trust: Trust, cert: x509.Certificate) -> bool:
    """SET, inclusion proof and checkpoint; the entry's time inside the certificate's validity."""
    log_id = b64(entry["logId"]["keyId"])
    key = trust.tlogs[log_id]
    key.verify(b64(entry["inclusionPromise"]["signedEntryTimestamp"]), _set_message(entry, log_id), P256)
    when = int(entry["integratedTime"])
    if not cert.not_valid_before_utc.timestamp() <= when <= cert.not_valid_after_utc.timestamp():
        return False
    proof = entry["inclusionProof"]
    leaf = hashlib.sha256(b"\x00" + body_raw).digest()
    root = _inclusion_root(int(proof["logIndex"]), int(proof["treeSize"]), leaf,
                           [b64(h) for h in proof.get("hashes", [])])
    text, signatures = proof["checkpoint"]["envelope"].split("\n\n", 1)
    _origin, size, root_hash = text.split("\n")[:3]
    raw = b64(signatures.strip().split("\n")[0].rsplit(" ", 1)[1])
    key.verify(raw[4:], (text + "\n").encode(), P256)
    return (root is not None and root == b64(proof["rootHash"]) and int(size) == int(proof["treeSize"])
            and b64(root_hash) == root and raw[:4] == log_id[:4])


def bare_verify(trust: Trust, bundle_path: Path, artifact_path: Path) -> bool:
    """True when the bundle verifies (a bad signature raises `InvalidSignature`; the benchmark counts it)."""
    bundle = json.loads(bundle_path.read_bytes())
    material = bundle["verificationMaterial"]
    if bundle["mediaType"] != V03:
        return False
    cert = x509.load_der_x509_certificate(b64(material["certificate"]["rawBytes"]))
    if not _certificate_ok(trust, cert):
        return False
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    entry = material["tlogEntries"][0]
    body_raw = b64(entry["canonicalizedBody"])
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return (_content_ok(bundle, json.loads(body_raw), key, pem, artifact_path.read_bytes())
            and _entry_ok(entry, body_raw, trust, cert))


def pairs(folder: Path) -> Iterator[tuple[Path, Path]]:
    """Each bundle of the folder and the artifact beside it, in name order."""
    for path in sorted(folder.glob("*.sigstore.json")):
        yield path, path.with_name(path.name[: -len(".sigstore.json")])


def _signature_checks(trust: Trust, bundle_path: Path, artifact_path: Path) -> list[Callable[[], None]]:
    """The five signature verifications of one bundle, as calls over inputs prepared now."""
    bundle = json.loads(bundle_path.read_bytes())
    material = bundle["verificationMaterial"]
    cert = x509.load_der_x509_certificate(b64(material["certificate"]["rawBytes"]))
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and cert.signature_hash_algorithm is not None
    sct = next(iter(cert.extensions.get_extension_for_oid(
        ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS).value))
    entry = material["tlogEntries"][0]
    log_id = b64(entry["logId"]["keyId"])
    text, signatures = entry["inclusionProof"]["checkpoint"]["envelope"].split("\n\n", 1)
    note_sig = b64(signatures.strip().split("\n")[0].rsplit(" ", 1)[1])[4:]
    if "messageSignature" in bundle:
        signed, algorithm = hashlib.sha256(artifact_path.read_bytes()).digest(), ec.ECDSA(Prehashed(hashes.SHA256()))
        sig = b64(bundle["messageSignature"]["signature"])
    else:
        env = bundle["dsseEnvelope"]
        payload, ptype = b64(env["payload"]), env["payloadType"]
        signed, algorithm = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload), P256
        sig = b64(env["signatures"][0]["sig"])
    ca_alg, sct_msg = ec.ECDSA(cert.signature_hash_algorithm), _sct_message(cert, sct, trust.ca_key_hash)
    set_sig, set_msg = b64(entry["inclusionPromise"]["signedEntryTimestamp"]), _set_message(entry, log_id)
    log, ct = trust.tlogs[log_id], trust.ctlogs[sct.log_id]
    return [lambda: trust.ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ca_alg),
            lambda: ct.verify(sct.signature, sct_msg, P256),
            lambda: key.verify(sig, signed, algorithm),
            lambda: log.verify(set_sig, set_msg, P256),
            lambda: log.verify(note_sig, (text + "\n").encode(), P256)]


def crypto_only(trust: Trust, folder: Path, limit: int = 2000) -> float:
    """CPU seconds per bundle of the signature verifications alone, over the folder's first `limit` bundles."""
    calls = [c for b, a in list(pairs(folder))[:limit] for c in _signature_checks(trust, b, a)]
    start = time.process_time()
    for call in calls:
        call()
    return (time.process_time() - start) / (len(calls) / 5)
