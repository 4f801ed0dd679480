"""SAN values are checked before a token is minted or a certificate issued (issue 12 item 6)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import KeylessError
from labkit.keyless.ca import CertificateRequest
from labkit.keyless.identity import email_problem, identity_problem, uri_problem
from labkit.keyless.instance import Instance
from labkit.keyless.oidc import TokenError, github_claims
from labkit.keys import generate

GOOD_EMAILS = ["alice@example.com", "a.b+tag@sub.example.org", "o'hara@example.co.uk", "x_{y}~!@ex-ample.com"]
BAD_EMAILS = [
    "alice\n@example.com", "alice @example.com", "alice@exa mple.com", "alice@example.com\r", ".alice@example.com",
    "al..ice@example.com", "alice@", "@example.com", "a@b@example.com", "alice@localhost", "al\x00ice@example.com",
    "\"quoted\"@example.com", "alice@[127.0.0.1]", "alice@-example.com", "élise@example.com",
    "a" * 65 + "@example.com",
]
GOOD_URIS = ["https://github.com/o/r/.github/workflows/w.yml@refs/heads/main", "spiffe://lab/ns/default/sa/builder",
             "https://example.com/a%20b?x=1#f"]
BAD_URIS = ["https://example.com/a b", "https://example.com/\n", "https://example.com/%zz", "https:///path",
            "1https://example.com", "https://exa\tmple.com/", "https://example.com/é", "no-scheme-at-all"]


@pytest.mark.parametrize("value", GOOD_EMAILS)
def test_good_emails(value: str) -> None:
    assert email_problem(value) is None and identity_problem(value) is None


@pytest.mark.parametrize("value", BAD_EMAILS)
def test_bad_emails(value: str) -> None:
    assert email_problem(value) is not None


@pytest.mark.parametrize("value", GOOD_URIS)
def test_good_uris(value: str) -> None:
    assert uri_problem(value) is None and identity_problem(value) is None


@pytest.mark.parametrize("value", BAD_URIS)
def test_bad_uris(value: str) -> None:
    assert uri_problem(value) is not None


def test_the_issuer_refuses_to_mint_for_a_bad_identity(instance: Instance) -> None:
    with pytest.raises(TokenError, match="refusing to mint"):
        instance.issuer.mint("alice\n@example.com")
    with pytest.raises(TokenError):
        instance.issuer.mint("https://example.com/a b")


def _forged_claims_token(instance: Instance, claims: dict[str, object]) -> str:
    """A token signed by the instance's issuer whose claims bypass `mint`'s identity check (None drops a claim)."""
    from joserfc import jwt

    good = instance.issuer.mint("alice@example.com")
    header, body, _ = good.split(".")
    doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    doc.update(claims)
    doc = {k: v for k, v in doc.items() if v is not None}
    return jwt.encode(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))), doc,
                      instance.issuer._jwk, algorithms=["Ed25519"])


@pytest.mark.parametrize("claims", [
    {"email": "alice\n@example.com"},
    {"email": "alice@example.com\u0000"},
    {"email": None, "email_verified": None, "sub": "https://example.com/\nevil"},
    {**github_claims("octo/app"), "job_workflow_ref": "octo/app/.github/workflows/w.yml@refs/heads/\nmain"},
])
def test_the_ca_issues_nothing_for_a_bad_san(instance: Instance, claims: dict[str, object]) -> None:
    token = _forged_claims_token(instance, claims)
    with pytest.raises(KeylessError) as err:
        instance.ca.issue(token, CertificateRequest.create(generate("ecdsa-p256"), token))
    assert getattr(err.value, "step", "") == "identity.certifiable"


def test_labkit_token_refuses_a_bad_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = str(tmp_path / "inst")
    assert main(["init", inst, "--seed", "identity"]) == 0
    capsys.readouterr()
    assert main(["token", "--instance", inst, "--identity", "alice\n@example.com"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "refusing to mint" in captured.err
