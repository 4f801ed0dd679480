"""Checks never raise on bad input: predicates of any shape, bundles of any bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit._internal.jsonio import JSONValue
from labkit.attest import explain_blob_attestation, get_predicate_type
from labkit.keys import generate
from labkit.lab import Lab

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=15)
KEY = generate("ecdsa-p256", lab=Lab(seed="fuzz"), label="k").public_key()


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["slsaprovenance1", "cyclonedx", "spdxjson", "vuln", "custom"]), predicate=values)
def test_check_steps_never_raises(name: str, predicate: JSONValue) -> None:
    result = get_predicate_type(name).check_steps(predicate)
    assert result.verified or result.failed_step is not None


@settings(max_examples=60, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_explain_never_raises_on_garbage_bundles(data: bytes) -> None:
    r = explain_blob_attestation(data, b"x", "custom", trusted_root=None, key=KEY)
    assert not r.verified
