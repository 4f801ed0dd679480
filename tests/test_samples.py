"""labkit.samples: the good bundle verifies, each broken copy fails at its one step, judged twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.bundle import Bundle
from labkit.cli import main
from labkit.errors import InputError
from labkit.samples import (
    CONFORMANCE_ENV,
    SAMPLE_ARTIFACT,
    SAMPLE_IDENTITY,
    TIMESTAMP_CASES,
    SampleBundles,
    find_conformance_cases,
    make_broken_bundles,
    make_timestamp_bundles,
)
from labkit.verify import BundleVerificationError
from tests.conftest import VENDOR

BROKEN = {
    "inclusion-proof-corrupted-hash": "tlog.inclusion_proof",
    "checkpoint-wrong-key": "tlog.checkpoint.signature",
    "checkpoint-bad-keyhint": "tlog.checkpoint.signature",
    "message-digest-mismatch": "artifact.digest",
    "set-from-another-entry": "tlog.inclusion_promise",
    "signature-mismatch": "signature",
    "entry-from-another-signing": "binding.digest",
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> SampleBundles:
    return make_broken_bundles(tmp_path_factory.mktemp("samples"), seed="test-samples")


def test_the_cases_are_the_good_bundle_and_the_broken_ones(samples: SampleBundles) -> None:
    assert list(samples.cases) == ["good", *BROKEN]
    assert {name: c.failing_step for name, c in samples.cases.items()} == {"good": None, **BROKEN}
    assert samples.artifact == SAMPLE_ARTIFACT
    assert samples.policy.identity == SAMPLE_IDENTITY


def test_the_good_bundle_verifies_with_every_check(samples: SampleBundles) -> None:
    result = samples.verify("good")
    assert result.verified and result.signer == SAMPLE_IDENTITY
    ran = {s.id for s in result.steps if s.status.value == "passed"}
    # A real certificate bundle: proof, checkpoint, SET and embedded SCT are all checked, not skipped.
    assert {"tlog.inclusion_proof", "tlog.checkpoint.signature", "tlog.inclusion_promise", "certificate.sct"} <= ran
    proof = samples.good.bundle.verification_material.tlog_entries[0].inclusion_proof
    assert proof is not None and len(proof.hashes) >= 2


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_bundle_fails_at_its_one_step(samples: SampleBundles, name: str) -> None:
    result = samples.explain(name)
    assert not result.verified
    assert result.failed_step is not None and result.failed_step.id == BROKEN[name]
    failed = [s for s in result.steps if s.status.value == "failed"]
    assert [s.id for s in failed] == [BROKEN[name]], "exactly one red step"
    with pytest.raises(BundleVerificationError) as info:
        samples.verify(name)
    assert info.value.step == BROKEN[name]


def test_the_same_seed_gives_the_same_bytes(samples: SampleBundles, tmp_path: Path) -> None:
    again = make_broken_bundles(tmp_path / "again", seed="test-samples")
    assert again.trusted_root == samples.trusted_root
    assert {n: c.bundle_json() for n, c in again.cases.items()} == {
        n: c.bundle_json() for n, c in samples.cases.items()
    }
    other = make_broken_bundles(tmp_path / "other", seed="another seed")
    assert other.good.bundle_json() != samples.good.bundle_json()


def test_the_files_are_written_as_an_analyst_receives_them(samples: SampleBundles) -> None:
    assert (samples.folder / "artifact").read_bytes() == SAMPLE_ARTIFACT
    assert (samples.folder / "trusted_root.json").read_bytes() == samples.trusted_root
    for name, case in samples.cases.items():
        data = samples.path(name).read_bytes()
        assert data == case.bundle_json()
        assert Bundle.from_json(data) == case.bundle


@pytest.mark.parametrize("name", ["good", "checkpoint-wrong-key", "entry-from-another-signing"])
def test_the_cli_judges_the_files(samples: SampleBundles, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    issuer = samples.policy.issuer
    assert issuer is not None
    code = main(
        [
            "verify-bundle",
            "--bundle",
            str(samples.path(name)),
            "--trusted-root",
            str(samples.folder / "trusted_root.json"),
            "--certificate-identity",
            SAMPLE_IDENTITY,
            "--certificate-oidc-issuer",
            issuer,
            "--quiet",
            str(samples.folder / "artifact"),
        ]
    )
    capsys.readouterr()
    assert code == (0 if name == "good" else 1)


def test_sigstore_python_agrees(samples: SampleBundles) -> None:
    """The outside judge: sigstore-python 4.5.1 accepts the good bundle and rejects every broken copy."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(samples.folder / "trusted_root.json")))
    policy = Identity(identity=SAMPLE_IDENTITY, issuer=samples.policy.issuer)
    verifier.verify_artifact(SAMPLE_ARTIFACT, SigstoreBundle.from_json(samples.good.bundle_json()), policy)
    accepted = []
    for name in BROKEN:
        try:
            verifier.verify_artifact(
                SAMPLE_ARTIFACT, SigstoreBundle.from_json(samples.cases[name].bundle_json()), policy
            )
            accepted.append(name)
        except SigstoreError:
            pass
    assert accepted == []


def test_bad_requests_are_labkit_errors(samples: SampleBundles) -> None:
    with pytest.raises(InputError, match="no sample case"):
        samples.case("no-such-case")
    with pytest.raises(InputError, match="already holds a labkit instance"):
        make_broken_bundles(samples.folder, seed="test-samples")


def test_a_case_bundle_is_json_with_a_v03_media_type(samples: SampleBundles) -> None:
    doc = json.loads(samples.cases["set-from-another-entry"].bundle_json())
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"


def _fake_cases(folder: Path) -> Path:
    (folder / "happy-path").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a\n")
    (folder / "happy-path" / "bundle.sigstore.json").write_text("{}")
    return folder


def test_find_conformance_cases_in_a_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFORMANCE_ENV, raising=False)
    cases = _fake_cases(tmp_path / "checkout" / "test" / "assets" / "bundle-verify")
    assert find_conformance_cases(tmp_path / "checkout") == cases
    assert find_conformance_cases(cases) == cases
    monkeypatch.setenv(CONFORMANCE_ENV, str(tmp_path / "checkout"))
    assert find_conformance_cases() == cases
    with pytest.raises(InputError, match="holds no sigstore-conformance"):
        find_conformance_cases(tmp_path / "nothing-here")


def test_find_conformance_cases_without_them_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A learner's laptop or Binder: nothing beside the working directory, so None (no error)."""
    monkeypatch.delenv(CONFORMANCE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    if any((p / "shared" / "conformance").is_dir() for p in tmp_path.parents):
        pytest.skip("a shared/conformance folder sits above the temporary directory")
    assert find_conformance_cases() is None


def test_find_conformance_cases_beside_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a development checkout the notebook finds ../shared/conformance from its own folder."""
    monkeypatch.delenv(CONFORMANCE_ENV, raising=False)
    cases = _fake_cases(tmp_path / "shared" / "conformance" / "bundle-verify")
    (tmp_path / "checkout" / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "checkout" / "notebooks")
    assert find_conformance_cases() == cases


def test_the_vendored_conformance_cases_are_a_bundle_verify_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/vendor/conformance (what the tests read) is what the notebook's CONFORMANCE may name."""
    monkeypatch.delenv(CONFORMANCE_ENV, raising=False)
    assert find_conformance_cases(VENDOR / "conformance") == VENDOR / "conformance" / "bundle-verify"


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> SampleBundles:
    return make_timestamp_bundles(tmp_path_factory.mktemp("stamped"), seed="test-timestamps")


def test_the_timestamped_bundle_verifies_through_its_timestamp(stamped: SampleBundles) -> None:
    result = stamped.verify("good")
    assert any(s.id == "timestamp.rfc3161" and s.status.value == "passed" for s in result.steps)
    assert list(stamped.cases) == ["good", *TIMESTAMP_CASES]


@pytest.mark.parametrize("name", sorted(TIMESTAMP_CASES))
def test_each_bad_timestamp_fails_at_the_timestamp_step(stamped: SampleBundles, name: str) -> None:
    result = stamped.explain(name)
    assert result.failed_step is not None and result.failed_step.id == "timestamp.rfc3161"
    assert result.failed_step.reason == TIMESTAMP_CASES[name], result.checklist()
    with pytest.raises(BundleVerificationError):
        stamped.verify(name)


def test_sigstore_python_and_the_bad_timestamps(stamped: SampleBundles) -> None:
    """sigstore-python 4.5.1 verifies labkit's timestamped keyless bundle offline.

    It skips a timestamp it cannot verify and still accepts the bundle on the log entry's integrated time
    (one verified time is its threshold); labkit refuses a bundle carrying a bad timestamp. This records
    the difference, so a change on either side shows.
    """
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(stamped.folder / "trusted_root.json")))
    policy = Identity(identity=SAMPLE_IDENTITY, issuer=stamped.policy.issuer)
    verifier.verify_artifact(SAMPLE_ARTIFACT, SigstoreBundle.from_json(stamped.good.bundle_json()), policy)
    accepted = []
    for name in TIMESTAMP_CASES:
        try:
            verifier.verify_artifact(SAMPLE_ARTIFACT, SigstoreBundle.from_json(stamped.cases[name].bundle_json()),
                                     policy)
            accepted.append(name)
        except SigstoreError:
            pass
    assert accepted == list(TIMESTAMP_CASES)
