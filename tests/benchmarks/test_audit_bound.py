"""The audit benchmark's lower bound is honest: the bare verifier accepts the lab corpus and refuses each mutation.

A bound that skipped a check would look cheaper than any real verifier can be; these cases keep it doing the work
both tools do (`benchmarks/audit_bound.py`, `bench_audit.py --bound`).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from cryptography.exceptions import InvalidSignature

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"labkit_benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("bench_audit")
bound = _load("audit_bound")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four lab bundles: two message signatures, two DSSE statements, both identities."""
    work = tmp_path_factory.mktemp("audit-corpus")
    bench._sign_lab_corpus(work, 4)
    return work


def _trust(corpus: Path, identities: tuple[str, ...] = bench.LAB_IDENTITIES) -> object:
    doc = json.loads((corpus / "corpus.json").read_text())
    return bound.Trust.load(corpus / "trusted_root.json", doc["issuer"], identities)


def _judge(trust: object, bundle: Path, artifact: Path) -> bool:
    try:
        return bool(bound.bare_verify(trust, bundle, artifact))
    except (InvalidSignature, ValueError, KeyError):  # a refusal, however the bare verifier reaches it
        return False


def test_bare_verify_accepts_the_corpus(corpus: Path) -> None:
    trust = _trust(corpus)
    assert [_judge(trust, b, a) for b, a in bound.pairs(corpus / "big")] == [True] * 4


def _flip_base64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[len(raw) // 2] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _edit(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _entry(doc: dict[str, object]) -> dict[str, object]:
    return doc["verificationMaterial"]["tlogEntries"][0]  # type: ignore[index,no-any-return]


MUTATIONS: dict[str, Callable[[dict[str, object]], None]] = {
    "certificate_signature_flipped": lambda d: d["verificationMaterial"].update(  # type: ignore[attr-defined]
        certificate={"rawBytes": _flip_base64(d["verificationMaterial"]["certificate"]["rawBytes"])}),  # type: ignore[index]
    "set_flipped": lambda d: _entry(d)["inclusionPromise"].update(  # type: ignore[attr-defined]
        signedEntryTimestamp=_flip_base64(_entry(d)["inclusionPromise"]["signedEntryTimestamp"])),  # type: ignore[index]
    "body_flipped": lambda d: _entry(d).update(canonicalizedBody=_flip_base64(str(_entry(d)["canonicalizedBody"]))),
    "root_hash_flipped": lambda d: _entry(d)["inclusionProof"].update(  # type: ignore[attr-defined]
        rootHash=_flip_base64(_entry(d)["inclusionProof"]["rootHash"])),  # type: ignore[index]
    "integrated_time_moved": lambda d: _entry(d).update(integratedTime=str(int(str(_entry(d)["integratedTime"])) + 1)),
    "media_type_v01": lambda d: d.update(mediaType="application/vnd.dev.sigstore.bundle+json;version=0.1"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("index", [0, 1], ids=["hashedrekord", "dsse"])
def test_bare_verify_refuses(corpus: Path, tmp_path: Path, mutation: str, index: int) -> None:
    bundle, artifact = list(bound.pairs(corpus / "big"))[index]
    copy = tmp_path / bundle.name
    copy.write_text(bundle.read_text())
    _edit(copy, MUTATIONS[mutation])
    assert not _judge(_trust(corpus), copy, artifact)


@pytest.mark.parametrize("index", [0, 1], ids=["hashedrekord", "dsse"])
def test_bare_verify_refuses_another_artifact(corpus: Path, index: int) -> None:
    bundle, _ = list(bound.pairs(corpus / "big"))[index]
    _, other = list(bound.pairs(corpus / "big"))[index + 2]
    assert not _judge(_trust(corpus), bundle, other)


def test_bare_verify_refuses_another_identity(corpus: Path) -> None:
    trust = _trust(corpus, identities=("someone-else@example.com",))
    assert not any(_judge(trust, b, a) for b, a in bound.pairs(corpus / "big"))


def test_crypto_only_times_five_verifications(corpus: Path) -> None:
    assert 0 < bound.crypto_only(_trust(corpus), corpus / "big") < 1


def test_bench_audit_reports_the_bounds(corpus: Path) -> None:
    """The whole script, tiny: every tool verifies every bundle and the bounds are printed."""
    (corpus / "small").mkdir(exist_ok=True)
    for b, a in list(bound.pairs(corpus / "big"))[:2]:
        for path in (b, a):
            if not (corpus / "small" / path.name).exists():
                (corpus / "small" / path.name).write_bytes(path.read_bytes())
    rows = [bench._child(mode, corpus, which, None, corpus)
            for mode, which in (("labkit", "big"), ("sigstore", "big"), ("bound", "big"))]
    assert [r["verified"] for r in rows] == [4, 4, 4], rows
    assert rows[2]["crypto_only_ms_per_bundle"] > 0
