"""Trust-root-only work done once per `TrustedRoot`, and the RFC 3161 fast path it enables.

The fast path must never accept a timestamp that rfc3161-client's full
verification rejects: every conformance timestamp, and byte flips of them,
get the same outcome (verified, or the same reason) with and without it.
"""

from __future__ import annotations

import random

import pytest

from labkit._internal import cms_fastpath
from labkit.bundle import Bundle
from labkit.errors import LabkitError
from labkit.payloads import Envelope
from labkit.verify import TrustedRoot
from labkit.verify import timestamp as ts
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"


def _tsa_cases() -> list[str]:
    """Conformance cases whose bundle and trusted root parse and carry an RFC 3161 timestamp."""
    out = []
    for path in sorted(CASES.iterdir()) if CASES.exists() else []:
        try:
            _case(path.name)
        except (LabkitError, OSError, IndexError):
            continue
        out.append(path.name)
    return out


def _case(name: str) -> tuple[bytes, bytes, TrustedRoot]:
    bundle = Bundle.from_json((CASES / name / "bundle.sigstore.json").read_bytes())
    root_path = CASES / name / "trusted_root.json"
    root = TrustedRoot.from_json(root_path.read_bytes()) if root_path.exists() else TrustedRoot.production()
    content = bundle.content
    sig = content.signatures[0].sig if isinstance(content, Envelope) else content.signature
    return bundle.verification_material.rfc3161_timestamps[0], sig, root


def _outcome(stamp: bytes, sig: bytes, root: TrustedRoot) -> tuple[str, str]:
    try:
        v = ts.verify_timestamp(stamp, sig, root)
    except LabkitError as exc:
        return ("rejected", getattr(exc, "reason", ""))
    return ("verified", v.time.isoformat() + " " + v.authority)


def test_log_lookup_tables_match_linear_search() -> None:
    root = TrustedRoot.production()
    for log in root.tlogs:
        assert root.tlog(log.log_id) is next(t for t in root.tlogs if t.log_id == log.log_id)
    for log in root.ctlogs:
        assert root.ctlog(log.log_id) is next(t for t in root.ctlogs if t.log_id == log.log_id)
    assert root.tlog(b"\0" * 32) is None and root.ctlog(b"\0" * 32) is None


def test_derived_is_per_object_typed_and_not_compared() -> None:
    data = (SHARED / "conformance" / "trust-roots" / "production_trusted_root.json").read_bytes()
    a, b = TrustedRoot.from_json(data), TrustedRoot.from_json(data)
    assert a.derived is a.derived and a.derived is not b.derived
    a.derived.ca_certificates = frozenset()
    assert b.derived.ca_certificates is None and a == b
    assert "derived" not in repr(a)


TSA_CASES = _tsa_cases()


@pytest.mark.parametrize("case", [c for c in TSA_CASES if not c.endswith("_fail")])
def test_fast_path_is_taken_for_good_timestamps(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stamp, sig, root = _case(case)
    used: list[bool] = []
    real = cms_fastpath.cms_signature_ok

    def spy(data: bytes, anchor: cms_fastpath.TsaAnchor) -> bool:
        used.append(real(data, anchor))
        return used[-1]

    monkeypatch.setattr(ts, "cms_signature_ok", spy)
    assert _outcome(stamp, sig, root)[0] == "verified"
    assert used == [True]


@pytest.mark.parametrize("case", TSA_CASES)
def test_fast_path_agrees_with_full_verification(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stamp, sig, root = _case(case)
    rng = random.Random(case)
    variants = [stamp] + [
        stamp[:j] + bytes([stamp[j] ^ (1 << rng.randrange(8))]) + stamp[j + 1 :]
        for j in rng.sample(range(len(stamp)), 25)
    ]
    fast = [_outcome(v, sig, root) for v in variants]
    monkeypatch.setattr(ts, "cms_signature_ok", lambda data, anchor: False)
    slow = [_outcome(v, sig, root) for v in variants]
    assert fast == slow


def test_tampered_cms_signature_is_rejected_by_fast_path() -> None:
    stamp, sig, root = _case("rekor2-happy-path")
    ca = root.timestamp_authorities[0]
    anchor = ts._tsa_anchor(ca)
    assert anchor is not None and cms_fastpath.cms_signature_ok(stamp, anchor)
    bad = stamp[:-3] + bytes([stamp[-3] ^ 1]) + stamp[-2:]
    assert not cms_fastpath.cms_signature_ok(bad, anchor)
    assert _outcome(bad, sig, root) == ("rejected", "timestamp.signature")


def test_sct_issuer_key_hash_is_cached_only_for_trusted_ca_certificates() -> None:
    import datetime as dt

    from cryptography import x509

    from labkit.verify._certs import build_chain, verify_scts

    bundle = Bundle.from_json((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    der = bundle.verification_material.leaf_certificate
    assert der is not None
    leaf = x509.load_der_x509_certificate(der)
    root = TrustedRoot.from_json((SHARED / "conformance" / "trust-roots" / "production_trusted_root.json").read_bytes())
    t = bundle.verification_material.tlog_entries[0].integrated_time
    assert t is not None
    chain = build_chain(leaf, root, dt.datetime.fromtimestamp(t, tz=dt.timezone.utc))
    assert "SCT from" in verify_scts(leaf, chain.chain[1], root)
    keys = set(root.derived.sct_issuer_key_hashes)
    assert chain.chain[1] in keys
    with pytest.raises(LabkitError):
        verify_scts(leaf, leaf, root)  # not a trusted CA certificate: nothing of it is kept on the root
    assert set(root.derived.sct_issuer_key_hashes) == keys
