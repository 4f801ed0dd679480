"""The one error TUF failures become: it names the role and the version that failed."""

from __future__ import annotations

from collections.abc import Mapping

from labkit.errors import LabkitError

__all__ = ["TufError"]


class TufError(LabkitError):
    """TUF metadata or a target did not verify (expired, unsigned, rolled back, too large, wrong hash)."""

    hint = ("The trust this instance delivered did not verify and was not used. Check the instance's TUF "
            "repository (labkit tuf status) and your bootstrap root; never bypass TUF by copying files.")

    def __init__(self, message: str, *, reason: str = "tuf", hint: str | None = None,
                 details: Mapping[str, object] | None = None) -> None:
        super().__init__(message, hint=hint, details=details)
        #: ``tuf.<python-tuf error class>`` (e.g. ``tuf.ExpiredMetadataError``), as attack verdicts report it.
        self.reason = reason
