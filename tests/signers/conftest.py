"""Fixtures for the signer tests: a SoftHSM token under a temporary SOFTHSM2_CONF, the local KMS stand-in."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool

PIN = "2468"


@dataclass(frozen=True)
class Token:
    """A SoftHSM token: its config, module and label."""

    conf: Path
    module: str
    label: str

    def uri(self, obj: str, *, pin: str | None = PIN, extra: str = "") -> str:
        """``pkcs11:token=…;object=obj?module-path=…&pin-value=…``."""
        query = f"module-path={self.module}" + (f"&pin-value={pin}" if pin is not None else "") + extra
        return f"pkcs11:token={self.label};object={obj}?{query}"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """One token for the session (SoftHSM reads SOFTHSM2_CONF once per process), PIN `PIN`."""
    util = require_tool("softhsm2-util", "PKCS#11 signing tests")
    pytest.importorskip("pkcs11", reason="python-pkcs11 (the 'keys' extra) is not installed")
    from labkit.signers.pkcs11 import softhsm_module

    module = softhsm_module()
    if module is None:
        pytest.skip("SoftHSM's libsofthsm2.so is not installed (apt-get install softhsm2)")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        subprocess.run([util, "--init-token", "--free", "--label", "labkit-test", "--pin", PIN, "--so-pin", "13579"],
                       check=True, capture_output=True, env=os.environ.copy(), timeout=60)
        yield Token(conf, module, "labkit-test")
    finally:
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


@pytest.fixture
def local_kms(spawn: Callable[..., subprocess.Popen[Any]]) -> Any:
    """The AWS-KMS-API stand-in (moto's server) on 127.0.0.1, started through `spawn` (stopped whatever happens)."""
    pytest.importorskip("moto.server", reason="moto[server] (the test extra) is not installed")
    pytest.importorskip("boto3", reason="boto3 (the 'keys' extra) is not installed")
    from labkit.signers.kmsserver import start_local_kms

    return start_local_kms(popen=spawn)
