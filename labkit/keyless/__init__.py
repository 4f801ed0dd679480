"""Keyless signing offline: a local OIDC issuer, a Fulcio-style CA, a CT log and a Sigstore trusted root.

Import the submodules you need; this package module stays light:

* `labkit.keyless.instance` — `Instance.create(dir, seed=...)` / `Instance.open(dir)`: one directory
  holding the issuer key, root and intermediate CA, transparency log, CT log key and an OCI layout;
* `labkit.keyless.oidc` — `OIDCIssuer.mint(...)`, `jwks()`, `explain_token` / `verify_token`;
* `labkit.keyless.ca` — `CertificateAuthority.issue(token, CertificateRequest)` (10-minute certificates
  with the Fulcio OIDC extensions and an embedded SCT), `certificate_fields`;
* `labkit.keyless.ctlog` — SCT signing (RFC 6962);
* `labkit.keyless.identity` — the SAN grammar (RFC 5322 e-mail, RFC 3986 URI) checked before minting or issuing;
* `labkit.keyless.trustroot` — TrustedRoot and ClientTrustConfig JSON;
* `labkit.keyless.sign` — `sign_keyless`, `sign_blob_keyless`, `sign_image_keyless`;
* `labkit.keyless.server` — `InstanceServer`: OIDC discovery/JWKS and Fulcio's v2 API on loopback,
  next to the Rekor v1 log server, so unmodified Sigstore clients sign against the instance.
"""

from __future__ import annotations

__all__ = ["ca", "checks", "ctlog", "identity", "instance", "oidc", "server", "sign", "trustroot"]
