"""`labkit audit`: many bundles against identity rules from a small policy file, on every core.

Policy file (JSON or YAML, read by the caller)::

    trusted_root: trusted_root.json      # optional; default the pinned public-good root
    rules:                               # a bundle passes when ANY rule accepts its signer
      - identity_regexp: "https://github.com/acme/.+"
        issuer: https://token.actions.githubusercontent.com
        repo: acme/app                   # optional gh/cosign GitHub claims (labkit.verify.policy.github_rules)
        deny_self_hosted_runners: true

Inputs are files and directories. A bundle (``*.sigstore.json``, ``*.sigstore``,
``*.attestation``, ``*.provenance``, ``*.bundle``, or a PEP 740 / npm wrapper)
is checked against the file named like it without that suffix; an artifact
with no bundle beside it is *unsigned*. Each bundle is verified by the full
verifier (`explain_bundle`) in a worker process; workers parse the trusted
root once and return one small row per bundle, so memory stays flat in the
number of bundles.
"""

from __future__ import annotations

import gc
import html
import multiprocessing
import os
import queue
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from labkit._internal.jsonio import JSONValue
from labkit.bundle import Bundle
from labkit.errors import InputError, LabkitError
from labkit.payloads import Envelope, Statement
from labkit.verify.policy import Identity, PolicyCheck, certificate_identity, github_rules
from labkit.verify.trustroot import TrustedRoot
from labkit.verify.verifier import Artifact, explain_bundle

__all__ = ["AuditPolicy", "audit", "policy_from_doc"]

_BUNDLE_SUFFIXES = (
    ".sigstore.json",
    ".sigstore",
    ".publish.attestation",
    ".slsa.attestation",
    ".attestation",
    ".provenance",
    ".bundle",
    ".intoto.jsonl",
)
_IDENTITY_KEYS = ("identity", "identity_regexp", "issuer", "issuer_regexp")
_GITHUB_KEYS = ("host", "owner", "repo", "signer_workflow", "signer_repo", "source_ref", "source_digest",
                "deny_self_hosted_runners", "workflow_trigger", "workflow_sha", "workflow_name",
                "workflow_repository", "workflow_ref")


@dataclass(frozen=True)
class AnyOf:
    """Identity policies: the certificate passes if one of them accepts it (first mismatch reported otherwise)."""

    rules: tuple[Identity, ...]

    def describe(self) -> str:
        return " OR ".join(r.describe() for r in self.rules)

    def check(self, cert: x509.Certificate) -> PolicyCheck:
        first: PolicyCheck | None = None
        identity = certificate_identity(cert)  # read once for every rule (each rule's check would read it again)
        for rule in self.rules:
            out = rule.check_identity(cert, identity)
            if out.ok:
                return out
            first = first or out
        assert first is not None
        return first


@dataclass(frozen=True)
class AuditPolicy:
    """The rules and the trusted root JSON (None: the pinned public-good root)."""

    rules: AnyOf
    trusted_root: bytes | None = None


def policy_from_doc(doc: JSONValue, base: Path = Path(".")) -> AuditPolicy:
    """Build the policy from a parsed policy file; `InputError` naming the bad rule or key."""
    if not isinstance(doc, Mapping):
        raise InputError("the audit policy must be an object with `rules` (and optionally `trusted_root`)")
    unknown = set(doc) - {"rules", "trusted_root"}
    if unknown:
        raise InputError(f"unknown audit policy key(s): {', '.join(sorted(unknown))}")
    rules_doc = doc.get("rules")
    if not isinstance(rules_doc, list) or not rules_doc:
        raise InputError("the audit policy needs a non-empty `rules` list")
    rules = []
    for i, rule in enumerate(rules_doc):
        if not isinstance(rule, Mapping):
            raise InputError(f"rules[{i}] is not an object")
        bad = set(rule) - set(_IDENTITY_KEYS) - set(_GITHUB_KEYS)
        if bad:
            raise InputError(f"rules[{i}] has unknown key(s): {', '.join(sorted(bad))}")
        fields: Mapping[str, Any] = rule  # values unchecked here: the constructors refuse wrong types (TypeError)
        try:
            ext = github_rules(**{k: fields[k] for k in _GITHUB_KEYS if k in fields})
            rules.append(Identity(**{k: fields.get(k) for k in _IDENTITY_KEYS}, extensions=ext))
        except (InputError, TypeError) as exc:
            raise InputError(f"rules[{i}]: {getattr(exc, 'message', exc)}") from None
    root = None
    if doc.get("trusted_root"):
        path = Path(str(doc["trusted_root"]))
        root = (path if path.is_absolute() else base / path).read_bytes()
        TrustedRoot.from_json(root)  # refuse a malformed root before any worker starts
    return AuditPolicy(AnyOf(tuple(rules)), root)


@dataclass(frozen=True)
class AuditRow:
    """One input's outcome: ``verified``, ``failed`` (with the reason code) or ``unsigned``."""

    path: str
    status: str
    reason: str = ""
    signer: str = ""


def _strip_suffix(path: str) -> str | None:
    """The artifact path of a bundle path (its name without the bundle suffix), or None: not a bundle name."""
    name = os.path.basename(path)
    if not name.endswith(_BUNDLE_SUFFIXES):  # most files that are no bundle: one test for all the suffixes
        return None
    for suffix in _BUNDLE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return path[: -len(suffix)]
    return None


def _walk(root: str) -> Iterator[str]:
    """Files under `root`, streamed (os.scandir, depth first): nothing is listed whole in memory."""
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file():
                    yield entry.path


def _inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, str, str | None]]:
    """`find_inputs` as path strings (what the workers are sent): no `Path` object per file."""
    for given in paths:
        root = str(Path(given))  # normalised once; names below it are joined as Path would
        for p in (_walk(root) if os.path.isdir(root) else iter([root])):
            artifact = _strip_suffix(p)
            if artifact is not None:
                yield "bundle", p, artifact if os.path.isfile(artifact) else None
            elif not any(os.path.isfile(p + suffix) for suffix in _BUNDLE_SUFFIXES):
                yield "unsigned", p, None


def find_inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, Path, Path | None]]:
    """("bundle", bundle, artifact or None) and ("unsigned", artifact, None), streamed.

    A file is an artifact of a bundle when the bundle's name is its name plus a bundle suffix; both sides are
    decided by looking the other name up on disk, so memory does not grow with the number of files.
    """
    for kind, p, a in _inputs(paths):
        yield kind, Path(p), None if a is None else Path(a)


# -- the worker ---------------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init(policy: AuditPolicy) -> None:
    """Parse the trusted root once per process (a forked worker inherits the parent's: nothing to do)."""
    if _WORKER.get("source") is policy:
        return
    root = TrustedRoot.from_json(policy.trusted_root) if policy.trusted_root else TrustedRoot.production()
    _WORKER.update(root=root, policy=policy.rules, source=policy)


def _worker_init(policy: AuditPolicy) -> None:
    """A pool worker: the trusted root (inherited or parsed), then everything alive so far leaves the collector's
    generations, so its collections scan only per-bundle objects (and do not copy the forked parent's pages)."""
    _init(policy)
    gc.freeze()


def _subject_digest(data: bytes) -> Artifact | None:
    try:
        content = Bundle.from_json(data).content
        if isinstance(content, Envelope):
            for s in Statement.from_json(content.payload).subjects:
                if "sha256" in s.digest:
                    return Artifact.from_digest("sha256:" + s.digest["sha256"].lower())
    except LabkitError:
        return None
    return None


def _check(item: tuple[str, str, str | None]) -> AuditRow:
    kind, path, artifact_path = item
    if kind == "unsigned":
        return AuditRow(path, "unsigned", "no bundle")
    try:
        with open(path, "rb", buffering=0) as fh:  # Path(path).read_bytes() without the Path and the buffer
            data = fh.read()
    except OSError as exc:
        return AuditRow(path, "failed", f"input.unreadable ({exc.strerror})")
    artifact: Any
    if artifact_path is not None:
        artifact = Path(artifact_path)
    else:
        artifact = _subject_digest(data)  # an attestation alone: its statement's subject
        if artifact is None:
            return AuditRow(path, "failed", "artifact.missing")
    result = explain_bundle(data, artifact, _WORKER["root"], _WORKER["policy"])
    if result.verified:
        return AuditRow(path, "verified", "", result.signer or "")
    return AuditRow(path, "failed", result.reason)


def _check_counted(item: tuple[str, str, str | None]) -> tuple[str, str]:
    """A worker's answer when only counts are kept: (status, reason), a few bytes to pickle."""
    row = _check(item)
    return row.status, row.reason


def _check_row(item: tuple[str, str, str | None]) -> tuple[str, str, str, str]:
    """A worker's answer when rows are kept: the row's fields as a plain tuple (cheaper to pickle than the row)."""
    row = _check(item)
    return row.path, row.status, row.reason, row.signer


@dataclass
class AuditSummary:
    """Counts (verified, failed by reason, unsigned) and, optionally, every row."""

    total: int = 0
    verified: int = 0
    unsigned: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    rows: list[AuditRow] = field(default_factory=list)

    def add(self, row: AuditRow, keep: bool) -> None:
        """Count one audited row (kept in `rows` when `keep`)."""
        self.count(row.status, row.reason)
        if keep:
            self.rows.append(row)

    def count(self, status: str, reason: str) -> None:
        """Count one outcome without keeping a row."""
        self.total += 1
        if status == "verified":
            self.verified += 1
        elif status == "unsigned":
            self.unsigned += 1
        else:
            self.failed[reason] += 1

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data, rows sorted by path."""
        return {"total": self.total, "verified": self.verified, "unsigned": self.unsigned,
                "failed": dict(sorted(self.failed.items())), "failed_total": sum(self.failed.values()),
                "rows": [asdict(r) for r in sorted(self.rows, key=lambda r: r.path)]}

    def text(self) -> str:
        """The summary as plain text."""
        lines = [f"{self.total} input(s): {self.verified} verified, {sum(self.failed.values())} failed, "
                 f"{self.unsigned} unsigned"]
        for reason, n in sorted(self.failed.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  failed {n:>6}  {reason}")
        for r in sorted(self.rows, key=lambda r: r.path):
            if r.status != "verified":
                lines.append(f"  {r.status:8} {r.path} {r.reason}")
        return "\n".join(lines)

    def html(self) -> str:
        """The summary as a deterministic HTML table."""
        rows = "".join(
            f"<tr><td>failed: {html.escape(k)}</td><td>{v}</td></tr>" for k, v in sorted(self.failed.items())
        )
        detail = "".join(f"<tr><td>{html.escape(r.path)}</td><td>{html.escape(r.status)}</td>"
                         f"<td>{html.escape(r.reason)}</td><td>{html.escape(r.signer)}</td></tr>"
                         for r in sorted(self.rows, key=lambda r: r.path))
        return ("<!doctype html><meta charset=utf-8><title>labkit audit</title><h1>labkit audit</h1>"
                f"<table><tr><td>total</td><td>{self.total}</td></tr><tr><td>verified</td><td>{self.verified}</td></tr>"
                f"<tr><td>unsigned</td><td>{self.unsigned}</td></tr>{rows}</table>"
                + (f"<h2>inputs</h2><table><tr><th>path</th><th>status</th><th>reason</th><th>signer</th></tr>{detail}"
                   "</table>" if detail else ""))


def audit(paths: Iterable[str | os.PathLike[str]], policy: AuditPolicy, *, jobs: int | None = None,
          keep_rows: bool = True, progress: Callable[[int], None] | None = None,
          chunksize: int = 16) -> AuditSummary:
    """Verify every bundle found under `paths` with `jobs` processes (default: every core)."""
    items = _inputs(paths)
    summary = AuditSummary()
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1:
        _init(policy)
        results: Iterable[AuditRow] = map(_check, items)
        for row in results:
            summary.add(row, keep_rows)
            if progress:
                progress(summary.total)
        return summary
    fork = hasattr(os, "fork")
    if fork:
        _init(policy)  # parsed once in the parent; the forked workers share it (their _init returns at once)
    ctx = multiprocessing.get_context("fork" if fork else "spawn")
    # One continuous, bounded feed: the pool's feeder thread draws inputs through `_Feed`, which holds it once
    # `window` inputs are in flight, and every row received frees a slot (Pool.imap alone would queue every input
    # up front; fixed windows left a worker idle at each window's end). Each task is a batch of `chunksize`
    # inputs; rows come back in any order (the summary sorts what it prints).
    feed = _Feed(items, max(_WINDOW, 2 * jobs * chunksize))
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(policy,)) as pool:
        try:
            if keep_rows:
                for fields in pool.imap_unordered(_check_row, feed, chunksize=chunksize):
                    feed.done_one()
                    summary.add(AuditRow(*fields), True)
                    if progress:
                        progress(summary.total)
            else:
                for status, reason in pool.imap_unordered(_check_counted, feed, chunksize=chunksize):
                    feed.done_one()
                    summary.count(status, reason)
                    if progress:
                        progress(summary.total)
        finally:
            feed.close()  # never leave the feeder thread waiting for a slot (Pool.terminate joins it)
    return summary


#: Inputs in flight at once (bounds the parent's memory whatever the number of bundles).
_WINDOW = 2048


class _Feed:
    """The inputs, drawn by the pool's feeder thread at most `window` ahead of the rows received."""

    def __init__(self, items: Iterator[tuple[str, str, str | None]], window: int) -> None:
        self._items = items
        self._window = window
        # A counting semaphore of `window` slots as a queue of tokens: `get` and `put` run in C, where
        # `threading.Semaphore` runs a Python condition variable for each input and each row.
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(window):
            self._slots.put(None)
        self._closed = False

    def __iter__(self) -> Iterator[tuple[str, str, str | None]]:
        for item in self._items:
            self._slots.get()
            if self._closed:
                return
            yield item

    def done_one(self) -> None:
        """One row came back: one more input may go out."""
        self._slots.put(None)

    def close(self) -> None:
        """Stop feeding and wake the feeder if it waits for a slot."""
        self._closed = True
        for _ in range(self._window):
            self._slots.put(None)

