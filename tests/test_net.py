"""The one loopback rule every labkit network client applies."""

from __future__ import annotations

import pytest

from labkit._internal.net import is_loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
    ("10.0.0.1", False), ("192.168.1.1", False), ("8.8.8.8", False), ("example.com", False),
    ("", False), ("localhost.example.com", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
