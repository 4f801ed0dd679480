"""Admission policies read from the YAML people already write.

Two formats are understood:

* Sigstore policy-controller ``ClusterImagePolicy`` (``policy.sigstore.dev/v1beta1``
  and ``v1alpha1``): ``spec.images[].glob``, ``spec.mode``, and
  ``spec.authorities[]`` with ``key`` (inline ``data``) or ``keyless``
  (``identities[]`` of ``issuer``/``subject`` and their ``RegExp`` forms), ``static``
  and ``attestations[]`` (``name``, ``predicateType``). Semantics from the
  policy-controller docs: every matching policy must pass (AND); inside a
  policy at least one authority must pass (OR); an authority with
  ``attestations`` is satisfied by attestations (all listed ones), otherwise
  by a signature.
* Kyverno ``ClusterPolicy``/``Policy`` (``kyverno.io/v1``/``v2beta1``) rules with
  ``verifyImages[]``: ``imageReferences``, ``attestors[]`` (``count``, ``entries[]`` with
  ``keys.publicKeys`` or ``keyless``), ``attestations[]`` (``type``/``predicateType``,
  ``attestors``, ``conditions`` with ``all``/``any``). Every attestor set must pass;
  inside a set, ``count`` entries (default: all).

Anything else is refused with `PolicyError` naming the field: labkit never
allows an image because it skipped a rule it did not understand. Attestation
policies of ``type: cue`` are evaluated in the subset `labkit.policy.cue`
understands; Rego and remote policies are refused. The predicate's
registered type policy always runs as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from labkit._internal.jsonio import JSONValue
from labkit.attest.predicates import resolve_predicate_type
from labkit.errors import LabkitError, PolicyError
from labkit.keys import VerifyingKey, load_public_key
from labkit.policy.cue import CuePolicy, compile_cue
from labkit.policy.glob import kyverno_match, sigstore_glob_match, sigstore_glob_regex

__all__ = []

CIP_API_VERSIONS = ("policy.sigstore.dev/v1beta1", "policy.sigstore.dev/v1alpha1")
KYVERNO_API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1", "kyverno.io/v2")

_KYVERNO_OPERATORS = (
    "Equals", "NotEquals", "In", "NotIn", "AnyIn", "AllIn", "AnyNotIn", "AllNotIn",
    "GreaterThan", "GreaterThanOrEquals", "LessThan", "LessThanOrEquals",
)
_JMES_PATH_RE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_\-]*(?:\.(?:[A-Za-z_][A-Za-z0-9_\-]*|\"[^\"]+\"))*)\s*\}\}$")


@dataclass(frozen=True)
class KeylessIdentity:
    """An accepted signer identity: exact issuer/subject or Go-style (unanchored) regexps.

    ``subject_glob`` is Kyverno's wildcard subject (``*@example.com``).
    """

    issuer: str | None = None
    subject: str | None = None
    issuer_regexp: str | None = None
    subject_regexp: str | None = None
    subject_glob: str | None = None

    def matches(self, issuer: str | None, subject: str | None) -> bool:
        """Does a certificate's (issuer, subject) satisfy this identity?"""
        if issuer is None or subject is None:
            return False
        # policy-controller / cosign compile with Go's regexp and call MatchString, which is
        # unanchored: write ^...$ in the policy to pin the whole value.
        if self.issuer is not None and issuer != self.issuer:
            return False
        if self.issuer_regexp is not None and not re.search(self.issuer_regexp, issuer):
            return False
        if self.subject is not None and subject != self.subject:
            return False
        if self.subject_regexp is not None and not re.search(self.subject_regexp, subject):
            return False
        return self.subject_glob is None or kyverno_match(self.subject_glob, subject)

    def describe(self) -> str:
        """A short human form, e.g. ``alice@example.com via https://issuer``."""
        subj = self.subject or self.subject_glob or (f"/{self.subject_regexp}/" if self.subject_regexp else "*")
        iss = self.issuer or (f"/{self.issuer_regexp}/" if self.issuer_regexp else "*")
        return f"{subj} via {iss}"


@dataclass(frozen=True)
class Condition:
    """A Kyverno condition over the predicate: ``key`` is a dotted path, compared with ``operator``."""

    path: tuple[str, ...]
    operator: str
    value: Any

    def describe(self) -> str:
        """``builder.id Equals https://...``."""
        return f"{'.'.join(self.path)} {self.operator} {self.value!r}"


@dataclass(frozen=True)
class ConditionBlock:
    """``all`` conditions must hold and, if any are given, at least one of ``any``."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class AttestationRequirement:
    """An attestation an authority must have produced: its predicate type, conditions, CUE policy."""

    name: str
    predicate_type: str
    conditions: tuple[ConditionBlock, ...] = ()
    cue: CuePolicy | None = None


@dataclass(frozen=True)
class Authority:
    """Who must have signed: keys, keyless identities, or a static pass/fail."""

    name: str
    keys: tuple[VerifyingKey, ...] = ()
    identities: tuple[KeylessIdentity, ...] = ()
    static: str | None = None
    attestations: tuple[AttestationRequirement, ...] = ()

    def describe(self) -> str:
        """Short text naming the authority."""
        if self.static:
            return f"{self.name} (static {self.static})"
        if self.keys:
            return f"{self.name} (key)"
        return f"{self.name} (keyless: {', '.join(i.describe() for i in self.identities)})"


@dataclass(frozen=True)
class AuthorityGroup:
    """At least `required` of `authorities` must be satisfied."""

    authorities: tuple[Authority, ...]
    required: int = 1
    label: str = ""


@dataclass(frozen=True)
class Policy:
    """One policy (a ClusterImagePolicy, or one Kyverno ``verifyImages`` entry).

    The image matches if any pattern matches; then every group must be satisfied.
    """

    name: str
    kind: str
    patterns: tuple[str, ...]
    groups: tuple[AuthorityGroup, ...]
    mode: str = "enforce"
    source: str = field(default="", compare=False)

    def matches(self, image: str) -> bool:
        """Does this policy apply to `image`?"""
        if self.kind == "ClusterImagePolicy":
            return any(sigstore_glob_match(g, image) for g in self.patterns)
        return any(kyverno_match(p, image) for p in self.patterns)


# --- parsing helpers -----------------------------------------------------------------------------

def _where(path: str) -> str:
    return path or "(document)"


def _mapping(value: JSONValue, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{_where(path)} must be a mapping, got {type(value).__name__}")
    return value


def _list(value: JSONValue, path: str, *, allow_empty: bool = False) -> list[Any]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise PolicyError(f"{_where(path)} must be a non-empty list")
    return value


def _string(value: JSONValue, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{_where(path)} must be a non-empty string")
    return value


def _known(doc: Mapping[str, Any], path: str, allowed: Sequence[str], refused: Mapping[str, str] = {}) -> None:
    for k in doc:
        if k in refused:
            raise PolicyError(f"{path}.{k} is not supported: {refused[k]}", details={"field": f"{path}.{k}"})
        if k not in allowed:
            raise PolicyError(
                f"unknown field {path}.{k}",
                hint=f"labkit understands {', '.join(allowed)} here and refuses anything else rather than ignore it.",
                details={"field": f"{path}.{k}"},
            )


def _regexp(value: JSONValue, path: str) -> str:
    text = _string(value, path)
    try:
        re.compile(text)
    except re.error as exc:
        raise PolicyError(f"{path} is not a valid regular expression: {exc}") from None
    return text


def _public_keys(text: JSONValue, path: str) -> tuple[VerifyingKey, ...]:
    data = _string(text, path)
    blocks = re.findall(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", data, re.DOTALL)
    if not blocks:
        raise PolicyError(f"{path} holds no PEM public key", hint="Paste the contents of cosign.pub.")
    keys = []
    for b in blocks:
        try:
            keys.append(load_public_key(b.encode()))
        except LabkitError as exc:
            raise PolicyError(f"{path}: {exc.message}") from None
    return tuple(keys)


def _predicate_type_uri(value: JSONValue, path: str) -> str:
    name = _string(value, path)
    try:
        return resolve_predicate_type(name).uri
    except LabkitError as exc:
        raise PolicyError(f"{path}: {exc.message}") from None


_REFUSED_POLICY = "labkit has no Rego engine and evaluates only a CUE subset (policy.type: cue with inline data)"


def _attestation_policy(doc: JSONValue, path: str) -> CuePolicy:
    m = _mapping(doc, path)
    _known(
        m,
        path,
        ("type", "data"),
        {
            "url": "policies fetched from a URL are not supported; put the CUE inline under data",
            "configMapRef": "ConfigMap policies are not reachable; put the CUE inline under data",
            "remote": "remote policies are not supported; put the CUE inline under data",
            "includeSpec": "includeSpec is not supported",
            "includeObjectMeta": "includeObjectMeta is not supported",
            "includeTypeMeta": "includeTypeMeta is not supported",
            "fetchConfigFile": "fetchConfigFile is not supported",
        },
    )
    kind = m.get("type")
    if kind != "cue":
        raise PolicyError(f"{path}.type {kind!r} is not supported: " + _REFUSED_POLICY,
                          details={"field": f"{path}.type"})
    try:
        return compile_cue(_string(m.get("data"), f"{path}.data"))
    except PolicyError as exc:
        raise PolicyError(f"{path}.data: {exc.message}", hint=exc.hint) from None


# --- ClusterImagePolicy --------------------------------------------------------------------------

def _cip_identities(doc: Mapping[str, Any], path: str) -> tuple[KeylessIdentity, ...]:
    _known(doc, path, ("url", "identities", "ca-cert", "trustRootRef", "insecureIgnoreSCT"),
           {"ca-cert": "custom CA certificates are not supported; use the lab instance's trusted root"})
    if doc.get("insecureIgnoreSCT"):
        raise PolicyError(f"{path}.insecureIgnoreSCT weakens verification and is not supported")
    ids = []
    for i, item in enumerate(_list(doc.get("identities"), f"{path}.identities")):
        p = f"{path}.identities[{i}]"
        m = _mapping(item, p)
        _known(m, p, ("issuer", "subject", "issuerRegExp", "subjectRegExp"))
        if not (("issuer" in m) ^ ("issuerRegExp" in m)) or not (("subject" in m) ^ ("subjectRegExp" in m)):
            raise PolicyError(f"{p} needs exactly one of issuer/issuerRegExp and one of subject/subjectRegExp")
        ids.append(KeylessIdentity(
            issuer=_string(m["issuer"], f"{p}.issuer") if "issuer" in m else None,
            subject=_string(m["subject"], f"{p}.subject") if "subject" in m else None,
            issuer_regexp=_regexp(m["issuerRegExp"], f"{p}.issuerRegExp") if "issuerRegExp" in m else None,
            subject_regexp=_regexp(m["subjectRegExp"], f"{p}.subjectRegExp") if "subjectRegExp" in m else None,
        ))
    return tuple(ids)


def _cip_authority(doc: JSONValue, path: str, index: int) -> Authority:
    m = _mapping(doc, path)
    _known(m, path, ("name", "key", "keyless", "static", "attestations", "ctlog", "source",
                     "signatureFormat", "rfc3161timestamp"),
           {"source": "signatures stored in another repository are not supported",
            "rfc3161timestamp": "timestamp-authority requirements are not supported"})
    name = str(m.get("name") or f"authority-{index}")
    kinds = [k for k in ("key", "keyless", "static") if k in m]
    if len(kinds) != 1:
        raise PolicyError(f"{path} needs exactly one of key, keyless or static (found {kinds or 'none'})")
    if "ctlog" in m:
        ct = _mapping(m["ctlog"], f"{path}.ctlog")
        _known(ct, f"{path}.ctlog", ("url", "trustRootRef"))
    if "signatureFormat" in m and m["signatureFormat"] not in ("simplesigning", "bundle"):
        raise PolicyError(f"{path}.signatureFormat {m['signatureFormat']!r} is not simplesigning or bundle")
    keys: tuple[VerifyingKey, ...] = ()
    identities: tuple[KeylessIdentity, ...] = ()
    static = None
    if "key" in m:
        k = _mapping(m["key"], f"{path}.key")
        _known(k, f"{path}.key", ("data", "hashAlgorithm", "secretRef", "kms"),
               {"secretRef": "Kubernetes secrets are not reachable; put the PEM under key.data",
                "kms": "KMS keys are not supported; put the PEM under key.data"})
        if k.get("hashAlgorithm", "sha256") != "sha256":
            raise PolicyError(f"{path}.key.hashAlgorithm {k['hashAlgorithm']!r} is not supported (sha256 only)")
        keys = _public_keys(k.get("data"), f"{path}.key.data")
    elif "keyless" in m:
        identities = _cip_identities(_mapping(m["keyless"], f"{path}.keyless"), f"{path}.keyless")
    else:
        s = _mapping(m["static"], f"{path}.static")
        _known(s, f"{path}.static", ("action", "message"))
        static = s.get("action")
        if static not in ("pass", "fail"):
            raise PolicyError(f"{path}.static.action must be pass or fail, got {static!r}")
    atts = []
    for j, a in enumerate(_list(m.get("attestations", []), f"{path}.attestations", allow_empty=True)):
        p = f"{path}.attestations[{j}]"
        am = _mapping(a, p)
        _known(am, p, ("name", "predicateType", "policy"))
        cue = _attestation_policy(am["policy"], f"{p}.policy") if "policy" in am else None
        atts.append(AttestationRequirement(_string(am.get("name"), f"{p}.name"),
                                           _predicate_type_uri(am.get("predicateType"), f"{p}.predicateType"),
                                           cue=cue))
    if atts and static:
        raise PolicyError(f"{path}: a static authority cannot require attestations")
    return Authority(name, keys, identities, static, tuple(atts))


def _parse_cip(doc: Mapping[str, Any], source: str) -> list[Policy]:
    _known(doc, "", ("apiVersion", "kind", "metadata", "spec"))
    name = str(_mapping(doc.get("metadata", {}), "metadata").get("name") or "unnamed")
    spec = _mapping(doc.get("spec"), "spec")
    _known(spec, "spec", ("images", "authorities", "mode", "match", "policy"),
           {"policy": "spec.policy (CUE/Rego over all authorities): " + _REFUSED_POLICY,
            "match": "resource matching (spec.match) is not supported; labkit evaluates images directly"})
    globs = []
    for i, item in enumerate(_list(spec.get("images"), "spec.images")):
        m = _mapping(item, f"spec.images[{i}]")
        _known(m, f"spec.images[{i}]", ("glob",), {"regex": "image regexps were removed from policy-controller"})
        g = _string(m.get("glob"), f"spec.images[{i}].glob")
        sigstore_glob_regex(g)  # refuse invalid globs now
        globs.append(g)
    mode = spec.get("mode", "enforce")
    if mode not in ("enforce", "warn"):
        raise PolicyError(f"spec.mode must be enforce or warn, got {mode!r}")
    auths = tuple(_cip_authority(a, f"spec.authorities[{i}]", i)
                  for i, a in enumerate(_list(spec.get("authorities"), "spec.authorities")))
    return [Policy(name, "ClusterImagePolicy", tuple(globs), (AuthorityGroup(auths, 1, "authorities"),),
                   mode, source)]


# --- Kyverno -----------------------------------------------------------------------------------------

def _kyverno_entry(doc: JSONValue, path: str, index: int, atts: tuple[AttestationRequirement, ...]) -> Authority:
    m = _mapping(doc, path)
    _known(m, path, ("keys", "keyless", "attestor", "repository", "annotations"),
           {"certificates": "certificate attestors are not supported",
            "attestor": "nested attestors are not supported",
            "repository": "signatures stored in another repository are not supported",
            "annotations": "annotation requirements are not supported"})
    kinds = [k for k in ("keys", "keyless") if k in m]
    if len(kinds) != 1:
        raise PolicyError(f"{path} needs exactly one of keys or keyless (found {kinds or 'none'})")
    if "keys" in m:
        k = _mapping(m["keys"], f"{path}.keys")
        _known(k, f"{path}.keys", ("publicKeys", "signatureAlgorithm", "rekor", "ctlog"),
               {"secret": "Kubernetes secrets are not reachable", "kms": "KMS keys are not supported"})
        _kyverno_transparency(k, f"{path}.keys")
        if k.get("signatureAlgorithm", "sha256") != "sha256":
            raise PolicyError(f"{path}.keys.signatureAlgorithm must be sha256")
        return Authority(f"entry-{index}", _public_keys(k.get("publicKeys"), f"{path}.keys.publicKeys"),
                         attestations=atts)
    k = _mapping(m["keyless"], f"{path}.keyless")
    _known(k, f"{path}.keyless", ("issuer", "subject", "issuerRegExp", "subjectRegExp", "rekor", "ctlog",
                                  "roots", "additionalExtensions"),
           {"roots": "custom roots are not supported; the lab instance's trusted root is used",
            "additionalExtensions": "certificate extension requirements are not supported"})
    _kyverno_transparency(k, f"{path}.keyless")
    if "issuer" not in k and "issuerRegExp" not in k:
        raise PolicyError(f"{path}.keyless needs issuer or issuerRegExp")
    if "subject" not in k and "subjectRegExp" not in k:
        raise PolicyError(f"{path}.keyless needs subject or subjectRegExp")
    subject = _string(k["subject"], f"{path}.keyless.subject") if "subject" in k else None
    glob = subject if subject is not None and any(c in subject for c in "*?") else None
    ident = KeylessIdentity(
        issuer=_string(k["issuer"], f"{path}.keyless.issuer") if "issuer" in k else None,
        subject=None if glob else subject,
        issuer_regexp=_regexp(k["issuerRegExp"], f"{path}.keyless.issuerRegExp") if "issuerRegExp" in k else None,
        subject_regexp=_regexp(k["subjectRegExp"], f"{path}.keyless.subjectRegExp") if "subjectRegExp" in k else None,
        subject_glob=glob,
    )
    return Authority(f"entry-{index}", identities=(ident,), attestations=atts)


def _kyverno_transparency(doc: Mapping[str, Any], path: str) -> None:
    for part, flag in (("rekor", "ignoreTlog"), ("ctlog", "ignoreSCT")):
        if part in doc:
            sub = _mapping(doc[part], f"{path}.{part}")
            _known(sub, f"{path}.{part}", ("url", "pubkey", flag))
            if sub.get(flag):
                raise PolicyError(f"{path}.{part}.{flag} weakens verification and is not supported")


def _kyverno_attestor_groups(items: JSONValue, path: str,
                             atts: tuple[AttestationRequirement, ...]) -> list[AuthorityGroup]:
    groups = []
    for i, a in enumerate(_list(items, path)):
        p = f"{path}[{i}]"
        m = _mapping(a, p)
        _known(m, p, ("count", "entries"))
        entries = tuple(_kyverno_entry(e, f"{p}.entries[{j}]", j, atts)
                        for j, e in enumerate(_list(m.get("entries"), f"{p}.entries")))
        count = m.get("count", len(entries))
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= len(entries):
            raise PolicyError(f"{p}.count must be an integer between 1 and {len(entries)}")
        groups.append(AuthorityGroup(entries, count, p))
    return groups


def _kyverno_conditions(items: JSONValue, path: str) -> tuple[ConditionBlock, ...]:
    blocks = []
    for i, b in enumerate(_list(items, path, allow_empty=True)):
        p = f"{path}[{i}]"
        m = _mapping(b, p)
        _known(m, p, ("all", "any"))
        parts: dict[str, tuple[Condition, ...]] = {}
        for which in ("all", "any"):
            conds = []
            for j, c in enumerate(_list(m.get(which, []), f"{p}.{which}", allow_empty=True)):
                cp = f"{p}.{which}[{j}]"
                cm = _mapping(c, cp)
                _known(cm, cp, ("key", "operator", "value", "message"))
                key = _string(cm.get("key"), f"{cp}.key")
                match = _JMES_PATH_RE.match(key)
                if not match:
                    raise PolicyError(
                        f"{cp}.key {key!r} is not supported",
                        hint="labkit evaluates plain dotted paths like '{{ buildDefinition.buildType }}', "
                             "not JMESPath functions or filters.",
                    )
                path_parts = tuple(s.strip('"') for s in re.findall(r'"[^"]+"|[^.]+', match.group(1)))
                op = cm.get("operator")
                if op not in _KYVERNO_OPERATORS:
                    raise PolicyError(f"{cp}.operator {op!r} is not supported",
                                      hint=f"Supported operators: {', '.join(_KYVERNO_OPERATORS)}.")
                if "value" not in cm:
                    raise PolicyError(f"{cp} has no value")
                conds.append(Condition(path_parts, op, cm["value"]))
            parts[which] = tuple(conds)
        blocks.append(ConditionBlock(parts["all"], parts["any"]))
    return tuple(blocks)


def _parse_kyverno(doc: Mapping[str, Any], source: str) -> list[Policy]:
    _known(doc, "", ("apiVersion", "kind", "metadata", "spec"))
    if doc.get("kind") not in ("ClusterPolicy", "Policy"):
        raise PolicyError(f"Kyverno kind {doc.get('kind')!r} is not supported (ClusterPolicy or Policy)")
    name = str(_mapping(doc.get("metadata", {}), "metadata").get("name") or "unnamed")
    spec = _mapping(doc.get("spec"), "spec")
    _known(spec, "spec", ("rules", "validationFailureAction", "background", "webhookTimeoutSeconds",
                          "failurePolicy", "admission"))
    default_action = spec.get("validationFailureAction", "Audit")
    policies = []
    for r, rule in enumerate(_list(spec.get("rules"), "spec.rules")):
        rp = f"spec.rules[{r}]"
        rm = _mapping(rule, rp)
        _known(rm, rp, ("name", "match", "exclude", "verifyImages", "context", "preconditions"),
               {"context": "rule context (API calls, variables) is not supported",
                "preconditions": "rule preconditions are not supported"})
        if "verifyImages" not in rm:
            raise PolicyError(f"{rp} has no verifyImages; labkit evaluates image-verification rules only")
        rule_name = str(rm.get("name") or f"rule-{r}")
        for v, vi in enumerate(_list(rm["verifyImages"], f"{rp}.verifyImages")):
            vp = f"{rp}.verifyImages[{v}]"
            vm = _mapping(vi, vp)
            _known(vm, vp, ("imageReferences", "attestors", "attestations", "mutateDigest", "verifyDigest",
                            "required", "failureAction", "useCache", "type"),
                   {"skipImageReferences": "skipping references is not supported",
                    "imageRegistryCredentials": "registry credentials are not supported"})
            if vm.get("type", "Cosign") != "Cosign":
                raise PolicyError(f"{vp}.type {vm['type']!r} is not supported (Cosign only)")
            if vm.get("required", True) is not True:
                raise PolicyError(f"{vp}.required: false would let unsigned images through; not supported")
            refs = tuple(_string(x, f"{vp}.imageReferences[{i}]")
                         for i, x in enumerate(_list(vm.get("imageReferences"), f"{vp}.imageReferences")))
            action = vm.get("failureAction", default_action)
            if action not in ("Enforce", "Audit", "enforce", "audit"):
                raise PolicyError(f"{vp}.failureAction must be Enforce or Audit, got {action!r}")
            groups: list[AuthorityGroup] = []
            if "attestors" in vm:
                groups += _kyverno_attestor_groups(vm["attestors"], f"{vp}.attestors", ())
            for a, att in enumerate(_list(vm.get("attestations", []), f"{vp}.attestations", allow_empty=True)):
                ap = f"{vp}.attestations[{a}]"
                am = _mapping(att, ap)
                _known(am, ap, ("type", "predicateType", "name", "attestors", "conditions"))
                ptype = am.get("type", am.get("predicateType"))
                req = AttestationRequirement(str(am.get("name") or f"attestation-{a}"),
                                             _predicate_type_uri(ptype, f"{ap}.type"),
                                             _kyverno_conditions(am.get("conditions", []), f"{ap}.conditions"))
                if "attestors" not in am:
                    raise PolicyError(f"{ap} has no attestors; labkit needs to know who must have signed it")
                groups += _kyverno_attestor_groups(am["attestors"], f"{ap}.attestors", (req,))
            if not groups:
                raise PolicyError(f"{vp} has neither attestors nor attestations")
            mode = "enforce" if str(action).lower() == "enforce" else "warn"
            policies.append(Policy(f"{name}/{rule_name}", "Kyverno", refs, tuple(groups), mode, source))
    return policies


def parse_policy_document(doc: JSONValue, source: str = "") -> list[Policy]:
    """Policies from one parsed YAML document (a mapping with apiVersion and kind)."""
    m = _mapping(doc, "")
    api = m.get("apiVersion")
    kind = m.get("kind")
    if api in CIP_API_VERSIONS:
        if kind != "ClusterImagePolicy":
            raise PolicyError(f"{api} kind {kind!r} is not supported (ClusterImagePolicy only)")
        return _parse_cip(m, source)
    if api in KYVERNO_API_VERSIONS:
        return _parse_kyverno(m, source)
    raise PolicyError(
        f"unknown policy apiVersion {api!r} (kind {kind!r})",
        hint="labkit reads policy.sigstore.dev/v1beta1 ClusterImagePolicy and kyverno.io/v1 ClusterPolicy.",
    )


def load_policies(text: str | bytes, source: str = "") -> list[Policy]:
    """Every policy in a (multi-document) YAML text; `PolicyError` on anything malformed."""
    try:
        # The C loader when libyaml is present (same safe semantics, ~10x faster).
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"policy YAML does not parse{where}: {problem}") from None
    if not docs:
        raise PolicyError("the policy file holds no documents")
    out: list[Policy] = []
    for i, d in enumerate(docs):
        try:
            out += parse_policy_document(d, source)
        except PolicyError as exc:
            if len(docs) > 1:
                raise PolicyError(f"document {i + 1}: {exc.message}", hint=exc.hint, details=exc.details) from None
            raise
    return out
