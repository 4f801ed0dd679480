"""labkit: a toolkit and Jupyter teaching lab for Sigstore-style supply-chain security.

Where things live:

- `labkit.keys`, `labkit.keyfile`: keys and cosign's encrypted key files
- `labkit.payloads`: simple-signing payloads, DSSE envelopes, in-toto statements
- `labkit.bundle`: the Sigstore bundle model (v0.1 to v0.3)
- `labkit.sign`: signing blobs into bundles
- `labkit.tlog`: the transparency log (Merkle core, checkpoints, store, server, client, witness)
- `labkit.oci`: digests, references, the image-layout store, the registry client, signature storage
- `labkit.keyless`: the local OIDC issuer, certificate authority and trusted root
- `labkit.verify`: verification steps, the verifier, identity policy
- `labkit.attest`, `labkit.policy`: attestation types and admission policies
- `labkit.attacks`: attack scenarios and the vulnerable verifier modes they defeat
- `labkit.lab`: seed, clock and deterministic randomness for teaching
- `labkit.display`: deterministic HTML/SVG renderers for notebooks
- `labkit.errors`: the error model
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
