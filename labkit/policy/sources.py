"""Evidence from real storage: an OCI layout or a registry, verified against a trusted root.

`OCIEvidenceSource` resolves an image to its manifest digest (once), reads
its Sigstore bundle referrers (what cosign v3 writes: image signatures are
DSSE statements of type ``https://sigstore.dev/cosign/sign/v1``, attestations
any other type), and checks for each bundle what needs no policy input:

- the statement's subject is this image's digest;
- keyless: the bundle verifies fully with `labkit.verify` against the
  trusted root (certificate chain, SCT, log entry and inclusion proof), with
  any identity; the identity is then left for the policy to judge;
- key-based: nothing can be checked without the key, so the evidence
  carries a checker that runs the full `labkit.verify` verification with the
  policy's key (log entry included).

Legacy ``.sig``/``.att`` tags are not read: a policy never falls back to the
weaker format when the referrers list is empty (the downgrade lesson of
cosign's ``--new-bundle-format`` fallback).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography import x509

from labkit.bundle import Bundle
from labkit.errors import LabkitError, StoreError
from labkit.keys import VerifyingKey
from labkit.oci.signatures import Store, list_bundles
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Envelope, Statement
from labkit.policy.evaluate import Evidence
from labkit.policy.glob import ImageName, normalize_image
from labkit.verify import explain_bundle
from labkit.verify.policy import AnyIdentity, certificate_identity
from labkit.verify.trustroot import TrustedRoot

__all__ = ["OCIEvidenceSource"]

#: The predicate type of a cosign v3 image signature (cosign ``specs/BUNDLE_SPEC.md``).
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"


class OCIEvidenceSource:
    """Signatures and attestations of images in OCI storage.

    `stores` maps a repository (``registry/repo`` as `normalize_image` writes
    it) to an `OCILayout` or `RegistryRepository`; `lookup` may be given
    instead for anything dynamic. `trusted_root` is a `TrustedRoot` or its JSON.
    """

    def __init__(
        self,
        trusted_root: TrustedRoot | bytes | str,
        stores: Mapping[str, Store] | None = None,
        *,
        lookup: Callable[[ImageName], Store | None] | None = None,
    ) -> None:
        self.trusted_root = (
            trusted_root if isinstance(trusted_root, TrustedRoot) else TrustedRoot.from_json(trusted_root)
        )
        self.stores = {normalize_image(k).context: v for k, v in (stores or {}).items()}
        self.lookup = lookup
        self.notes: dict[str, list[str]] = {}

    def _store(self, name: ImageName) -> Store:
        store = self.stores.get(name.context)
        if store is None and self.lookup is not None:
            store = self.lookup(name)
        if store is None:
            raise StoreError(f"no storage known for repository {name.context}")
        return store

    def resolve(self, image: str) -> str:
        """The manifest digest the image names (a tag is resolved once)."""
        name = normalize_image(image)
        store = self._store(name)
        desc = store.resolve(name.digest or name.tag or "latest")
        return str(desc.digest)

    def evidence(self, image: str) -> Sequence[Evidence]:
        """The signatures and attestations stored next to `image`, as evidence."""

        name = normalize_image(image)
        store = self._store(name)
        digest = str(store.resolve(name.digest or name.tag or "latest").digest)
        hexd = digest.split(":", 1)[1]
        notes = self.notes.setdefault(image, [])
        out: list[Evidence] = []
        for ref, data in list_bundles(store, digest):
            where = f"referrer {ref.digest}"
            try:
                bundle = Bundle.from_json(data)
            except LabkitError as exc:
                notes.append(f"{where}: {exc.message}")
                continue
            env = bundle.content
            if not isinstance(env, Envelope) or env.payload_type != INTOTO_PAYLOAD_TYPE or len(env.signatures) != 1:
                notes.append(f"{where}: not a single-signature in-toto DSSE envelope")
                continue
            try:
                statement = Statement.from_json(env.payload)
            except LabkitError as exc:
                notes.append(f"{where}: {exc.message}")
                continue
            if not any(s.digest.get("sha256") == hexd for s in statement.subjects):
                notes.append(f"{where}: statement is about another digest")
                continue
            kind = "signature" if statement.predicate_type == COSIGN_SIGN_PREDICATE else "attestation"
            common: dict[str, Any] = {
                "kind": kind, "signed_bytes": env.pae(), "signature": env.signatures[0].sig, "where": where,
                "predicate_type": None if kind == "signature" else statement.predicate_type,
                "predicate": None if kind == "signature" else statement.predicate,
            }
            cert_der = bundle.verification_material.certificate
            if cert_der:
                result = explain_bundle(bundle, digest, self.trusted_root, AnyIdentity())
                if not result.verified:
                    notes.append(f"{where}: keyless bundle does not verify ({result.reason})")
                    continue
                cert = x509.load_der_x509_certificate(cert_der)
                ident = certificate_identity(cert)
                key = VerifyingKey.from_key(cert.public_key())  # type: ignore[arg-type]
                out.append(Evidence(issuer=ident.issuer, subject=ident.identity, certificate_key=key, **common))
            else:
                def check(k: VerifyingKey, b: Bundle = bundle) -> bool:
                    return explain_bundle(b, digest, self.trusted_root, None, k).verified

                out.append(Evidence(checker=check, **common))
        return out
