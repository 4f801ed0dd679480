"""A local OIDC issuer: mints signed identity tokens (JWTs) and publishes its JWKS.

The issuer signs with an Ed25519 key (JWS algorithm ``Ed25519``, RFC 9864),
whose signatures are deterministic, so a seeded lab mints the same token
bytes on every run. JOSE handling is `joserfc`'s (RFC 7515/7517/7519).

Tokens look like the ones Fulcio accepts: ``iss``, ``sub``, ``aud``
(``sigstore``), ``iat``/``nbf``/``exp``, plus either ``email`` and
``email_verified`` or the CI-workflow claims GitHub Actions puts in its
tokens (`github_claims`).
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit._internal import jsonio
from labkit.checks import Recorder
from labkit.errors import KeylessError
from labkit.keyless.checks import TOKEN_STEPS, IssuanceCheck
from labkit.keyless.identity import identity_problem, is_email_identity
from labkit.keys import SigningKey
from labkit.lab import Clock, SystemClock, utc

__all__ = ["OIDCIssuer", "decode_unverified", "github_claims"]

#: The audience Fulcio requires in identity tokens.
DEFAULT_AUDIENCE = "sigstore"
#: The longest token lifetime the issuer mints, in seconds (about ten years).
MAX_LIFETIME = 10 * 366 * 24 * 3600
#: JWS algorithm name for Ed25519 (RFC 9864 §2).
JWS_ALGORITHM = "Ed25519"


class TokenError(KeylessError):
    """An identity token is malformed, forged, expired or meant for someone else."""

    hint = "Mint a fresh token from the instance's issuer (labkit token) with audience 'sigstore'."


@dataclass(frozen=True)
class IdentityToken:
    """A decoded JWT: the compact `raw` string, its protected `header` and `claims`."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def issuer(self) -> str:
        """The ``iss`` claim."""
        return str(self.claims.get("iss", ""))

    @property
    def subject(self) -> str:
        """The ``sub`` claim."""
        return str(self.claims.get("sub", ""))

    @property
    def expires_at(self) -> _dt.datetime | None:
        """``exp`` as a UTC datetime."""
        exp = self.claims.get("exp")
        return _dt.datetime.fromtimestamp(exp, _dt.timezone.utc) if isinstance(exp, (int, float)) else None


def _b64url_json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except ValueError:
        raise TokenError(f"token {what} is not base64url JSON") from None
    value = jsonio.loads(raw, what=f"token {what}", error=TokenError)
    if not isinstance(value, dict):
        raise TokenError(f"token {what} is not a JSON object")
    return value


def decode_unverified(token: str) -> IdentityToken:
    """Split and decode a compact JWT without checking anything (for display)."""
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(f"a JWT has three dot-separated parts, this has {len(parts)}")
    return IdentityToken(token, _b64url_json(parts[0], "header"), _b64url_json(parts[1], "claims"))


def github_claims(
    repository: str = "labkit/demo",
    workflow: str = ".github/workflows/release.yml",
    ref: str = "refs/heads/main",
    sha: str = "0" * 40,
    *,
    event_name: str = "push",
    run_id: str = "1",
    run_attempt: str = "1",
    repository_id: str = "1",
    repository_owner_id: str = "1",
    runner_environment: str = "github-hosted",
    repository_visibility: str = "public",
) -> dict[str, str]:
    """Claims shaped like a GitHub Actions OIDC token for `repository`'s `workflow` at `ref`."""
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/{workflow}@{ref}"
    return {
        "sub": f"repo:{repository}:ref:{ref}",
        "repository": repository,
        "repository_id": repository_id,
        "repository_owner": owner,
        "repository_owner_id": repository_owner_id,
        "repository_visibility": repository_visibility,
        "ref": ref,
        "sha": sha,
        "workflow": workflow.rsplit("/", 1)[-1],
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "event_name": event_name,
        "run_id": run_id,
        "run_attempt": run_attempt,
        "runner_environment": runner_environment,
    }


class OIDCIssuer:
    """An OpenID Connect issuer at `url` that signs tokens with an Ed25519 `key`."""

    def __init__(self, url: str, key: SigningKey, *, clock: Clock | None = None) -> None:
        if not isinstance(key.key, ed25519.Ed25519PrivateKey):
            raise KeylessError("the local OIDC issuer signs with an Ed25519 key")
        self.url = url
        self.key = key
        self.clock: Clock = clock or SystemClock()
        from joserfc.jwk import OKPKey

        params: Any = {"use": "sig", "alg": JWS_ALGORITHM}
        # RFC 7638 thumbprint as the key ID, as most issuers do.
        self.kid: str = OKPKey.import_key(key.pkcs8_der(), params).thumbprint()
        with_kid: Any = {**params, "kid": self.kid}
        self._jwk = OKPKey.import_key(key.pkcs8_der(), with_kid)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 §5) a relying party fetches from ``jwks_uri``."""
        public = dict(self._jwk.as_dict(private=False))
        public["kid"] = self.kid
        return {"keys": [dict(sorted(public.items()))]}

    def discovery(self) -> dict[str, Any]:
        """The OpenID discovery document (``/.well-known/openid-configuration``)."""
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/keys",
            "id_token_signing_alg_values_supported": [JWS_ALGORITHM],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
        }

    def mint(
        self,
        identity: str | None = None,
        *,
        audience: str = DEFAULT_AUDIENCE,
        lifetime: _dt.timedelta | float = 600,
        claims: Mapping[str, Any] | None = None,
        now: _dt.datetime | None = None,
    ) -> str:
        """Mint a signed token for `identity` (an email or a URI) plus any extra `claims`.

        An email identity gives ``sub``/``email``/``email_verified``; any other
        identity becomes ``sub``. `claims` (for example `github_claims()`)
        override or extend the result.
        """
        from joserfc import jwt

        seconds = lifetime.total_seconds() if isinstance(lifetime, _dt.timedelta) else lifetime
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 < seconds <= MAX_LIFETIME:
            raise TokenError(f"token lifetime must be 1 second to {MAX_LIFETIME} seconds (ten years), got {seconds!r}")
        lifetime = _dt.timedelta(seconds=seconds)
        issued = utc(now) if now is not None else self.clock.now()
        body: dict[str, Any] = {"iss": self.url, "aud": audience}
        if identity is not None:
            problem = identity_problem(identity)
            if problem is not None:
                raise TokenError(f"refusing to mint a token for {identity!r}: {problem}",
                                 hint="Give an e-mail address (alice@example.com) or a URI (https://host/path).")
            body["sub"] = identity
            if is_email_identity(identity):
                body["email"] = identity
                body["email_verified"] = True
        body.update(dict(claims or {}))
        if "sub" not in body:
            raise TokenError("a token needs a subject: pass an identity or a 'sub' claim")
        body["iat"] = int(issued.timestamp())
        body["nbf"] = int(issued.timestamp())
        body["exp"] = int((issued + lifetime).timestamp())
        header = {"alg": JWS_ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, body, self._jwk, algorithms=[JWS_ALGORITHM])


def explain_token(
    token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    audience: str = DEFAULT_AUDIENCE,
    now: _dt.datetime,
) -> tuple[IssuanceCheck, IdentityToken | None]:
    """Check `token` step by step: parse, signature (against `jwks`), issuer, audience, time.

    Never raises on bad input; returns the report and the decoded token
    (None when it could not be parsed or its signature failed).
    """
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    run = Recorder(IssuanceCheck("identity token"), TOKEN_STEPS)
    report = run.result
    try:
        decoded = decode_unverified(token)
    except TokenError as exc:
        run.record("token.parse", False, exc.message, expected="header.claims.signature", actual="unparseable")
        return report, None
    run.passed("token.parse", "", "header.claims.signature", f"alg={decoded.header.get('alg')}")
    try:
        keyset = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
        jwt.decode(decoded.raw, keyset, algorithms=[JWS_ALGORITHM])
        sig_ok, sig_msg = True, ""
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        sig_ok, sig_msg = False, f"signature does not verify with the issuer's JWKS ({type(exc).__name__})"
    kid = str(decoded.header.get("kid", ""))
    if not run.record("token.signature", sig_ok, sig_msg, expected="a key in the issuer's JWKS",
                      actual=f"kid {kid[:16]}"):
        return report, None
    claims = decoded.claims
    iss = str(claims.get("iss", ""))
    run.record("token.issuer", iss == issuer, "" if iss == issuer else f"issuer {iss!r} is not trusted by this CA",
               expected=issuer, actual=iss)
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    aud_ok = audience in auds
    run.record("token.audience", aud_ok, "" if aud_ok else f"token audience {auds} does not include {audience!r}",
               expected=audience, actual=", ".join(map(str, auds)) or "(none)")
    ts = int(utc(now).timestamp())
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    exp_ok = isinstance(exp, (int, float)) and ts < exp
    nbf_ok = not isinstance(nbf, (int, float)) or nbf <= ts
    expected = "nbf <= now < exp"
    actual = f"now={_iso(ts)}, exp={_iso(exp) if isinstance(exp, (int, float)) else 'missing'}"
    if not exp_ok:
        msg = "token has expired" if isinstance(exp, (int, float)) else "token has no exp claim"
    else:
        msg = "token is not valid yet"
    time_ok = exp_ok and nbf_ok
    run.record("token.time", time_ok, "" if time_ok else msg, expected=expected, actual=actual)
    return report, decoded


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_token(
    token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    audience: str = DEFAULT_AUDIENCE,
    now: _dt.datetime,
) -> IdentityToken:
    """Return the decoded token, or raise `IssuanceRefused` naming the failed step."""
    report, decoded = explain_token(token, jwks, issuer=issuer, audience=audience, now=now)
    report.raise_for_failure()
    assert decoded is not None
    return decoded
