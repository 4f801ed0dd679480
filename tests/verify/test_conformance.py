"""Every sigstore-conformance bundle-verify case, twice (artifact path and sha256 digest), through the CLI.

The suite only checks exit codes; `EXPECTED_REASONS` also pins *why* each
``_fail`` case is rejected, written from the case's README, so a case
rejected for the wrong reason fails here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import InputError
from labkit.verify.conformance import ConformanceCase
from tests.conftest import SHARED

CASES_DIR = SHARED / "conformance" / "bundle-verify"

#: Why each failing case must fail (reason code of the first failed step), from its README.
EXPECTED_REASONS: dict[str, str] = {
    # "Bundle contains empty certificate chain"
    "bundle-empty-certificate-chain_fail": "bundle.parse",
    # "valid bundle from public good staging ... trust roots are different": the staging log is unknown
    "bundle-from-wrong-instance_fail": "tlog.unknown_log",
    # "Bundle signature contains invalid base64 encoding"
    "bundle-invalid-base64-signature_fail": "bundle.parse",
    # "truncated/malformed JSON: should fail with parse error"
    "bundle-malformed-json_fail": "bundle.parse",
    # "tlog entry has negative log index"
    "bundle-negative-log-index_fail": "bundle.parse",
    # "unknown/unsupported version"
    "bundle-unknown-version_fail": "bundle.parse",
    # "certificate chain contains a root certificate"
    "bundle-with-root-cert_fail": "material.chain_has_root",
    # "checkpoint signature does not match the transparency log providing the entry"
    "checkpoint-bad-keyhint_fail": "tlog.checkpoint.signature",
    # "checkpoint is self consistent but does not apply to this bundle (root hash is wrong)"
    "checkpoint-wrong-roothash_fail": "tlog.checkpoint.root",
    # "The signature in the dsse envelope is incorrect"
    "dsse-invalid-sig_fail": "signature",
    # "DSSE envelope does not match the entry" (payload hash differs)
    "dsse-mismatch-envelope_fail": "binding.digest",
    # "DSSE signature does not match" (second valid signature, not the logged one)
    "dsse-mismatch-sig_fail": "binding.signature",
    # "The inclusion proof has a corrupted hash"
    "inclusion-proof-corrupted-hash_fail": "tlog.inclusion_proof",
    # "The public key in the hashrekord entry has been modified"
    "incorrect-public-key_fail": "binding.key",
    # "rekor integrated time is not within signing certificate validity"
    "integrated-time-in-future_fail": "certificate.validity",
    # "Certificate was issued outside the validity window" (leaf notBefore 2030)
    "intoto-expired-certificate_fail": "certificate.validity",
    # "log entry does not match the signed artifact" (the logged signature differs)
    "intoto-log-entry-mismatch_fail": "binding.signature",
    # "v0.2 bundle where log entry does not contain an inclusion proof"
    "intoto-missing-inclusion-proof_fail": "tlog.inclusion_proof.missing",
    # "Signed Entry Timestamp ... outside the validity window of the signing certificate"
    "intoto-set-outside-signing-cert-validity_fail": "certificate.validity",
    # "TSA timestamp is outside of the validity window of the signing certificate"
    "intoto-tsa-timestamp-outside-cert-validity_fail": "certificate.validity",
    # "Rekor checkpoint signature is invalid"
    "invalid-checkpoint-signature_fail": "tlog.checkpoint.signature",
    # no README; upstream test: "rejects a bundle if the trusted root CT key is wrong"
    "invalid-ct-key_fail": "certificate.sct",
    # "The inclusion proof is old and is not valid for this entry"
    "invalid-inclusion-proof_fail": "tlog.inclusion_proof",
    # "bundle is signed with key but no key is provided"
    "managed-key-no-key_fail": "material.no_certificate",
    # "expected to fail due to wrong key" (the key file is corrupt)
    "managed-key-wrong-key_fail": "key.invalid",
    # "The messageDigest in the bundle does not match the artifact hash"
    "message-digest-mismatch_fail": "artifact.digest",
    # "log signature removed, which should cause a parsing or verification failure"
    "rekor2-checkpoint-missing-log-signature_fail": "tlog.checkpoint.format",
    # "origin line removed, which should cause a parsing failure"
    "rekor2-checkpoint-missing-origin_fail": "tlog.checkpoint.format",
    # "root hash removed, which should cause a parsing failure"
    "rekor2-checkpoint-missing-root-hash_fail": "tlog.checkpoint.format",
    # "size removed, which should cause a parsing failure"
    "rekor2-checkpoint-missing-size_fail": "tlog.checkpoint.format",
    # "identity of the checkpoint signature does not match the transparency log host"
    "rekor2-checkpoint-no-matching-signature_fail": "tlog.checkpoint.signature",
    # "envelope signature ... made with a different key entirely"
    "rekor2-dsse-invalid-sig_fail": "signature",
    # "Hash(PAE(envelope)) does not match the hashedrekord entry's recorded digest"
    "rekor2-dsse-mismatch-envelope_fail": "binding.digest",
    # "envelope signature does not match the signature recorded in the tlog entry"
    "rekor2-dsse-mismatch-sig_fail": "binding.signature",
    # "the inclusion proof is removed ... should NOT be querying the log"
    "rekor2-no-inclusion-proof_fail": "tlog.inclusion_proof.missing",
    # "no TSA timestamp ... rekor 2 entries do not come with a integrated time"
    "rekor2-no-timestamp_fail": "time.no_verified_source",
    # "TSA ... has an expiry date that precedes the time at which the timestamp was generated"
    "rekor2-timestamp-outside-trust-root-tsa-validity_fail": "timestamp.tsa_validity",
    # "The timestamp was requested after [the TSA certificate chain's] expiry"
    "rekor2-timestamp-outside-tsa-cert-validity_fail": "timestamp.tsa_cert_validity",
    # "timestamp payload does not match the bundle signature"
    "rekor2-timestamp-payload-mismatch_fail": "timestamp.imprint_mismatch",
    # "FreeTSA, is not in the trusted root" (certificates embedded)
    "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail": "timestamp.untrusted",
    # "FreeTSA, is not in the trusted root" (no certificates embedded)
    "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": "timestamp.untrusted",
    # "timestamp time is outside the signing certificate lifetime". Its signedTimestamp is base64 wrapped at 76
    # characters (`base64 response.tsr`); the proto3 JSON mapping skips the line breaks (issue 12 item 17).
    "rekor2-timestamp-with-incorrect-time_fail": "certificate.validity",
    # "The signed entry timestamp ... signature is invalid"
    "set-invalid-signature_fail": "tlog.inclusion_promise",
    # "The signature in this bundle is incorrect"
    "signature-mismatch_fail": "signature",
    # "validFor interval is missing its required start. Verification must reject the malformed trust root"
    "trust-root-tlog-missing-validity-start_fail": "trust_root.invalid",
    # "otherwise cryptographically valid but artifact is incorrect" (entry logs another digest)
    "wrong-hashedrekord-artifact_fail": "binding.digest",
    # "certificate (and signature) used for hashedrekord is incorrect"
    "wrong-hashedrekord-cert-and-sig_fail": "binding.key",
    # "hashedrekord is for a different entry"
    "wrong-hashedrekord-entry_fail": "binding.digest",
    # "valid bundle for the default artifact, but the artifact here is different"
    "wrong-material_fail": "artifact.digest",
}


def _cases() -> list[str]:
    if not CASES_DIR.is_dir():
        return []
    return sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


CASES = _cases()


def _argv(case: str, mode: str) -> list[str]:
    c = ConformanceCase.load(CASES_DIR / case)
    digest = "sha256:" + hashlib.sha256(c.artifact.read_bytes()).hexdigest()
    return c.cli_args(digest if mode == "DIGEST" else None)


@functools.cache
def _run(case: str, mode: str) -> tuple[int, str]:
    """Run the CLI in process with --json; (exit code, reason code)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    argv = _argv(case, mode)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv[:1], "--json", *argv[1:]])
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    reason = json.loads(lines[-1])["reason"] if lines else "(no output)"
    return code, reason


def test_suite_is_complete() -> None:
    assert len(CASES) == 70
    fails = [c for c in CASES if c.endswith("_fail")]
    assert len(fails) == 49
    assert sorted(EXPECTED_REASONS) == fails


@pytest.mark.parametrize("mode", ["PATH", "DIGEST"])
@pytest.mark.parametrize("case", CASES)
def test_verify(case: str, mode: str) -> None:
    code, reason = _run(case, mode)
    if case.endswith("_fail"):
        assert code != 0, f"{case} verified but must fail"
    else:
        assert code == 0, f"{case} must verify; rejected with {reason}"


@pytest.mark.parametrize("mode", ["PATH", "DIGEST"])
@pytest.mark.parametrize("case", [c for c in CASES if c.endswith("_fail")])
def test_fail_reason_is_pinned(case: str, mode: str) -> None:
    _, reason = _run(case, mode)
    assert reason == EXPECTED_REASONS[case]


@pytest.mark.parametrize(
    "case", ["happy-path-v0.1", "rekor2-happy-path", "signature-mismatch_fail", "managed-key-happy-path"]
)
def test_real_process(case: str) -> None:
    """The installed entry point, as the suite runs it (separate process, exit code only)."""
    proc = subprocess.run(
        [sys.executable, "-m", "labkit.cli", *_argv(case, "PATH")], capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode == 0) == (not case.endswith("_fail")), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_reason_is_documented() -> None:
    from labkit.verify import REASONS, STEPS

    for case in CASES:
        for mode in ("PATH", "DIGEST"):
            _, reason = _run(case, mode)
            if reason:
                assert reason in REASONS, f"{case}: undocumented reason {reason}"
    for reason, (step, meaning) in REASONS.items():
        assert meaning and (step in STEPS or reason in ("internal_error", "incomplete")), reason


@pytest.mark.parametrize("case", ["happy-path-v0.1", "managed-key-happy-path", "signature-mismatch_fail"])
def test_conformance_case_explains_as_the_cli_judges(case: str) -> None:
    """`ConformanceCase.load(dir)` is the one reader of the case-folder convention (CLI args and in process)."""
    c = ConformanceCase.load(CASES_DIR / case)
    result = c.explain()
    assert result.verified is not c.must_fail
    assert result.reason == _run(case, "PATH")[1]


def test_a_folder_without_a_bundle_is_not_a_case(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        ConformanceCase.load(tmp_path)
