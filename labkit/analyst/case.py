"""An analyst's case file: inputs as given (any may be missing or broken), the verdict, and the story it tells.

Notebook 12 is a thin shell over this module. Nothing here raises on bad input:
a file that cannot be read, a bundle that does not parse or an artifact left
empty becomes a note and a red row of the checklist (`explain_bundle` never
raises). Every text is generated from the input, so the prose under someone
else's bundle tells their story, not the lab's.

* `read_case` / `analyse`: the inputs and the verifier's checklist;
* `signer_rows`: who signed, as the certificate (or key hint) claims it (`labkit.analyst.inspect`);
* `entry_rows`: each log entry against the bundle, through the verifier's own decoder
  (`labkit.verify.binding.bind_entry`, every kind and version it verifies);
* `narrative`, `log_lookup`: the prose.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.analyst.inspect import BundleReport, inspect_document
from labkit.bundle import Bundle, MessageSignature
from labkit.errors import InputError, LabkitError
from labkit.keys import load_public_key
from labkit.tlog.entries import LogEntry
from labkit.verify.binding import SUPPORTED_KINDS, bind_entry
from labkit.verify.policy import Identity
from labkit.verify.steps import VerificationResult
from labkit.verify.trustroot import TrustedRoot
from labkit.verify.verifier import REASONS, STEPS, Artifact, explain_bundle

__all__ = [
    "analyse", "entry_rows", "entry_story", "inspect_command", "log_lookup", "narrative", "read_case", "signer_rows",
    "verify_command", "whose_entry",
]

#: A file the analyst names: a path as text or a path object (None or "": not given).
PathInput = str | os.PathLike[str]

_HASHES = {"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}


@dataclass
class Case:
    """What the analyst was handed, read without judging, and what the verifier made of it."""

    bundle: bytes = b""
    bundle_name: str = "(no bundle)"
    trusted_root: bytes | None = None
    artifact: Artifact | None = None
    artifact_name: str = "(no artifact)"
    policy: Identity | None = None
    key: bytes | None = None
    notes: list[str] = field(default_factory=list)
    result: VerificationResult | None = None
    reports: list[BundleReport] = field(default_factory=list)
    parsed: Bundle | None = None


def _read(path: PathInput | None, what: str, notes: list[str]) -> bytes | None:
    if path is None or path == "":
        return None
    try:
        return Path(os.fspath(path)).read_bytes()
    except (OSError, TypeError, ValueError) as exc:
        notes.append(f"{what} {path!s} could not be read: {exc}")
        return None


def _artifact(value: PathInput | None, notes: list[str]) -> tuple[Artifact | None, str]:
    if value is None or value == "":
        notes.append("no artifact was given: the checklist stops at artifact.digest; set ARTIFACT to the file or "
                     "its sha256:<hex> digest")
        return None, "(no artifact)"
    if isinstance(value, str) and value.lower().startswith("sha256:"):
        try:
            return Artifact.from_digest(value), value
        except LabkitError as exc:
            notes.append(f"ARTIFACT is not a digest: {exc.message}")
            return None, value
    data = _read(value, "the artifact", notes)
    return (None if data is None else Artifact.from_bytes(data)), Path(os.fspath(value)).name


def read_case(bundle: PathInput | None = None, trusted_root: PathInput | None = None,
              artifact: PathInput | None = None, identity: str | None = None,
              issuer: str | None = None, key: PathInput | None = None) -> Case:
    """Read the inputs (paths, or None); what is missing or unreadable becomes a note, never an exception."""
    case = Case()
    data = _read(bundle, "the bundle", case.notes)
    if data is None and bundle is None:
        case.notes.append("no bundle was given: set BUNDLE to a .sigstore.json, PEP 740 attestation or npm response")
    if data is not None and bundle is not None:
        case.bundle, case.bundle_name = data, Path(os.fspath(bundle)).name
    case.trusted_root = _read(trusted_root, "the trusted root", case.notes)
    if trusted_root is None:
        case.notes.append("no trusted root was given: labkit's pinned public-good Sigstore root is used")
    case.artifact, case.artifact_name = _artifact(artifact, case.notes)
    case.key = _read(key, "the key", case.notes)
    if identity or issuer:
        try:
            case.policy = Identity(identity=identity or None, issuer=issuer or None)
        except InputError as exc:
            case.notes.append(f"the expected signer is incomplete ({exc.message}): give both IDENTITY and ISSUER")
    return case


def _file_name(path: PathInput | None, placeholder: str) -> str:
    """A path's file name (a command line never shows the analyst's folders); `placeholder` when absent."""
    if path is None or path == "":
        return placeholder
    text = os.fspath(path)
    return text if text.startswith("sha256:") else Path(text).name


def inspect_command(bundle: PathInput | None) -> str:
    """The `labkit bundle inspect` command for this bundle (file name only)."""
    return shlex.join(["labkit", "bundle", "inspect", _file_name(bundle, "BUNDLE")])


def verify_command(bundle: PathInput | None, trusted_root: PathInput | None, artifact: PathInput | None,
                   identity: str | None, issuer: str | None, key: PathInput | None) -> str:
    """The `labkit -v verify-bundle` command that prints this case's checklist: the inputs as given, by file name."""
    words = ["labkit", "-v", "verify-bundle", "--bundle", _file_name(bundle, "BUNDLE")]
    if trusted_root:
        words += ["--trusted-root", _file_name(trusted_root, "")]
    if key:
        words += ["--key", _file_name(key, "")]
    if identity:
        words += ["--certificate-identity", identity]
    if issuer:
        words += ["--certificate-oidc-issuer", issuer]
    return shlex.join([*words, _file_name(artifact, "ARTIFACT")])


def analyse(case: Case) -> Case:
    """Run the verifier's checklist and decode the bundle's claims; never raises."""
    artifact: Any = case.artifact  # None: the checklist fails at artifact.digest, naming what is missing
    case.result = explain_bundle(case.bundle, artifact, case.trusted_root, case.policy, case.key)
    try:
        case.reports = inspect_document(case.bundle)
        case.parsed = Bundle.from_json(case.bundle)
    except LabkitError as exc:
        case.reports, case.parsed = [], None
        case.notes.append(f"the bundle cannot be decoded: {exc.message}")
    return case


def signer_rows(case: Case) -> list[tuple[str, str]]:
    """"Who signed this": the claims of the signing certificate (or key), marked verified only if they were."""
    if not case.reports:
        return [("signer", "unknown: the bundle does not parse")]
    report = case.reports[0]
    verified = case.result is not None and case.result.verified
    rows = [("verdict", "VERIFIED: these claims were checked" if verified else
             "NOT VERIFIED: these are the bundle's claims only"), ("signed with", report.material)]
    if not report.certificates:
        return [*rows, ("key hint", report.key_hint or "(empty)")]
    leaf = report.certificates[0]
    if leaf.error:
        return [*rows, ("certificate", f"does not parse: {leaf.error}")]
    rows += [("identity (SAN)", ", ".join(leaf.san) or "(none)"), ("OIDC issuer", leaf.oidc_issuer or "(none)"),
             ("certificate valid", f"{leaf.not_before} .. {leaf.not_after}")]
    for name in ("source_repository_uri", "source_repository_ref", "build_signer_uri", "build_trigger",
                 "runner_environment", "run_invocation_uri"):
        if name in leaf.extensions:
            rows.append((name.replace("_", " "), leaf.extensions[name]))
    return rows


def _signer_der(case: Case, bundle: Bundle) -> bytes | None:
    der = bundle.verification_material.leaf_certificate
    if der is not None:
        return der
    if case.key is not None:
        try:
            return load_public_key(case.key).der()
        except LabkitError:
            return None
    return None


def _artifact_digest(case: Case, bundle: Bundle) -> tuple[str, bytes]:
    content = bundle.content
    if isinstance(content, MessageSignature):
        name = _HASHES.get(content.algorithm, "sha256")
        mine = case.artifact.digest(name) if case.artifact is not None else None
        return name, mine if mine is not None else content.digest
    return "sha256", case.artifact.sha256 if case.artifact is not None else b""


def entry_rows(case: Case) -> list[dict[str, str]]:
    """Each log entry against the bundle, field by field, through the verifier's binding decoder."""
    bundle = case.parsed
    if bundle is None:
        return []
    signer = _signer_der(case, bundle)
    rows: list[dict[str, str]] = []
    for i, entry in enumerate(bundle.verification_material.tlog_entries):
        where = f"[{i}] {entry.kind} {entry.version}"
        if (entry.kind, entry.version) not in SUPPORTED_KINDS:
            rows.append({"entry": where, "field": "(kind)", "log entry records": f"{entry.kind} {entry.version}",
                         "bundle says": "a supported kind", "match": "NO"})
            continue
        binding = bind_entry(entry.kind, entry.version, entry.canonicalized_body,
                             artifact_digest=_artifact_digest(case, bundle), signer_der=signer or b"",
                             content=bundle.content)
        if binding.error:
            rows.append({"entry": where, "field": "(body)", "log entry records": binding.error,
                         "bundle says": "", "match": "NO"})
            continue
        for f in (binding.digest, binding.key, binding.signature):
            if f is None:
                continue
            unknown = f is binding.key and signer is None
            rows.append({"entry": where, "field": f.name, "log entry records": f.actual,
                         "bundle says": "(no key given: set KEY)" if unknown else f.expected,
                         "match": "?" if unknown else ("yes" if f.matches else "NO")})
    return rows


def _reason_text(reason: str) -> str:
    return REASONS.get(reason, ("", reason))[1]


def narrative(case: Case) -> str:
    """Markdown: what the verifier found for *this* input, in words."""
    r = case.result
    if r is None:
        return "Not analysed yet: call `analyse(case)`."
    parts = [f"**{case.bundle_name}** checked against **{case.artifact_name}**"]
    if r.verified:
        who = r.signer or "the given key"
        parts.append(f"verifies: every check passed, signed by **{who}**.")
        if r.verified_times:
            parts.append(f"Verified signing time: {', '.join(r.verified_times)}.")
        return " ".join(parts)
    step = r.failed_step
    if step is None:
        return " ".join(parts) + " did not finish verifying, so it is rejected."
    title = STEPS.get(step.id, (step.title, ""))[0]
    passed = [s.id for s in r.steps if s.passed]
    parts.append(f"is **rejected at `{step.id}`**: the check *{title}* failed, because "
                 f"{_reason_text(step.reason_code)} (reason `{step.reason_code}`).")
    if step.detail:
        parts.append(f"The verifier says: *{step.detail}*.")
    if step.expected or step.actual:
        parts.append(f"It expected `{step.expected}` and found `{step.actual}`.")
    if passed:
        parts.append(f"Before that, {len(passed)} check(s) passed (last: `{passed[-1]}`), so what they cover is "
                     "not the problem.")
    if case.notes:
        parts.append("Notes on the input: " + "; ".join(case.notes) + ".")
    return " ".join(parts)


def log_lookup(case: Case) -> str:
    """Markdown: where each entry lives in its log and how to fetch it, from the entry's own index."""
    bundle = case.parsed
    if bundle is None or not bundle.verification_material.tlog_entries:
        return "The bundle carries no log entry to look up."
    try:
        root = TrustedRoot.from_json(case.trusted_root) if case.trusted_root else TrustedRoot.production()
        logs = {t.log_id: t for t in root.tlogs}
        logs.update({t.checkpoint_key_id: t for t in root.tlogs if t.checkpoint_key_id})
    except LabkitError:
        logs = {}
    lines = []
    for i, e in enumerate(bundle.verification_material.tlog_entries):
        log = logs.get(e.log_id)
        url = log.base_url if log is not None else "(a log the trusted root does not list)"
        if e.kind == "hashedrekord" and e.version == "0.0.2" or (e.integrated_time in (None, 0) and
                                                                  e.inclusion_promise is None):
            n = e.log_index
            groups = _groups(n // 256)
            tile = "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])
            lines.append(f"* Entry {i} is index **{n}** of the Rekor v2 log {url}. Rekor v2 has no lookup API: the "
                         f"entry sits in entry bundle `{url}/api/v2/tile/entries/{tile}` (index {n} // 256 "
                         f"= {n // 256}, position {n % 256}), and its proof is recomputed from the tiles under the "
                         "checkpoint the bundle carries.")
        else:
            proof = e.inclusion_proof
            shard = (f"; inside the current shard it is index {proof.log_index} of a tree of {proof.tree_size}"
                     if proof is not None else "")
            lines.append(f"* Entry {i} is global index **{e.log_index}** of the Rekor v1 log {url}{shard}. Fetch it "
                         f"with `GET {url}/api/v1/log/entries?logIndex={e.log_index}` and compare its body with the "
                         "bundle's `canonicalizedBody`.")
    return "\n".join(lines)


def _groups(n: int) -> list[str]:
    """C2SP tlog-tiles path groups of a tile index: x001/x234/067 for 1234067 (last group unprefixed)."""
    digits = f"{n:d}"
    pad = (-len(digits)) % 3
    digits = "0" * pad + digits
    return [digits[i:i + 3] for i in range(0, len(digits), 3)]


def entry_story(case: Case) -> str:
    """Markdown: what the entry-against-bundle comparison shows, for this input."""
    rows = entry_rows(case)
    if not rows:
        return "There is no log entry to compare (or the bundle does not parse)."
    bad = [r for r in rows if r["match"] == "NO"]
    unknown = [r for r in rows if r["match"] == "?"]
    if not bad:
        extra = f" ({len(unknown)} field(s) could not be compared: {unknown[0]['bundle says']})" if unknown else ""
        return (f"Every compared field of the log entry ({len(rows)}) is the bundle's: the entry records this "
                f"signing event{extra}.")
    fields = ", ".join(f"`{r['field']}`" for r in bad)
    return (f"The log entry disagrees with the bundle on {fields}: it records another signing event (or the "
            "bundle was altered). A genuine entry proves nothing about a signature it does not record "
            "(GHSA-whqx-f9j3-ch6m).")


def whose_entry(case: Case, log_entries: Iterable[LogEntry]) -> tuple[list[tuple[int, str, str]], str]:
    """Search a labkit log (its `entries()`) for the bundle's entry and for this artifact: rows and one sentence."""
    bundle = case.parsed
    if bundle is None or not bundle.verification_material.tlog_entries:
        return [], "The bundle carries no log entry to look for."
    given = bundle.verification_material.tlog_entries[0]
    mine = f"sha256:{case.artifact.sha256.hex()}" if case.artifact is not None else None
    rows, own = [], []
    for entry in log_entries:
        digest = entry.parsed.artifact_digest or ""
        note = []
        if entry.body == given.canonicalized_body:
            note.append("the bundle's entry")
        if mine is not None and digest == mine:
            note.append("records this artifact")
            own.append(entry.log_index)
        rows.append((entry.log_index, digest, ", ".join(note)))
    if not own:
        sentence = f"The bundle points at entry {given.log_index}; no entry of this log records the artifact."
    elif given.log_index in own:
        sentence = f"The bundle's entry {given.log_index} is the one that records this artifact."
    else:
        sentence = (f"The bundle points at entry {given.log_index}, but this artifact's signing is entry "
                    f"{', '.join(map(str, own))}: the bundle was put together from another signing run.")
    return rows, sentence
