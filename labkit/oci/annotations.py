"""Required annotations (``verify -a KEY=VALUE``): one check for every signature format.

Each format signs its annotations in a different place; `check_annotations`
compares the required pairs with whatever map the *verified* payload signs:

- legacy ``.sig`` layer: the simple-signing payload's ``optional`` map
  (cosign ``SimpleClaimVerifier``);
- Sigstore bundle referrer (``sign --new-bundle-format``) and attestation:
  the in-toto statement's subject (ResourceDescriptor) ``annotations`` of the
  subject naming the image, where cosign v3 signs ``-a`` pairs
  (`signed_statement` writes them there, `statement_annotations` reads them).

cosign's attestation claim verifier ignores the annotations it is given;
labkit checks them on attestations too (nothing asked for is skipped).
A value must be the same JSON string; a missing map means no annotations.

    >>> from labkit.checks import CheckResult, Recorder
    >>> res = CheckResult("sig")
    >>> check_annotations(res, {"env": "prod"}, {"env": "staging"}, source="payload optional")
    False
    >>> res.failed_step.id, res.failed_step.actual
    ('payload.annotation.env', 'staging')
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from labkit._internal.jsonio import loads
from labkit.checks import CheckResult, Recorder
from labkit.errors import PayloadError
from labkit.oci.digest import Digest
from labkit.payloads import Statement

__all__ = ["check_annotations", "signed_statement", "statement_annotations"]

_ANNOTATION_SPEC = "cosign verify -a (simple-signing optional; in-toto subject annotations)"

#: The step `check_annotations` records per required pair, ``payload.annotation.<key>``: (title, spec).
ANNOTATION_STEP = ("signed annotation {key} matches ({source})", _ANNOTATION_SPEC)


def check_annotations(res: CheckResult, required: Mapping[str, str], signed: Mapping[str, object] | None, *,
                      source: str) -> bool:
    """Add one step ``payload.annotation.<key>`` per required pair (sorted); stop at the first mismatch."""
    have = signed or {}
    for key in sorted(required):
        value = have.get(key)
        ok = isinstance(value, str) and value == required[key]
        actual = "(absent)" if key not in have else (value if isinstance(value, str) else json.dumps(value))
        step_id = f"payload.annotation.{key}"
        run = Recorder(res, {step_id: ANNOTATION_STEP}, title_args={"key": key, "source": source})
        if not run.record(step_id, ok, expected=required[key], actual=actual):
            return False
    return True


def signed_statement(statement: Statement, annotations: Mapping[str, str] | None) -> bytes:
    """The statement's JSON bytes, every subject carrying `annotations` (unchanged bytes when there are none)."""
    if not annotations:
        return statement.to_json()
    doc = statement.to_dict()
    for subject in doc["subject"]:
        subject["annotations"] = {k: annotations[k] for k in sorted(annotations)}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def statement_annotations(payload: bytes, image: Digest | str) -> dict[str, object] | None:
    """The ``annotations`` of the first statement subject whose digest is `image`; None when it has none."""
    d = image if isinstance(image, Digest) else Digest.parse(image)
    doc = loads(payload, what="in-toto statement", error=PayloadError)
    subjects = doc.get("subject") if isinstance(doc, dict) else None
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict):
            continue
        digest = subject.get("digest")
        if not isinstance(digest, dict) or digest.get(d.algorithm) != d.hex:
            continue
        ann = subject.get("annotations")
        return dict(ann) if isinstance(ann, dict) else None
    return None
