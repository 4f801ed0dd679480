"""Malformed or not-understood policies are refused with a clear PolicyError."""

from __future__ import annotations

import pytest

from labkit.errors import PolicyError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.policy import load_policies
from tests.policy.helpers import indent, pem

KEY = pem(generate("ecdsa-p256", lab=Lab(seed="model"), label="k"))


def cip(authority: str, extra_spec: str = "") -> str:
    return f"""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: p}}
spec:
  images: [{{glob: "registry.lab/**"}}]
{extra_spec}
  authorities:
{indent(authority, 2)}
"""


KEY_AUTH = f"""
- key:
    data: |
{indent(KEY, 6)}
"""


def test_good_policy_parses() -> None:
    (p,) = load_policies(cip(KEY_AUTH))
    assert p.name == "p" and p.kind == "ClusterImagePolicy" and p.patterns == ("registry.lab/**",)
    assert len(p.groups[0].authorities[0].keys) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: [unclosed", "policy YAML does not parse at line"),
        ("", "no documents"),
        ("- a\n- b\n", "must be a mapping"),
        ("apiVersion: v1\nkind: Pod\n", "unknown policy apiVersion"),
        (cip(KEY_AUTH).replace("ClusterImagePolicy", "ImagePolicy"), "kind 'ImagePolicy' is not supported"),
        (cip(KEY_AUTH).replace("authorities:", "authoritees:"), "unknown field spec.authoritees"),
        (cip("- key: {data: not-a-key}"), "holds no PEM public key"),
        (cip("- key: {kms: 'awskms:///x'}"), "KMS keys are not supported"),
        (cip("- {}"), "exactly one of key, keyless or static"),
        (cip("- keyless: {identities: [{issuer: x}]}"), "one of subject/subjectRegExp"),
        (cip("- keyless: {identities: [{issuer: x, subjectRegExp: '('}]}"), "not a valid regular expression"),
        (cip("- static: {action: maybe}"), "must be pass or fail"),
        (
            cip(
                KEY_AUTH.rstrip()
                + "\n  attestations: [{name: a, predicateType: cyclonedx, policy: {type: rego, data: x}}]"
            ),
            "no Rego engine",
        ),
        (
            cip(
                KEY_AUTH.rstrip()
                + "\n  attestations: [{name: a, predicateType: cyclonedx, policy: {type: cue, data: 'import "
                  "\"time\"'}}]"
            ),
            "'import' is not supported",
        ),
        (
            cip(
                KEY_AUTH.rstrip()
                + "\n  attestations: [{name: a, predicateType: cyclonedx, policy: {type: cue, url: 'https://x'}}]"
            ),
            "fetched from a URL",
        ),
        (
            cip(KEY_AUTH.rstrip() + "\n  attestations: [{name: a, predicateType: nosuchtype}]"),
            "unknown predicate type 'nosuchtype'",
        ),
        (cip(KEY_AUTH, "  mode: audit"), "spec.mode must be enforce or warn"),
        (cip(KEY_AUTH).replace('glob: "registry.lab/**"', 'glob: "registry.lab/(a|b)"'), "invalid image glob"),
        (cip(KEY_AUTH).replace('[{glob: "registry.lab/**"}]', '[{regex: ".*"}]'), "image regexps were removed"),
        (cip(KEY_AUTH, "  policy: {type: rego, data: x}"), "spec.policy"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policies(text)
    assert message in err.value.message


KYVERNO_HEAD = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: k}
spec:
  rules:
  - name: r
"""


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("    validate: {message: x}", "unknown field spec.rules[0].validate"),
        ("    match: {}", "has no verifyImages"),
        (
            "    verifyImages: [{imageReferences: ['*'], attestors: [{entries: [{keyless: {issuer: x, subject: y, "
            "rekor: {ignoreTlog: true}}}]}]}]",
            "ignoreTlog weakens verification",
        ),
        (
            "    verifyImages: [{imageReferences: ['*'], required: false, attestors: [{entries: [{keyless: "
            "{issuer: x, subject: y}}]}]}]",
            "required: false",
        ),
        ("    verifyImages: [{imageReferences: ['*']}]", "neither attestors nor attestations"),
        (
            "    verifyImages: [{imageReferences: ['*'], attestations: [{type: cyclonedx, attestors: [{entries: "
            "[{keyless: {issuer: x, subject: y}}]}], "
            "conditions: [{all: [{key: '{{ length(components) }}', operator: GreaterThan, value: 0}]}]}]}]",
            "is not supported",
        ),
        (
            "    verifyImages: [{imageReferences: ['*'], attestations: [{type: cyclonedx, attestors: [{entries: "
            "[{keyless: {issuer: x, subject: y}}]}], "
            "conditions: [{all: [{key: '{{ a }}', operator: Matches, value: 0}]}]}]}]",
            "operator 'Matches' is not supported",
        ),
        (
            "    verifyImages: [{imageReferences: ['*'], attestors: [{count: 3, entries: [{keyless: {issuer: x, "
            "subject: y}}]}]}]",
            "count must be an integer between 1 and 1",
        ),
    ],
)
def test_kyverno_refused(rule: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policies(KYVERNO_HEAD + rule + "\n")
    assert message in err.value.message


def test_multi_document_error_names_document() -> None:
    text = cip(KEY_AUTH) + "---\napiVersion: v1\nkind: Pod\n"
    with pytest.raises(PolicyError) as err:
        load_policies(text)
    assert err.value.message.startswith("document 2:")
