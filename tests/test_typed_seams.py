"""Typed seams at the trust boundary (issue 13 item 4).

The verify, bundle, log, keyless, OCI, signer, signing-config, TSA, TUF and witness layers take precise types
(Protocols, `JSONValue`, unions); the few `Any`/`object` parameters left there carry a ``# Any:`` reason
(`tools/seams.py --any` lists them). The readers retyped from ``Any`` to `JSONValue` refuse what they refused.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import ModuleType

import pytest

import labkit
from labkit._internal.jsonio import JSONValue
from labkit.errors import LogError
from labkit.oci.descriptor import Descriptor, ManifestError
from labkit.oci.digest import Digest
from labkit.witness.cosignature import Cosigner
from labkit.witness.service import Witness
from tests._tools import load_tool

ROOT = Path(__file__).resolve().parent.parent

#: The trust-boundary layers this gate holds to at most `_MAX_PLAIN` reasoned `Any`/`object` parameters.
_TRUST_LAYERS = tuple(f"labkit/{p}" for p in (
    "verify/", "tlog/", "bundle.py", "keyless/", "oci/", "signers/", "signingconfig.py", "tsa/", "tuf/",
    "witness/", "_internal/protojson.py", "_internal/wsgi.py",
))
_MAX_PLAIN = 8


def _seams() -> ModuleType:
    return load_tool("seams")


def test_trust_layers_keep_few_plain_parameters_each_with_a_reason() -> None:
    rows = [r for r in _seams().plain_parameters(Path(labkit.__file__).parent) if r.startswith(_TRUST_LAYERS)]
    assert len(rows) <= _MAX_PLAIN, "\n".join(rows)
    unexplained = [r for r in rows if r.endswith("# ")]
    assert not unexplained, "no '# Any: <why>' reason on:\n" + "\n".join(unexplained)


_D = str(Digest.of(b"x"))


@pytest.mark.parametrize("annotations", [{"a": 1}, {"a": None}, {"a": ["b"]}, ["a"], "a"])
def test_descriptor_annotations_must_be_a_string_map(annotations: JSONValue) -> None:
    doc: JSONValue = {"mediaType": "x/y", "digest": _D, "size": 1, "annotations": annotations}
    with pytest.raises(ManifestError, match="annotations that are not a string map"):
        Descriptor.from_dict(doc)


@pytest.mark.parametrize("data", [1, True, ["eA=="], {"a": "eA=="}, "not base64!"])
def test_descriptor_embedded_data_must_be_base64_text(data: JSONValue) -> None:
    doc: JSONValue = {"mediaType": "x/y", "digest": _D, "size": 1, "data": data}
    with pytest.raises(ManifestError, match="embedded data that is not base64"):
        Descriptor.from_dict(doc)


def test_descriptor_reads_string_annotations_and_data() -> None:
    doc: JSONValue = {"mediaType": "x/y", "digest": _D, "size": 1, "annotations": {"a": "b"}, "data": "eA=="}
    d = Descriptor.from_dict(doc)
    assert d.annotations == {"a": "b"} and d.data == b"x"


_ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize("entry", [
    [3, _ROOT_B64], "3", None, {"size": 3}, {"root": _ROOT_B64}, {"size": None, "root": _ROOT_B64},
    {"size": [3], "root": _ROOT_B64}, {"size": "three", "root": _ROOT_B64}, {"size": 3, "root": 7},
    {"size": 3, "root": "not base64!"},
])
def test_witness_state_refuses_a_bad_entry(tmp_path: Path, entry: JSONValue) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"origin": entry}))
    with pytest.raises(LogError, match="bad entry for 'origin'"):
        Witness({}, [Cosigner.ed25519("w", bytes(32))], state=state)


def test_witness_state_reads_its_entries(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"a": {"size": 3, "root": _ROOT_B64}, "b": {"size": "4", "root": _ROOT_B64}}))
    w = Witness({}, [Cosigner.ed25519("w", bytes(32))], state=state)
    assert w._latest == {"a": (3, bytes(32)), "b": (4, bytes(32))}
