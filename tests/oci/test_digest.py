"""Digest grammar, validation and verification (image-spec descriptor.md)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import DigestError
from labkit.oci.digest import Digest, DigestWriter, verify_bytes

GOOD = "sha256:" + "a" * 64


def test_parse_valid() -> None:
    d = Digest.parse(GOOD)
    assert (d.algorithm, d.hex) == ("sha256", "a" * 64)
    assert str(d) == GOOD
    assert d.tag_form == "sha256-" + "a" * 64
    assert Digest.parse("sha512:" + "0" * 128).algorithm == "sha512"


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:../../../../etc/passwd",
        "sha256:" + "A" * 64,  # [A-F] MUST NOT be used
        GOOD + "\n",  # re.match(...$) would accept this
        " " + GOOD,
        "sha256:" + "a" * 63,
        "sha256:" + "a" * 65,
        "sha256/" + "a" * 64,
        "../sha256:" + "a" * 64,
        "md5:" + "a" * 32,  # unsupported algorithm
        "sha256",
        "",
        "sha256:",
        ":" + "a" * 64,
    ],
)
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(DigestError) as caught:
        Digest.parse(bad)
    # a malformed name is not corrupt content: the hint says how a digest is written, not "the store is corrupt"
    assert caught.value.hint == Digest.MALFORMED_HINT


def test_parse_rejects_non_string() -> None:
    with pytest.raises(DigestError):
        Digest.parse(None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_no_digest_ever_escapes_blobs_dir(text: str) -> None:
    """Whatever parses is safe as a path component: no '/', no '..'."""
    try:
        d = Digest.parse(text)
    except DigestError:
        return
    assert "/" not in d.algorithm + d.hex and ".." not in d.algorithm and d.hex.isalnum()


def test_of_and_writer_agree() -> None:
    data = b"hello world" * 1000
    w = DigestWriter()
    for i in range(0, len(data), 7):
        w.update(data[i : i + 7])
    assert w.digest() == Digest.of(data) == Digest.of_chunks([data[:5], data[5:]])
    assert w.size == len(data)
    assert Digest.of(data).hex == hashlib.sha256(data).hexdigest()


def test_verify_bytes() -> None:
    verify_bytes(b"{}", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)
    with pytest.raises(DigestError, match="descriptor says"):
        verify_bytes(b"{}", Digest.of(b"{}"), 3)
    with pytest.raises(DigestError, match="does not match"):
        verify_bytes(b"{ }", Digest.of(b"{}"))
