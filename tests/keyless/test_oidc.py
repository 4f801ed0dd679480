"""The local OIDC issuer: tokens, JWKS, and every way a token is refused."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import KeylessError
from labkit.keyless.checks import IssuanceRefused
from labkit.keyless.oidc import (
    OIDCIssuer,
    TokenError,
    decode_unverified,
    explain_token,
    github_claims,
    verify_token,
)
from labkit.keys import generate
from labkit.lab import FixedClock, Lab

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
URL = "https://oidc.example.invalid"


def _issuer(seed: str = "oidc") -> OIDCIssuer:
    return OIDCIssuer(URL, generate("ed25519", lab=Lab(seed=seed), label="oidc"), clock=FixedClock(NOW))


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_email_token_claims_and_determinism() -> None:
    token = _issuer().mint("alice@example.com")
    assert token == _issuer().mint("alice@example.com")
    decoded = decode_unverified(token)
    assert decoded.header == {"alg": "Ed25519", "kid": _issuer().kid, "typ": "JWT"}
    assert decoded.claims["iss"] == URL
    assert decoded.claims["aud"] == "sigstore"
    assert decoded.claims["email"] == decoded.claims["sub"] == "alice@example.com"
    assert decoded.claims["email_verified"] is True
    assert decoded.claims["exp"] - decoded.claims["iat"] == 600
    assert decoded.expires_at == NOW + dt.timedelta(minutes=10)


def test_signature_checks_out_with_the_published_jwk_independently() -> None:
    """Verify the JWS with `cryptography` from the JWKS alone (not through joserfc)."""
    issuer = _issuer()
    token = issuer.mint("alice@example.com")
    (jwk,) = issuer.jwks()["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    head, body, sig = token.split(".")
    ed25519.Ed25519PublicKey.from_public_bytes(_b64url(jwk["x"])).verify(_b64url(sig), f"{head}.{body}".encode())


def test_github_token_carries_workflow_claims() -> None:
    claims = decode_unverified(_issuer().mint(claims=github_claims("octo/app"))).claims
    assert claims["sub"] == "repo:octo/app:ref:refs/heads/main"
    assert claims["job_workflow_ref"] == "octo/app/.github/workflows/release.yml@refs/heads/main"
    assert "email" not in claims


def test_valid_token_passes_every_step() -> None:
    issuer = _issuer()
    decoded = verify_token(issuer.mint("a@example.com"), issuer.jwks(), issuer=URL, now=NOW)
    assert decoded.subject == "a@example.com"
    report, _ = explain_token(issuer.mint("a@example.com"), issuer.jwks(), issuer=URL, now=NOW)
    assert [s.id for s in report] == ["token.parse", "token.signature", "token.issuer", "token.audience", "token.time"]
    assert report.verified


@pytest.mark.parametrize(
    ("make", "step"),
    [
        (lambda i: i.mint("a@example.com", now=NOW - dt.timedelta(hours=1)), "token.time"),
        (lambda i: i.mint("a@example.com", now=NOW + dt.timedelta(hours=1)), "token.time"),
        (lambda i: i.mint("a@example.com", audience="someone-else"), "token.audience"),
        (lambda i: OIDCIssuer("https://evil.invalid", i.key, clock=i.clock).mint("a@example.com"), "token.issuer"),
        (lambda i: _issuer("forger").mint("a@example.com"), "token.signature"),
        (lambda i: "not-a-jwt", "token.parse"),
        (lambda i: "a.b.c", "token.parse"),
    ],
    ids=["expired", "not-yet-valid", "audience", "issuer", "forged", "garbage", "three-garbage-parts"],
)
def test_bad_tokens_are_refused_at_the_right_step(make: Callable[[OIDCIssuer], str], step: str) -> None:
    issuer = _issuer()
    token = make(issuer)
    report, _ = explain_token(token, issuer.jwks(), issuer=URL, now=NOW)
    assert not report.verified and report.failed_step is not None and report.failed_step.id == step
    with pytest.raises(IssuanceRefused) as err:
        verify_token(token, issuer.jwks(), issuer=URL, now=NOW)
    assert err.value.step == step
    assert isinstance(err.value, KeylessError)


def test_tampered_claims_break_the_signature() -> None:
    issuer = _issuer()
    head, body, sig = issuer.mint("a@example.com").split(".")
    forged_body = base64.urlsafe_b64encode(_b64url(body).replace(b"a@example.com", b"b@example.com")).rstrip(b"=")
    report, _ = explain_token(f"{head}.{forged_body.decode()}.{sig}", issuer.jwks(), issuer=URL, now=NOW)
    assert report.failed_step is not None and report.failed_step.id == "token.signature"


def test_unsigned_alg_none_token_is_refused() -> None:
    issuer = _issuer()
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = issuer.mint("a@example.com").split(".")[1]
    report, decoded = explain_token(f"{head}.{body}.", issuer.jwks(), issuer=URL, now=NOW)
    assert decoded is None and report.failed_step is not None and report.failed_step.id == "token.signature"


def test_token_without_subject_is_refused() -> None:
    with pytest.raises(TokenError):
        _issuer().mint()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_explain_never_raises_on_junk(junk: str) -> None:
    issuer = _issuer()
    report, decoded = explain_token(junk, issuer.jwks(), issuer=URL, now=NOW)
    assert not report.verified and decoded is None


@pytest.mark.parametrize("lifetime", [0, -1, 10**20, float("inf"), float("nan")])
def test_out_of_range_lifetimes_are_refused(lifetime: float) -> None:
    with pytest.raises(TokenError, match="lifetime"):
        _issuer().mint("alice@example.com", lifetime=lifetime)
