"""Hypothesis mutates valid bundles; every mutant is rejected, or verifies only when semantically unchanged.

Mutations touch every leaf of the bundle JSON: base64 bit flips, truncation,
integer edits, type swaps, deleted keys, duplicated or dropped list items,
and raw byte flips of the JSON text. `explain_bundle` must never raise, and
`verify_bundle` may raise only labkit errors.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.bundle import BUNDLE_MEDIA_TYPES, Bundle
from labkit.errors import LabkitError
from labkit.tlog.checkpoint import SignedNote
from labkit.verify import Artifact, Identity, TrustedRoot, explain_bundle, verify_bundle
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
POLICY = Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")
BASES = [
    "happy-path-v0.1", "happy-path-v0.3", "rekor2-happy-path", "happy-path-intoto-in-dsse-v3",
    "managed-key-happy-path", "rekor2-checkpoint-multiple-cosigs",
]
#: Examples per test; CI runs a fixed (derandomized) sample, LABKIT_FUZZ_EXAMPLES=5000 explores further.
EXAMPLES = int(os.environ.get("LABKIT_FUZZ_EXAMPLES", "250"))
DERANDOMIZE = "LABKIT_FUZZ_EXAMPLES" not in os.environ


def _load(case: str) -> tuple[dict[str, Any], TrustedRoot, Artifact, bytes | None]:
    d = CASES / case
    root_file = d / "trusted_root.json"
    root = TrustedRoot.from_json(root_file.read_bytes()) if root_file.exists() else TrustedRoot.production()
    key = (d / "key.pub").read_bytes() if (d / "key.pub").exists() else None
    return json.loads((d / "bundle.sigstore.json").read_text()), root, Artifact.from_path(CASES / "a.txt"), key


def _normal(doc: Any) -> Any:
    """What a verifier may rely on: the parsed bundle minus fields no signature covers and nothing uses."""
    b = Bundle.from_dict(copy.deepcopy(doc))
    out = b.to_dict()
    out["mediaType"] = BUNDLE_MEDIA_TYPES[b.media_type]  # both v0.3 spellings mean the same
    vm = out["verificationMaterial"]
    if "x509CertificateChain" in vm:
        # only the leaf is used; trust comes from the trusted root, never from the bundle's chain
        vm["x509CertificateChain"]["certificates"] = vm["x509CertificateChain"]["certificates"][:1]
    if "publicKey" in vm:
        vm["publicKey"] = {}  # the hint is informational
    for e in vm["tlogEntries"]:
        if "inclusionPromise" not in e:
            e.pop("integratedTime", None)  # untrusted without a promise, so unused
        cp = e.get("inclusionProof", {}).get("checkpoint")
        if cp:
            try:
                # Compare the note's bytes, not its base64 spelling (non-canonical padding bits decode the
                # same), and only the log's own signatures: unknown cosignatures are ignored by design.
                note = SignedNote.parse(cp["envelope"])
                hint = base64.b64decode(e["logId"]["keyId"])[:4]
                cp["envelope"] = SignedNote(
                    note.text, tuple(x for x in note.signatures if x.key_hint == hint)
                ).to_text()
            except (LabkitError, ValueError):
                pass
    if "messageSignature" in out:
        out["messageSignature"].pop("messageDigest", None)  # an identification hint, checked when present
    if "dsseEnvelope" in out:
        for s in out["dsseEnvelope"]["signatures"]:
            s.pop("keyid", None)
    return out


def _time_evidence(doc: dict[str, Any]) -> set[str]:
    """Remove promises and timestamps from a normalised bundle; return them as a set."""
    vm = doc["verificationMaterial"]
    out = {s["signedTimestamp"] for s in vm.pop("timestampVerificationData", {}).get("rfc3161Timestamps", [])}
    for i, e in enumerate(vm["tlogEntries"]):
        promise = e.pop("inclusionPromise", None)
        itime = e.pop("integratedTime", None)
        if promise is not None:
            out.add(f"{i}:{promise['signedEntryTimestamp']}@{itime}")
    return out


def _diff(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _diff(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _diff(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:200]} != {str(b)[:200]}"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def _mutant(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from(_paths(doc)[1:]))
    parent, last = _get(doc, path[:-1]), path[-1]
    value = parent[last]
    op = draw(st.sampled_from(["delete", "replace", "edit"]))
    if op == "delete":
        if isinstance(parent, list):
            parent.pop(last)
        else:
            del parent[last]
        return doc
    if op == "replace":
        parent[last] = draw(st.one_of(
            st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=12),
            st.just([]), st.just({}), st.just("-1"), st.just("18446744073709551616"),
        ))
        return doc
    if isinstance(value, str):
        try:
            raw = bytearray(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raw = bytearray()
        kind = draw(st.sampled_from(["bitflip", "truncate", "char"]))
        if raw and kind == "bitflip":
            i = draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << draw(st.integers(0, 7))
            parent[last] = base64.b64encode(bytes(raw)).decode()
        elif value and kind == "truncate":
            parent[last] = value[: draw(st.integers(0, len(value) - 1))]
        elif value:
            i = draw(st.integers(0, len(value) - 1))
            parent[last] = value[:i] + draw(st.characters(codec="utf-8")) + value[i + 1 :]
        if isinstance(value, str) and value.lstrip("-").isdigit():
            parent[last] = str(int(value) + draw(st.sampled_from([-1, 1, 2**32, -(2**63)])))
    elif isinstance(value, list):
        if bool(value) and draw(st.booleans()):
            value.append(copy.deepcopy(value[draw(st.integers(0, len(value) - 1))]))
        elif value:
            value.pop(draw(st.integers(0, len(value) - 1)))
        else:
            value.append("AAAA")
    elif isinstance(value, dict):
        value[draw(st.sampled_from(["extra", "rawBytes", "hint", "keyid"]))] = "AAAA"
    return doc


def _check(mutant: Any, original: dict[str, Any], root: TrustedRoot, artifact: Artifact, key: bytes | None) -> None:
    text = json.dumps(mutant)
    policy = None if key else POLICY
    result = explain_bundle(text, artifact, root, policy, key)  # must never raise
    assert result.reason != "internal_error", result.checklist()
    if result.verified:
        a, b = _normal(mutant), _normal(original)
        # Time evidence (promises, timestamps) may be dropped while another verified time remains,
        # but whatever is present must be the original's.
        ta, tb = _time_evidence(a), _time_evidence(b)
        assert ta <= tb, f"changed time evidence verified: {ta - tb}"
        assert a == b, f"a changed bundle verified: {_diff(a, b)}"
    try:
        verify_bundle(text, artifact, root, policy, key)
    except LabkitError:
        assert not result.verified


@pytest.mark.parametrize("case", BASES)
def test_bases_verify(case: str) -> None:
    doc, root, artifact, key = _load(case)
    assert explain_bundle(json.dumps(doc), artifact, root, None if key else POLICY, key).verified


@pytest.mark.parametrize("case", BASES)
def test_field_mutants(case: str) -> None:
    doc, root, artifact, key = _load(case)

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(_mutant(doc))
    def run(mutant: dict[str, Any]) -> None:
        _check(mutant, doc, root, artifact, key)

    run()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE)
@given(st.data())
def test_byte_mutants(data: st.DataObject) -> None:
    doc, root, artifact, key = _load("rekor2-happy-path")
    raw = bytearray(json.dumps(doc).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    result = explain_bundle(bytes(raw), artifact, root, POLICY)
    assert result.reason != "internal_error", result.checklist()
    if result.verified:
        assert _normal(json.loads(bytes(raw))) == _normal(doc)
