"""A SoftHSM v2 token for the lab: its own config and token directory, made with ``softhsm2-util``.

SoftHSM reads ``SOFTHSM2_CONF`` when the module is first loaded in a
process, so `create_token` sets it for this process (and children). The
token's objects live under `directory`, encrypted by SoftHSM with the PIN;
labkit never writes key material itself.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labkit import systools
from labkit.errors import InputError
from labkit.signers.pkcs11 import softhsm_module

__all__ = ["create_token"]


@dataclass(frozen=True)
class SoftHsmToken:
    """A token: its label, user PIN, module and config file."""

    label: str
    pin: str
    module: str
    conf: Path

    def uri(self, obj: str, *, with_pin: bool = True) -> str:
        """``pkcs11:token=LABEL;object=OBJ?module-path=…[&pin-value=PIN]`` (cosign's form)."""
        pin = f"&pin-value={self.pin}" if with_pin else ""
        return f"pkcs11:token={self.label};object={obj}?module-path={self.module}{pin}"


def create_token(directory: str | os.PathLike[str], label: str = "lab", pin: str = "1234",
                 so_pin: str = "123456") -> SoftHsmToken:
    """Initialise a token in `directory` (a config file and a token store) and point SOFTHSM2_CONF at it."""
    util = systools.find("softhsm2-util")
    module = softhsm_module()
    if util is None or module is None:
        raise InputError("SoftHSM v2 is not installed", hint=systools.install_hint("softhsm2-util"))
    root = Path(directory)
    (root / "tokens").mkdir(parents=True, exist_ok=True)
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root.resolve() / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n", encoding="utf-8")
    os.environ["SOFTHSM2_CONF"] = str(conf.resolve())
    done = subprocess.run([util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise InputError(f"softhsm2-util could not create the token: {done.stderr.strip() or done.stdout.strip()}")
    return SoftHsmToken(label, pin, module, conf)
