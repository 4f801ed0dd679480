"""Whatever the YAML holds, loading a policy ends in policies or a PolicyError, never another exception."""

from __future__ import annotations

import contextlib

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import LabkitError
from labkit.policy import load_policies
from labkit.policy.cue import compile_cue

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
keys = st.sampled_from(["apiVersion", "kind", "metadata", "spec", "images", "authorities", "key", "keyless",
                        "identities", "glob", "attestations", "predicateType", "policy", "rules", "verifyImages",
                        "imageReferences", "attestors", "entries", "count", "static", "action"])
shaped = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=5)), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(doc=shaped, api=st.sampled_from(["policy.sigstore.dev/v1beta1", "kyverno.io/v1", "v1"]),
       kind=st.sampled_from(["ClusterImagePolicy", "ClusterPolicy", "Pod"]))
def test_policy_documents_never_crash(doc: object, api: str, kind: str) -> None:
    body = {"apiVersion": api, "kind": kind, "spec": doc}
    with contextlib.suppress(LabkitError):
        load_policies(yaml.safe_dump(body))


@settings(max_examples=100, deadline=None)
@given(doc=values)
def test_any_yaml_never_crashes(doc: object) -> None:
    with contextlib.suppress(LabkitError):
        load_policies(yaml.safe_dump(doc))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet='ab:{}"=~<>!&|,\n 12.-/', max_size=40))
def test_cue_never_crashes(text: str) -> None:
    with contextlib.suppress(LabkitError):
        compile_cue(text).violations({"a": {"b": 1}})
