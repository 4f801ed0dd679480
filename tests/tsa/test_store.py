"""A TSA's key and chain on disk: real keys 0600, lab keys never written, and what does not fit is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from labkit.errors import InputError
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority, TSAError, create_tsa, load_tsa, save_tsa


def test_real_material_round_trips_with_a_private_key_file(tmp_path: Path) -> None:
    material = create_tsa()
    chain_path, key_path = tmp_path / "tsa" / "chain.pem", tmp_path / "keys" / "tsa.pem"
    save_tsa(material, chain_path=chain_path, key_path=key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    loaded = load_tsa(chain_path=chain_path, key_path=key_path)
    assert loaded.chain == material.chain and loaded.root_key is None and not loaded.lab
    assert loaded.signing_key.public_key().der() == material.signing_key.public_key().der()
    TimestampAuthority(loaded.signing_key, loaded.chain).timestamp(b"x")


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-p384"])
def test_lab_keys_are_not_written_and_come_back_from_the_seed(tmp_path: Path, algorithm: str) -> None:
    material = create_tsa(lab=Lab(seed="store"), algorithm=algorithm)
    chain_path, key_path = tmp_path / "chain.pem", tmp_path / "tsa.pem"
    save_tsa(material, chain_path=chain_path, key_path=key_path)
    assert not key_path.exists()
    loaded = load_tsa(chain_path=chain_path, key_path=key_path, lab=Lab(seed="store"))
    assert loaded.lab and loaded.signing_key.public_key().der() == material.signing_key.public_key().der()
    with pytest.raises(TSAError, match="does not certify"):
        load_tsa(chain_path=chain_path, key_path=key_path, lab=Lab(seed="another seed"))


def test_bad_files_are_one_labkit_error(tmp_path: Path) -> None:
    chain_path, key_path = tmp_path / "chain.pem", tmp_path / "tsa.pem"
    with pytest.raises(InputError):
        load_tsa(chain_path=chain_path, key_path=key_path)
    chain_path.write_bytes(b"not pem")
    with pytest.raises(TSAError):
        load_tsa(chain_path=chain_path, key_path=key_path)
    save_tsa(create_tsa(), chain_path=chain_path, key_path=key_path)
    key_path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(TSAError, match="not an unencrypted PEM private key"):
        load_tsa(chain_path=chain_path, key_path=key_path)
    save_tsa(create_tsa(), chain_path=tmp_path / "other.pem", key_path=key_path)
    with pytest.raises(TSAError, match="does not certify"):
        load_tsa(chain_path=chain_path, key_path=key_path)
