"""The fenced fast path for the leaf certificate chain: path validation anchored at an already-validated CA.

Why it exists (docs/adr/0005-leaf-chain-fast-path.md): `cryptography`'s path builder re-verifies the
whole CA chain (the intermediate's signature by the root, both CA extension profiles) for every bundle,
which was about half of a verification's cost. That part depends only on the trusted root, so it is
checked once per root by `anchor_for` (the same path builder, run over the CA chain itself), and per
bundle `leaf_chain` runs the same path builder with the issuing CA as its trust anchor: the leaf's
signature, its validity at the signing time and its whole end-entity profile are still checked by
`cryptography`, and the validity of every CA certificate above it at that time is checked here.

The contract that keeps it safe: `leaf_chain` returns the chain only when every check passed, and None
(never an exception) otherwise, which sends the leaf through the full path builder for the verdict. It
never rejects on its own. CA chains it cannot vouch for get no anchor (None): name constraints anywhere
in the chain, a path length a longer path would break, a chain the probe rejects. The gate is the
differential test `tests/verify/test_chain_fastpath.py` (same verdict, chain and reason with the fast
path on and off over every conformance case and mutants of their leaves and signing times).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as X509VerificationError

__all__ = ["ChainAnchor", "anchor_for", "leaf_chain"]

#: Set to False (tests only) to send every leaf through the full path builder.
ENABLED = True


@dataclass(frozen=True)
class ChainAnchor:
    """One CA chain of the trusted root, validated once: the issuing CA as a store, the chain's windows."""

    store: Store
    chain: tuple[x509.Certificate, ...]
    windows: tuple[tuple[_dt.datetime, _dt.datetime], ...]


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _fenced_out(chain: tuple[x509.Certificate, ...]) -> bool:
    """True when anchoring below the top could change a verdict: name constraints, or a tight path length."""
    for i, cert in enumerate(chain):
        try:
            cert.extensions.get_extension_for_class(x509.NameConstraints)
            return True
        except x509.ExtensionNotFound:
            pass
        bc = _basic_constraints(cert)
        # RFC 5280 §4.2.1.9: chain[i] is followed by i intermediates (chain[0..i-1]) in a leaf's path.
        if bc is None or (bc.path_length is not None and bc.path_length < i):
            return True
    return False


def _probe(chain: tuple[x509.Certificate, ...], ca_policy: ExtensionPolicy) -> bool:
    """The full path builder over the CA chain itself (issuing CA as the end entity, CA profile for it)."""
    start = max(c.not_valid_before_utc for c in chain)
    if start > min(c.not_valid_after_utc for c in chain):
        return False
    try:
        verifier = (
            PolicyBuilder().store(Store([chain[-1]])).time(start)
            .extension_policies(ca_policy=ca_policy, ee_policy=ca_policy).build_client_verifier()
        )
        verified = verifier.verify(chain[0], list(chain[1:-1]))
    except (X509VerificationError, ValueError, TypeError):
        return False
    return [c.public_bytes(Encoding.DER) for c in verified.chain] == [c.public_bytes(Encoding.DER) for c in chain]


def anchor_for(chain: tuple[x509.Certificate, ...], ca_policy: ExtensionPolicy) -> ChainAnchor | None:
    """The anchor for a validated CA chain (leaf-most first, trust anchor last), or None: full path only."""
    if len(chain) < 2 or _fenced_out(chain) or not _probe(chain, ca_policy):
        return None
    windows = tuple((c.not_valid_before_utc, c.not_valid_after_utc) for c in chain)
    return ChainAnchor(Store([chain[0]]), chain, windows)


def leaf_chain(
    leaf: x509.Certificate, anchor: ChainAnchor, at: _dt.datetime,
    ca_policy: ExtensionPolicy, ee_policy: ExtensionPolicy,
) -> tuple[x509.Certificate, ...] | None:
    """(leaf, *CA chain) when the leaf validates below the anchor at `at`, else None (full path decides)."""
    if not ENABLED or not all(nb <= at <= na for nb, na in anchor.windows):
        return None
    try:
        verifier = (
            PolicyBuilder().store(anchor.store).time(at)
            .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy).build_client_verifier()
        )
        verified = verifier.verify(leaf, [])
    except (X509VerificationError, ValueError, TypeError):
        return None
    if len(verified.chain) != 2 or verified.chain[1] != anchor.chain[0]:
        return None
    return (leaf, *anchor.chain)

