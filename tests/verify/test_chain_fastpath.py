"""Gate of the leaf-chain fast path (docs/adr/0005-leaf-chain-fast-path.md).

The fast path must never accept a leaf the full path builder rejects, nor return a different chain: every
conformance leaf against every conformance trusted root, at times in and around its validity, and bit-flipped
leaves, get the same outcome (chain and CA, or the same reason) with the fast path on and off. Synthetic CA
chains cover the fence (name constraints, tight path lengths, expired intermediates, a forged issuer).
"""

from __future__ import annotations

import datetime as _dt
import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit._internal import chain_fastpath
from labkit.bundle import Bundle
from labkit.errors import LabkitError
from labkit.verify import TrustedRoot
from labkit.verify import _certs as certs_mod
from labkit.verify.trustroot import CertificateAuthority, TimeRange
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ROOTS = SHARED / "conformance" / "trust-roots"
_UTC = _dt.timezone.utc


def _leaves() -> dict[str, bytes]:
    out = {}
    for path in sorted(CASES.iterdir()) if CASES.exists() else []:
        try:
            der = Bundle.from_json((path / "bundle.sigstore.json").read_bytes()).verification_material.leaf_certificate
        except (LabkitError, OSError):
            continue
        if der is not None:
            out[path.name] = der
    return out


def _roots() -> list[TrustedRoot]:
    paths = sorted(CASES.glob("*/trusted_root.json")) + sorted(ROOTS.glob("*.json"))
    out: list[TrustedRoot] = []
    for p in paths:
        try:
            root = TrustedRoot.from_json(p.read_bytes())
        except LabkitError:
            continue
        if root not in out:
            out.append(root)
    return out


def _outcome(der: bytes, root: TrustedRoot, at: _dt.datetime) -> tuple[str, ...]:
    try:
        leaf = x509.load_der_x509_certificate(der)
        result = certs_mod.build_chain(leaf, root, at)
    except ValueError:
        return ("unparsed",)
    except LabkitError as exc:
        return ("rejected", getattr(exc, "reason", ""))
    return ("verified", result.ca, *(c.public_bytes(Encoding.DER).hex() for c in result.chain))


def _times(der: bytes) -> list[_dt.datetime]:
    leaf = x509.load_der_x509_certificate(der)
    nb, na = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    second = _dt.timedelta(seconds=1)
    return [nb, nb + (na - nb) / 2, na, nb - second, na + second,
            _dt.datetime(2000, 1, 1, tzinfo=_UTC), _dt.datetime(2040, 1, 1, tzinfo=_UTC)]


def _both(
    der: bytes, root: TrustedRoot, at: _dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[str, ...], ...]:
    fast = _outcome(der, root, at)
    with monkeypatch.context() as m:
        m.setattr(chain_fastpath, "ENABLED", False)
        slow = _outcome(der, root, at)
    return fast, slow


LEAVES = _leaves()
ROOT_LIST = _roots()


@pytest.mark.parametrize("case", sorted(LEAVES))
def test_fast_path_agrees_with_full_path(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    der = LEAVES[case]
    rng = random.Random(case)
    flips = rng.sample(range(len(der)), 25)
    mutants = [der[:j] + bytes([der[j] ^ (1 << rng.randrange(8))]) + der[j + 1:] for j in flips]
    for root in ROOT_LIST:
        for at in _times(der):
            fast, slow = _both(der, root, at, monkeypatch)
            assert fast == slow, (case, at)
    own = CASES / case / "trusted_root.json"
    try:
        root = TrustedRoot.from_json(own.read_bytes()) if own.exists() else TrustedRoot.production()
    except LabkitError:
        root = TrustedRoot.production()
    for mutant in mutants:
        fast, slow = _both(mutant, root, _times(der)[1], monkeypatch)
        assert fast == slow, (case, mutant.hex())


def test_fast_path_is_taken_for_public_good_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    real = chain_fastpath.leaf_chain

    def spy(*args: object, **kwargs: object) -> object:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        taken.append(out is not None)
        return out

    monkeypatch.setattr(chain_fastpath, "leaf_chain", spy)
    der = LEAVES["happy-path-v0.1"]
    root = TrustedRoot.from_json((ROOTS / "production_trusted_root.json").read_bytes())
    assert _outcome(der, root, _times(der)[1])[0] == "verified"
    assert taken == []  # a root's first leaf takes the full path: a one-shot root does not pay for the probe
    assert _outcome(der, root, _times(der)[1])[0] == "verified"
    assert taken == [True]


# -- synthetic CA chains: the fence -------------------------------------------------------------------------------

_T0 = _dt.datetime(2025, 1, 1, tzinfo=_UTC)


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey, *,
          ca: bool, path_length: int | None = None, days: tuple[int, int] = (0, 3650),
          constraints: bool = False) -> x509.Certificate:
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(_T0 + _dt.timedelta(days=days[0])).not_valid_after(_T0 + _dt.timedelta(days=days[1]))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        b = (b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
             .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("dev@example.com")]), critical=False))
    if signer is not key:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    if constraints:
        b = b.add_extension(x509.NameConstraints([x509.RFC822Name("example.org")], None), critical=True)
    return b.sign(signer, hashes.SHA256())


def _synthetic(*, root_pathlen: int | None = 1, constraints: bool = False, inter_days: tuple[int, int] = (0, 3650),
               forged: bool = False) -> tuple[TrustedRoot, bytes, tuple[x509.Certificate, ...]]:
    rk, ik, lk = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("root", rk, "root", rk, ca=True, path_length=root_pathlen)
    inter = _cert("inter", ik, "root", rk, ca=True, path_length=0, days=inter_days, constraints=constraints)
    signer = ec.generate_private_key(ec.SECP256R1()) if forged else ik
    leaf = _cert("leaf", lk, "inter", signer, ca=False, days=(10, 11))
    chain = (inter, root)
    ca = CertificateAuthority("https://ca.example", tuple(c.public_bytes(Encoding.DER) for c in chain), TimeRange(_T0))
    trusted = TrustedRoot(media_type="application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                          certificate_authorities=(ca,))
    return trusted, leaf.public_bytes(Encoding.DER), chain


@pytest.mark.parametrize("kind", ["plain", "name-constraints", "root-pathlen-0", "expired-intermediate", "forged"])
def test_fence_on_synthetic_chains(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root, der, chain = _synthetic(
        constraints=kind == "name-constraints", root_pathlen=0 if kind == "root-pathlen-0" else 1,
        inter_days=(0, 5) if kind == "expired-intermediate" else (0, 3650), forged=kind == "forged",
    )
    anchor = chain_fastpath.anchor_for(chain, certs_mod._policies()[0])
    assert (anchor is None) == (kind in ("name-constraints", "root-pathlen-0"))
    for at in _times(der):
        fast, slow = _both(der, root, at, monkeypatch)
        assert fast == slow, (kind, at)
    expect = "verified" if kind == "plain" else "rejected"
    assert _outcome(der, root, _times(der)[1])[0] == expect
