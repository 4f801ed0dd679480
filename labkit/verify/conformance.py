"""One sigstore-conformance ``bundle-verify`` case folder, read the way the suite lays it out.

A case folder holds ``bundle.sigstore.json`` and, when the case needs them, ``artifact`` (else the
suite's shared ``../a.txt``), ``trusted_root.json`` (else the public-good root), ``key.pub`` (a
managed-key case), ``identity`` and ``issuer`` (else the suite's OIDC beacon). A case whose name ends
in ``_fail`` must be rejected. `ConformanceCase.load` is the one reader of that convention (tests,
notebook 05, benchmarks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import InputError
from labkit.verify.policy import Identity
from labkit.verify.steps import VerificationResult
from labkit.verify.verifier import Artifact, explain_bundle

__all__ = ["ConformanceCase"]

#: The identity and issuer that signed the suite's keyless cases (its "extremely dangerous" OIDC beacon).
_BEACON_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
_BEACON_ISSUER = "https://token.actions.githubusercontent.com"


def _optional(path: Path) -> Path | None:
    return path if path.exists() else None


def _text(path: Path, default: str) -> str:
    return path.read_text().strip() if path.exists() else default


@dataclass(frozen=True)
class ConformanceCase:
    """The files of one case; `identity`/`issuer` apply when there is no `key`."""

    name: str
    bundle: Path
    artifact: Path
    trusted_root: Path | None
    key: Path | None
    identity: str
    issuer: str

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ConformanceCase:
        """Read the case in `folder` (an `InputError` when it has no ``bundle.sigstore.json``)."""
        d = Path(folder)
        bundle = d / "bundle.sigstore.json"
        if not bundle.is_file():
            raise InputError(f"{d} is not a conformance case: it has no bundle.sigstore.json")
        return cls(
            name=d.name,
            bundle=bundle,
            artifact=_optional(d / "artifact") or d.parent / "a.txt",
            trusted_root=_optional(d / "trusted_root.json"),
            key=_optional(d / "key.pub"),
            identity=_text(d / "identity", _BEACON_IDENTITY),
            issuer=_text(d / "issuer", _BEACON_ISSUER),
        )

    @property
    def must_fail(self) -> bool:
        """True for a case the verifier must reject (its name ends in ``_fail``)."""
        return self.name.endswith("_fail")

    def policy(self) -> Identity | None:
        """The identity policy of a keyless case (None for a managed-key case)."""
        return None if self.key else Identity(identity=self.identity, issuer=self.issuer)

    def explain(self) -> VerificationResult:
        """`explain_bundle` on the case, with its own trusted root (else the public-good one), key or identity."""
        root = self.trusted_root.read_bytes() if self.trusted_root else None
        key = self.key.read_bytes() if self.key else None
        return explain_bundle(self.bundle.read_bytes(), Artifact.from_path(self.artifact), root, self.policy(), key)

    def cli_args(self, artifact: str | None = None) -> list[str]:
        """``labkit verify-bundle`` arguments for the case.

        `artifact`: the path or digest to pass; default the file.
        """
        argv = ["verify-bundle", "--bundle", str(self.bundle)]
        if self.key:
            argv += ["--key", str(self.key)]
        else:
            argv += ["--certificate-identity", self.identity, "--certificate-oidc-issuer", self.issuer]
        if self.trusted_root:
            argv += ["--trusted-root", str(self.trusted_root)]
        return [*argv, artifact if artifact is not None else str(self.artifact)]
