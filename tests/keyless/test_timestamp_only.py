"""A timestamp-only instance (no log entries) and the verifier policy that accepts it only when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import InputError
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless, sign_keyless
from labkit.verify import Identity, TrustedRoot, explain_bundle

DATA = b"signed without a log\n"


@pytest.fixture
def private(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance.create(tmp_path / "private", seed="timestamp-only", timestamp_only=True)
    yield inst
    inst.close()


def _policy(inst: Instance) -> Identity:
    return Identity(identity="a@example.com", issuer=inst.issuer.url)


def test_bundles_carry_a_timestamp_and_no_log_entry(private: Instance) -> None:
    signed = sign_keyless(private, DATA, identity="a@example.com")
    vm = signed.bundle.verification_material
    assert signed.log_entry is None and vm.tlog_entries == [] and len(vm.rfc3161_timestamps) == 1
    assert private.tlog.size == 0
    assert private.signing_config().rekor_tlog_urls == ()


@pytest.mark.parametrize(("threshold", "verified", "failed", "reason"), [
    (0, False, "tlog.entries", "tlog.missing"),       # the default policy wants a log entry
    (1, True, None, None),                            # timestamp-only policy, asked for
    (2, False, "timestamp.rfc3161", "timestamp.threshold"),
])
def test_the_policy_decides(private: Instance, threshold: int, verified: bool, failed: str | None,
                            reason: str | None) -> None:
    bundle = sign_blob_keyless(private, DATA, identity="a@example.com")
    root = TrustedRoot.from_json(private.trusted_root_json())
    result = explain_bundle(bundle, DATA, root, _policy(private), signed_timestamps=threshold)
    assert result.verified is verified, result.checklist()
    if failed is not None:
        assert result.failed_step is not None and result.failed_step.id == failed
        assert result.failed_step.reason == reason


def test_a_logged_bundle_needs_its_timestamps_under_the_policy(instance: Instance) -> None:
    root = TrustedRoot.from_json(instance.trusted_root_json())
    plain = sign_blob_keyless(instance, DATA, identity="a@example.com")
    stamped = sign_blob_keyless(instance, DATA, identity="a@example.com", timestampers=instance.timestampers())
    assert explain_bundle(plain, DATA, root, _policy(instance)).verified
    assert not explain_bundle(plain, DATA, root, _policy(instance), signed_timestamps=1).verified
    assert explain_bundle(stamped, DATA, root, _policy(instance), signed_timestamps=1).verified
    with pytest.raises(InputError):
        explain_bundle(stamped, DATA, root, _policy(instance), signed_timestamps=-1)


def test_cli(tmp_path: Path) -> None:
    inst, artifact, bundle = tmp_path / "inst", tmp_path / "a.txt", tmp_path / "a.json"
    artifact.write_bytes(DATA)
    assert main(["init", str(inst), "--seed", "cli-ts", "--timestamp-only"]) == 0
    assert main(["sign-blob", "--instance", str(inst), "--identity", "a@example.com", "--bundle", str(bundle),
                 str(artifact)]) == 0
    issuer = Instance.open(inst).issuer.url
    verify = ["verify-blob", "--instance", str(inst), "--bundle", str(bundle), "--certificate-identity",
              "a@example.com", "--certificate-oidc-issuer", issuer]
    assert main([*verify, str(artifact)]) == 1
    assert main([*verify, "--signed-timestamps", "1", str(artifact)]) == 0
    with pytest.raises(SystemExit):  # argparse refuses a threshold past MAX_TIMESTAMPS
        main([*verify, "--signed-timestamps", "99", str(artifact)])
    predicate, att = tmp_path / "p.json", tmp_path / "att.json"
    predicate.write_text("{}")
    assert main(["attest-blob", "--instance", str(inst), "--identity", "a@example.com", "--type", "custom",
                 "--predicate", str(predicate), "--bundle", str(att), str(artifact)]) == 0
    assert main(["verify-bundle", "--bundle", str(att), "--trusted-root", str(inst / "trusted_root.json"),
                 "--certificate-identity", "a@example.com", "--certificate-oidc-issuer", issuer,
                 "--signed-timestamps", "1", "-q", str(artifact)]) == 0
