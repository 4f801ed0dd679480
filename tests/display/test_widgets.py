"""The widget shells: pure functions tested directly, and the widgets wired to them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from labkit.display.widgets import attack_chooser, attack_view, flip_bit, merkle_explorer, tamper_explorer, tamper_view
from labkit.errors import InputError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.sign import sign_blob
from labkit.tlog.merkle import leaf_hash
from labkit.verify import VerificationResult, explain_bundle

DATA = b"labkit 1.0: first release\n"


def _verify() -> Callable[[bytes], VerificationResult]:
    key = generate("ecdsa-p256", lab=Lab(seed="widgets"), label="w")
    bundle = sign_blob(DATA, key)
    return lambda data: explain_bundle(bundle, data, key=key.public_key())


def test_flip_bit() -> None:
    assert flip_bit(b"\x00\xff", 1, 7) == b"\x00\x7f"
    assert flip_bit(DATA, 0) == b"m" + DATA[1:]
    with pytest.raises(InputError):
        flip_bit(DATA, len(DATA))
    with pytest.raises(InputError):
        flip_bit(DATA, 0, 8)


def test_tamper_view_shows_the_failed_check() -> None:
    view = tamper_view(DATA, 3, 2, _verify())
    assert "artifact.digest" in view.html and "REJECTED" in view.html
    assert view.html == tamper_view(DATA, 3, 2, _verify()).html  # deterministic


def test_tamper_explorer_redraws_on_change() -> None:
    box = tamper_explorer(DATA, _verify())
    offset, bit, out = box.children
    first = out.value
    offset.value = 5
    assert out.value != first and "byte 5, bit 0" in out.value


def test_attack_view_and_chooser() -> None:
    view = attack_view("ghsa-whqx-blob")
    assert "caught by labkit: yes (binding.digest)" in view.text
    box = attack_chooser(["ghsa-whqx-blob", "bundle-copy"])
    pick, out = box.children
    pick.value = "bundle-copy"
    assert "binding.signature" in out.value


def test_merkle_explorer() -> None:
    leaves = [leaf_hash(b"%d" % i) for i in range(8)]
    box = merkle_explorer(leaves, size=5, leaf=2)
    size, leaf, picture = box.children
    before = picture.value
    leaf.value = 4
    assert picture.value != before and "<svg" in picture.value
    with pytest.raises(InputError):
        merkle_explorer([])
