"""sigstore-js (@sigstore/verify, pinned in tests/js/package.json) judges labkit's bundles offline.

Install once: ``npm ci --prefix tests/js`` (from the npm registry; node_modules is not committed).
The test skips, with that command, when node or the installed packages are missing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit import systools
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.samples import (
    SAMPLE_ARTIFACT,
    SAMPLE_IDENTITY,
    TIMESTAMP_CASES,
    SampleBundles,
    make_timestamp_bundles,
)
from tests.conftest import require_tool

HERE = Path(__file__).parent
INSTALL = "npm ci --prefix tests/js"


@pytest.fixture(scope="module")
def node() -> str:
    path = require_tool("node", "sigstore-js judges labkit's bundles")
    if not (HERE / "node_modules" / "@sigstore" / "verify" / "package.json").is_file():
        message = f"@sigstore/verify is not installed in tests/js/node_modules; run: {INSTALL}"
        if os.environ.get(systools.REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> SampleBundles:
    return make_timestamp_bundles(tmp_path_factory.mktemp("js"), seed="sigstore-js")


def _judge(node: str, bundle: Path, artifact: Path, root: Path, issuer: str, *thresholds: int) -> tuple[bool, str]:
    proc = subprocess.run([node, str(HERE / "verify.js"), str(bundle), str(artifact), str(root), SAMPLE_IDENTITY,
                           issuer, *map(str, thresholds)], capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def test_sigstore_js_verifies_a_timestamped_keyless_bundle(node: str, stamped: SampleBundles) -> None:
    issuer = stamped.policy.issuer
    assert issuer is not None
    root, artifact = stamped.folder / "trusted_root.json", stamped.folder / "artifact"
    ok, out = _judge(node, stamped.path("good"), artifact, root, issuer, 1, 2)
    assert ok and "OK 2 timestamps" in out, out  # the log's integrated time and the TSA's genTime


@pytest.mark.parametrize("name", sorted(TIMESTAMP_CASES))
def test_sigstore_js_rejects_each_bad_timestamp(node: str, stamped: SampleBundles, name: str) -> None:
    issuer = stamped.policy.issuer
    assert issuer is not None
    ok, out = _judge(node, stamped.path(name), stamped.folder / "artifact", stamped.folder / "trusted_root.json",
                     issuer, 1, 1)
    assert not ok and "TIMESTAMP" in out, out


@pytest.fixture
def private(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance.create(tmp_path / "private", seed="sigstore-js-private", timestamp_only=True)
    yield inst
    inst.close()


def test_sigstore_js_verifies_a_timestamp_only_bundle_when_asked(node: str, private: Instance,
                                                                 tmp_path: Path) -> None:
    bundle, artifact = tmp_path / "b.json", tmp_path / "a.txt"
    artifact.write_bytes(SAMPLE_ARTIFACT)
    bundle.write_text(sign_blob_keyless(private, SAMPLE_ARTIFACT, identity=SAMPLE_IDENTITY).to_json())
    root = private.path / "trusted_root.json"
    assert _judge(node, bundle, artifact, root, private.issuer.url, 0, 1)[0]
    ok, out = _judge(node, bundle, artifact, root, private.issuer.url, 1, 1)
    assert not ok and "TLOG" in out, out


@pytest.fixture
def rekor2(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance.create(tmp_path / "rekor2", seed="sigstore-js-rekor2", rekor_api=2)
    yield inst
    inst.close()


def test_sigstore_js_verifies_a_rekor_v2_bundle(node: str, rekor2: Instance, tmp_path: Path) -> None:
    """A hashedrekord 0.0.2 entry (checkpoint, no SET) and a TSA timestamp: its only source of time."""
    bundle, artifact = tmp_path / "b.json", tmp_path / "a.txt"
    artifact.write_bytes(SAMPLE_ARTIFACT)
    bundle.write_text(sign_blob_keyless(rekor2, SAMPLE_ARTIFACT, identity=SAMPLE_IDENTITY).to_json())
    root = rekor2.path / "trusted_root.json"
    ok, out = _judge(node, bundle, artifact, root, rekor2.issuer.url, 1, 1)
    assert ok and "OK 1 timestamps" in out, out  # no integrated time: the TSA's genTime alone
