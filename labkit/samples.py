"""Sample bundles made here: one good keyless bundle and copies of it broken one way each.

`make_broken_bundles(lab_dir, seed)` creates a seeded lab `Instance` in
``lab_dir/instance``, signs four releases keyless as ``release-bot@example.com``
(so the log holds four entries and the last one's inclusion proof has a real
audit path), and breaks copies of the release 1.0 bundle, each in one way
that exactly one verification step must catch:

* ``inclusion-proof-corrupted-hash``: one audit-path hash changed (RFC 9162 §2.1.3.2);
* ``checkpoint-wrong-key``: the checkpoint re-signed by a key that is not the log's (C2SP signed-note);
* ``checkpoint-bad-keyhint``: the log's own checkpoint signature under a wrong 4-byte key hint;
* ``message-digest-mismatch``: the bundle's message digest is another release's;
* ``set-from-another-entry``: a genuine inclusion promise (SET) of another entry of the same log;
* ``signature-mismatch``: the signature over another release;
* ``entry-from-another-signing``: another signing's complete, genuine log entry.

Everything derives from the seed, so the bytes are the same on every run.
The files are written as an analyst would receive them::

    lab_dir/artifact                              the signed release (release 1.0)
    lab_dir/trusted_root.json                     the lab instance's trusted root
    lab_dir/cases/<name>/bundle.sigstore.json     one bundle per case ("good" verifies)

`make_timestamp_bundles(lab_dir, seed)` does the same for RFC 3161 timestamps:
release 1.0 signed keyless with a timestamp from the instance's TSA, and
copies whose timestamp comes from a TSA the trusted root does not list, lies
outside the TSA's window, or is over another signature (each fails at
``timestamp.rfc3161``, with its own reason code).

`find_conformance_cases(folder)` locates the real public-good bundles of the
sigstore-conformance suite when a learner has them (labkit does not ship them).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from labkit._internal.fsutil import atomic_write
from labkit.bundle import Bundle, InclusionProof, MessageSignature, TransparencyLogEntry
from labkit.errors import InputError
from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.keys import generate
from labkit.lab import FixedClock, Lab
from labkit.tlog.checkpoint import NoteSignature, SignedNote, sign_note
from labkit.tsa.authority import TimestampAuthority
from labkit.tsa.client import LocalTimestamper
from labkit.verify.policy import Identity
from labkit.verify.steps import VerificationResult
from labkit.verify.verifier import explain_bundle, verify_bundle

__all__ = ["CONFORMANCE_SOURCE", "find_conformance_cases", "make_broken_bundles"]

#: The timestamp cases of `make_timestamp_bundles` and the reason code each must fail with.
TIMESTAMP_CASES = MappingProxyType({
    "timestamp-untrusted-tsa": "timestamp.untrusted",
    "timestamp-outside-tsa-window": "timestamp.tsa_validity",
    "timestamp-over-another-signature": "timestamp.imprint_mismatch",
})

#: Who signs the samples (the certificate's SAN).
SAMPLE_IDENTITY = "release-bot@example.com"
#: The releases signed, in log order; the last one is the artifact every case is verified against.
_RELEASES = (b"release 0.7\n", b"release 0.8\n", b"release 0.9\n", b"release 1.0\n")
SAMPLE_ARTIFACT = _RELEASES[-1]
#: Where the sigstore-conformance bundle-verify cases come from (third-party data, not shipped).
CONFORMANCE_SOURCE = "https://github.com/sigstore/sigstore-conformance (folder test/assets/bundle-verify)"
#: An environment variable naming the folder with the conformance cases.
CONFORMANCE_ENV = "LABKIT_CONFORMANCE_DIR"
#: Which earlier release lends its (genuine) parts to the broken copies.
_OTHER = 2


@dataclass(frozen=True)
class SampleCase:
    """One sample bundle, what was done to it, and the step that must fail first (None: it verifies)."""

    name: str
    description: str
    bundle: Bundle
    failing_step: str | None

    def bundle_json(self) -> bytes:
        """The bundle as protobuf JSON (what ``bundle.sigstore.json`` holds)."""
        return (self.bundle.to_json(indent=2) + "\n").encode()


@dataclass(frozen=True)
class SampleBundles:
    """The samples of `make_broken_bundles`: the artifact, trust material, policy and named cases."""

    folder: Path
    artifact: bytes
    trusted_root: bytes
    policy: Identity
    cases: Mapping[str, SampleCase]

    @property
    def instance_dir(self) -> Path:
        """The lab instance that signed (open it with `labkit.keyless.instance.Instance.open`)."""
        return self.folder / "instance"

    @property
    def good(self) -> SampleCase:
        """The unbroken bundle."""
        return self.cases["good"]

    def case(self, name: str) -> SampleCase:
        """The case called `name`; an unknown name is an `InputError` listing the known ones."""
        try:
            return self.cases[name]
        except KeyError:
            raise InputError(
                f"no sample case {name!r}", details={"known cases": ", ".join(self.cases)}
            ) from None

    def path(self, name: str) -> Path:
        """Where the case's ``bundle.sigstore.json`` was written."""
        return self.folder / "cases" / self.case(name).name / "bundle.sigstore.json"

    def explain(self, name: str) -> VerificationResult:
        """`explain_bundle` on the case, with the samples' artifact, trusted root and policy."""
        return explain_bundle(self.case(name).bundle, self.artifact, self.trusted_root, self.policy)

    def verify(self, name: str) -> VerificationResult:
        """`verify_bundle` on the case: raises `BundleVerificationError` naming the failed step."""
        return verify_bundle(self.case(name).bundle, self.artifact, self.trusted_root, self.policy)


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _with_entry(bundle: Bundle, entry: TransparencyLogEntry) -> Bundle:
    return dataclasses.replace(
        bundle, verification_material=dataclasses.replace(bundle.verification_material, tlog_entries=[entry])
    )


def _with_checkpoint(bundle: Bundle, entry: TransparencyLogEntry, proof: InclusionProof, note: SignedNote) -> Bundle:
    return _with_entry(bundle, dataclasses.replace(
        entry, inclusion_proof=dataclasses.replace(proof, checkpoint=note.to_text())))


def make_broken_bundles(lab_dir: str | os.PathLike[str], seed: str = "labkit-samples") -> SampleBundles:
    """Sign four releases in a fresh seeded lab instance and break copies of the last bundle.

    `lab_dir` must not hold a labkit instance yet (`InputError` otherwise).
    The same `seed` gives the same bytes on every run and machine.
    """
    folder = Path(lab_dir)
    with Instance.create(folder / "instance", seed=seed) as instance:
        signed = [sign_blob_keyless(instance, data, identity=SAMPLE_IDENTITY) for data in _RELEASES]
        root = instance.trusted_root_json()
        policy = Identity(identity=SAMPLE_IDENTITY, issuer=instance.issuer.url)
    good, other = signed[-1], signed[_OTHER]
    entry = good.verification_material.tlog_entries[0]
    other_entry = other.verification_material.tlog_entries[0]
    proof = entry.inclusion_proof
    content, other_content = good.content, other.content
    if proof is None or len(proof.hashes) < 2 or not isinstance(content, MessageSignature) \
            or not isinstance(other_content, MessageSignature):
        raise InputError("the sample signing did not produce a message-signature bundle with an audit path")

    # RFC 9162 §2.1.3.2: the audit path must lead from the leaf to the root; change one hash of it.
    corrupted = [proof.hashes[0], _flip_last_byte(proof.hashes[1]), *proof.hashes[2:]]
    bad_proof = dataclasses.replace(proof, hashes=corrupted)

    # C2SP signed-note: a verifier ignores signatures from unknown keys and needs one by the log's key.
    note = SignedNote.parse(proof.checkpoint)
    log_sig = note.signatures[0]
    impostor = generate("ecdsa-p256", lab=Lab(seed=seed), label="samples/impostor-log")
    wrong_key = sign_note(note.text, log_sig.name, impostor)
    bad_hint = SignedNote(note.text, (NoteSignature(
        log_sig.name, bytes([log_sig.key_hint[0] ^ 0x01]) + log_sig.key_hint[1:], log_sig.signature),))

    made: list[tuple[str, str, Bundle, str | None]] = [
        ("good", "release 1.0 as signed: certificate, log entry with proof, checkpoint and SET", good, None),
        ("inclusion-proof-corrupted-hash", "one hash of the inclusion proof's audit path is changed",
         _with_entry(good, dataclasses.replace(entry, inclusion_proof=bad_proof)), "tlog.inclusion_proof"),
        ("checkpoint-wrong-key", "the checkpoint is re-signed by a key that is not the log's",
         _with_checkpoint(good, entry, proof, wrong_key), "tlog.checkpoint.signature"),
        ("checkpoint-bad-keyhint", "the log's checkpoint signature carries another key hint",
         _with_checkpoint(good, entry, proof, bad_hint), "tlog.checkpoint.signature"),
        ("message-digest-mismatch", "the bundle's message digest is release 0.9's",
         dataclasses.replace(good, content=dataclasses.replace(content, digest=other_content.digest)),
         "artifact.digest"),
        ("set-from-another-entry", "the inclusion promise (SET) is release 0.9's, from the same log",
         _with_entry(good, dataclasses.replace(entry, inclusion_promise=other_entry.inclusion_promise)),
         "tlog.inclusion_promise"),
        ("signature-mismatch", "the signature is release 0.9's",
         dataclasses.replace(good, content=dataclasses.replace(content, signature=other_content.signature)),
         "signature"),
        ("entry-from-another-signing", "the transparency-log entry is release 0.9's (genuine, complete)",
         _with_entry(good, other_entry), "binding.digest"),
    ]
    cases = {name: SampleCase(name, text, bundle, step) for name, text, bundle, step in made}
    atomic_write(folder / "artifact", SAMPLE_ARTIFACT)
    atomic_write(folder / "trusted_root.json", root)
    for case in cases.values():
        atomic_write(folder / "cases" / case.name / "bundle.sigstore.json", case.bundle_json())
    return SampleBundles(folder, SAMPLE_ARTIFACT, root, policy, MappingProxyType(cases))



def _cases_in(folder: Path) -> Path | None:
    """The bundle-verify folder at or under `folder` (the suite's layout or a copy of it), if any."""
    for candidate in (folder, folder / "bundle-verify", folder / "test" / "assets" / "bundle-verify"):
        if (candidate / "a.txt").is_file() and any(candidate.glob("*/bundle.sigstore.json")):
            return candidate
    return None


def find_conformance_cases(folder: str | os.PathLike[str] | None = None) -> Path | None:
    """The sigstore-conformance ``bundle-verify`` folder, or None when it is not at hand.

    Looks in `folder` if given (an `InputError` if it holds no cases), else in
    ``$LABKIT_CONFORMANCE_DIR``, else in a ``shared/conformance`` folder beside
    the working directory or one of its parents (a development checkout).
    """
    named = folder if folder is not None else os.environ.get(CONFORMANCE_ENV) or None
    if named is not None:
        found = _cases_in(Path(named))
        if found is None:
            raise InputError(
                f"{named} holds no sigstore-conformance bundle-verify cases (a.txt and */bundle.sigstore.json)",
                hint=f"Get them from {CONFORMANCE_SOURCE}.",
            )
        return found
    here = Path.cwd()
    for parent in (here, *here.parents):
        found = _cases_in(parent / "shared" / "conformance")
        if found is not None:
            return found
    return None


def _with_timestamp(bundle: Bundle, stamp: bytes) -> Bundle:
    return dataclasses.replace(
        bundle, verification_material=dataclasses.replace(bundle.verification_material, rfc3161_timestamps=[stamp])
    )


def make_timestamp_bundles(lab_dir: str | os.PathLike[str], seed: str = "labkit-timestamps") -> SampleBundles:
    """Sign the releases keyless with timestamps from the instance's TSA, and break copies of the last timestamp.

    ``good`` verifies; each case of `TIMESTAMP_CASES` fails at ``timestamp.rfc3161``.
    """
    folder = Path(lab_dir)
    with Instance.create(folder / "instance", seed=seed) as instance:
        signed = [sign_blob_keyless(instance, data, identity=SAMPLE_IDENTITY, timestampers=instance.timestampers())
                  for data in _RELEASES]
        root = instance.trusted_root_json()
        policy = Identity(identity=SAMPLE_IDENTITY, issuer=instance.issuer.url)
        lab = Lab(seed=seed)
        stranger = TimestampAuthority.create(lab=Lab(seed=f"{seed}/untrusted-tsa", clock=instance.clock))
        early = TimestampAuthority(instance.tsa.signing_key, instance.tsa.chain, entropy=lab.entropy,
                                   clock=FixedClock(instance.created - _dt.timedelta(days=1)))
        good, other = signed[-1], signed[_OTHER]
        content, other_content = good.content, other.content
        if not isinstance(content, MessageSignature) or not isinstance(other_content, MessageSignature):
            raise InputError("the sample signing did not produce message-signature bundles")
        made: list[tuple[str, str, Bundle, str | None]] = [
            ("good", "release 1.0 with a timestamp from the instance's TSA", good, None),
            (
                "timestamp-untrusted-tsa",
                "the timestamp is from a TSA the trusted root does not list",
                _with_timestamp(good, LocalTimestamper(stranger).timestamp(content.signature)),
                "timestamp.rfc3161",
            ),
            (
                "timestamp-outside-tsa-window",
                "the instance's TSA key stamped a time before the TSA's validity window",
                _with_timestamp(good, LocalTimestamper(early).timestamp(content.signature)),
                "timestamp.rfc3161",
            ),
            (
                "timestamp-over-another-signature",
                "a genuine timestamp from the instance's TSA over release 0.9's signature",
                _with_timestamp(good, LocalTimestamper(instance.tsa).timestamp(other_content.signature)),
                "timestamp.rfc3161",
            ),
        ]
    cases = {name: SampleCase(name, text, bundle, step) for name, text, bundle, step in made}
    atomic_write(folder / "artifact", SAMPLE_ARTIFACT)
    atomic_write(folder / "trusted_root.json", root)
    for case in cases.values():
        atomic_write(folder / "cases" / case.name / "bundle.sigstore.json", case.bundle_json())
    return SampleBundles(folder, SAMPLE_ARTIFACT, root, policy, MappingProxyType(cases))
