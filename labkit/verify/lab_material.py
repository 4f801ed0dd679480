"""Say LAB when a trusted root's log key or CA key is lab material (derived from a public labkit seed).

Such a root verifies like any other, but anyone who knows the seed can sign
as its log or its CA, so the verification checklist says so (issue 12 item 2).
The key is recognised by its public key (`labkit.keys.lab_key_origin`), so a
root copied out of a notebook or a ``labkit log serve --seed`` log is caught
wherever it turns up.
"""

from __future__ import annotations

from labkit.keys import VerifyingKey, lab_key_origin, load_public_key
from labkit.verify.trustroot import CertificateAuthority, TrustedRoot, is_pinned_production

__all__ = []


def _origin_of_der(der: bytes) -> str | None:
    try:
        return lab_key_origin(load_public_key(der))
    except Exception:  # noqa: BLE001 - a note only: a key labkit cannot load is simply not recognised
        return None


def _ca_origin(ca: CertificateAuthority) -> str | None:
    try:
        certs = ca.certificates()
        for cert in certs:
            origin = lab_key_origin(VerifyingKey.from_key(cert.public_key()))  # type: ignore[arg-type]
            if origin is not None:
                return origin
    except Exception:  # noqa: BLE001 - a note only: a malformed chain is the chain checks' business
        return None
    return None


def lab_note(root: TrustedRoot) -> str:
    """``"; LAB: the log and CA keys derive from a public seed"`` for lab keys in `root`, else ``""``. Never raises."""
    if is_pinned_production(root):
        # The pinned public-good root holds no lab key (tests/verify/test_lab_material.py checks it the slow way);
        # recognising lab keys derives every default-seed key, ~50 ms once per process (issue 13 item 10).
        return ""
    derived = root.derived
    if derived.lab_note is None:  # depends on the root alone: computed once per root object
        derived.lab_note = _lab_note(root)
    return derived.lab_note


def _lab_note(root: TrustedRoot) -> str:
    roles = ["log"] if any(_origin_of_der(t.key_der) for t in root.tlogs) else []
    roles += ["CA"] if any(_ca_origin(ca) for ca in root.certificate_authorities) else []
    if not roles:
        return ""
    keys = "keys derive" if len(roles) > 1 else "key derives"
    return f"; LAB: the {' and '.join(roles)} {keys} from a public seed"
