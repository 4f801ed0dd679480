"""Deterministic HTML renderers: stable bytes, escaped content, no ids or timestamps."""

from __future__ import annotations

import re

import pytest

from labkit._internal.theme import SYNTAX, WARN, tint
from labkit.display import HTML, hexdump, json_view, key_summary, pem_view, table
from labkit.keyfile import encrypt_private_key
from labkit.keys import generate
from labkit.lab import Lab


def _no_volatile(markup: str) -> None:
    assert " id=" not in markup
    assert not re.search(r"\b20\d\d-\d\d-\d\dT", markup)
    assert "0x7f" not in markup


def test_hexdump_layout_and_highlight() -> None:
    out = hexdump(b"hello, world!\x00\xff<", highlight=[(1, 2)], title="bytes")
    assert isinstance(out, HTML)
    assert out._repr_html_() == str(out)
    text = repr(out)
    assert text.splitlines()[0] == "00000000  68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 00 ff 3c  hello, world!..<"
    assert f"background:{tint(WARN, 35)}" in str(out)
    assert "&lt;" in str(out) and "<\n" not in str(out)
    assert hexdump(b"hello, world!\x00\xff<", highlight=[(1, 2)], title="bytes") == out
    _no_volatile(str(out))


def test_hexdump_limit_and_empty() -> None:
    assert "1000 in total" in repr(hexdump(b"x" * 1000, limit=64))
    assert "(0 bytes)" in repr(hexdump(b""))
    assert repr(hexdump(b"abc", width=2)).splitlines()[1].startswith("00000002  63")


def test_json_view_highlights_and_keeps_order() -> None:
    out = json_view(b'{"z":1,"a":"<x>","t":true,"n":null,"f":-1.5e3}')
    markup = str(out)
    assert markup.index("&quot;z&quot;") < markup.index("&quot;a&quot;")
    assert "&lt;x&gt;" in markup
    for color in SYNTAX.values():
        assert color in markup
    assert json_view({"z": 1, "a": "<x>", "t": True, "n": None, "f": -1500.0}).text == out.text
    assert "(300 chars)" in str(json_view({"b": "A" * 300}, shorten=20))
    assert "not json" in repr(json_view("not json"))
    _no_volatile(markup)


def test_pem_view(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab)
    out = pem_view(key.public_key().pem())
    assert "PUBLIC KEY: 91 bytes" in repr(out)
    enc = pem_view(encrypt_private_key(key, "pw", allow_lab=True, lab=lab), show_body=False)
    assert "Labkit-Lab: true" in str(enc)
    assert "ENCRYPTED SIGSTORE PRIVATE KEY" in repr(enc)
    assert "not valid base64" in repr(pem_view("-----BEGIN X-----\n!!\n-----END X-----\n"))
    assert repr(pem_view("plain")) == "plain"


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ed25519"])
def test_key_summary(alg: str, lab: Lab) -> None:
    key = generate(alg, lab=lab)
    out = key_summary(key)
    assert alg in repr(out) and "LAB" in repr(out)
    assert key.public_key().key_id().hex() in str(out)
    assert "public (verifying) key" in repr(key_summary(key.public_key()))
    assert "real: random" in repr(key_summary(generate(alg)))
    with pytest.raises(TypeError):
        key_summary("nope")  # type: ignore[arg-type]


def test_table() -> None:
    out = table([{"a": 1, "b": "<i>"}, {"a": 2}], title="T")
    assert "&lt;i&gt;" in str(out) and "<th" in str(out)
    assert repr(out).splitlines() == ["a | b", "1 | <i>", "2 | "]
    assert repr(table([(1, 2)], headers=("x", "y"), monospace=[1])).splitlines() == ["x | y", "1 | 2"]


def test_html_concatenation() -> None:
    both = hexdump(b"a") + table([(1,)])
    assert str(both) == str(hexdump(b"a")) + str(table([(1,)]))
    assert hash(both) == hash(HTML(str(both)))
