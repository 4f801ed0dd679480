"""The minimal DER module: encodings match X.690 and the decoder refuses what is not DER."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from labkit._internal import der
from labkit.lab import Lab
from labkit.tsa import create_tsa


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_integer_round_trips_in_shortest_form(value: int) -> None:
    assert der.decode_integer(der.parse(der.integer(value))) == value


@pytest.mark.parametrize(("value", "encoded"), [(0, "020100"), (127, "02017f"), (128, "02020080"), (-1, "0201ff"),
                                                (-128, "020180"), (-129, "0202ff7f"), (256, "02020100")])
def test_integer_vectors(value: int, encoded: str) -> None:
    assert der.integer(value).hex() == encoded


@pytest.mark.parametrize("dotted", ["1.2.840.113549.1.9.16.1.4", "2.16.840.1.101.3.4.2.1", "2.25.1", "0.0",
                                    "2.999.3", "2.25.199372833199221027952820365564245033342"])
def test_oid_round_trips(dotted: str) -> None:
    assert der.decode_oid(der.parse(der.oid(dotted))) == dotted


def test_oid_vector_and_bad_forms() -> None:
    assert der.oid("1.2.840.113549").hex() == "06062a864886f70d"
    for bad in ("06028001", "0601", "060181"):  # leading 0x80 arc byte, empty, truncated arc
        with pytest.raises(der.DERError):
            der.decode_oid(der.parse(bytes.fromhex(bad)))
    with pytest.raises(der.DERError):
        der.oid("3.1")


@pytest.mark.parametrize(("bits", "encoded"), [([0], "03020780"), ([5], "03020204"), ([15], "0303000001"),
                                               ([16], "030407000080"), ([25], "0305060000 0040".replace(" ", "")),
                                               ([], "030100")])
def test_named_bit_strings_drop_trailing_zero_bits(bits: list[int], encoded: str) -> None:
    assert der.bit_string(bits).hex() == encoded


def test_generalized_time_has_no_trailing_zeros() -> None:
    utc = dt.timezone.utc
    assert der.generalized_time(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc))[2:] == b"20260102030405Z"
    assert der.generalized_time(dt.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=utc))[2:] == b"20260102030405.5Z"
    with pytest.raises(der.DERError):
        der.generalized_time(dt.datetime(2026, 1, 2))


def test_set_of_sorts_its_encodings() -> None:
    assert der.set_of([der.integer(2), der.integer(1)]) == bytes.fromhex("3106020101020102")


@pytest.mark.parametrize("bad", [
    "3080020100",  # indefinite length
    "30810100",  # long form for a short length
    "3003020100ff",  # trailing byte
    "30",  # truncated header
    "3005020100",  # shorter than its length
    "1f0100",  # high tag number
    "3003020201",  # child runs past its parent
])
def test_decoder_refuses_non_der(bad: str) -> None:
    with pytest.raises(der.DERError):
        der.children(der.parse(bytes.fromhex(bad)))


@pytest.mark.parametrize("bad", ["02020001", "0202ff80", "0200", "0401ff"])
def test_integers_must_be_minimal(bad: str) -> None:
    with pytest.raises(der.DERError):
        der.decode_integer(der.parse(bytes.fromhex(bad)))


def test_children_is_bounded() -> None:
    with pytest.raises(der.DERError, match="more than 3"):
        der.children(der.parse(der.sequence(*[der.null()] * 4)), limit=3)


def test_decoder_reads_a_real_certificate() -> None:
    cert = create_tsa(lab=Lab(seed="der")).chain[0]
    raw = cert.public_bytes(serialization.Encoding.DER)
    tbs, alg, sig = der.children(der.parse(raw))
    assert tbs.raw == cert.tbs_certificate_bytes and sig.tag == 0x03 and alg.tag == der.SEQUENCE
    assert der.decode_integer(der.children(tbs)[1]) == cert.serial_number
