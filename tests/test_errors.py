"""The error model: one base, short messages, diagnostics, stable reason codes."""

from __future__ import annotations

import inspect

import labkit.errors as errors
from labkit.errors import LabkitError, PasswordError, VerificationError


def test_every_error_is_a_labkit_error_with_a_hint() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert inspect.isclass(cls) and issubclass(cls, LabkitError), name
        assert cls.hint, name
        assert cls.__doc__, name


def test_message_details_and_diagnostics() -> None:
    exc = PasswordError("bad password", details={"file": "cosign.key", "N": 65536})
    assert str(exc) == "bad password"
    text = exc.diagnostics()
    assert text.splitlines()[0] == "PasswordError: bad password"
    assert text.index("file: cosign.key") < text.index("N: 65536")
    assert "What to check:" in text
    assert isinstance(exc, errors.KeyFileError)


def test_hint_override() -> None:
    assert LabkitError("x", hint="look here").hint == "look here"


def test_verification_error_reason() -> None:
    exc = VerificationError("no", step="signature", reason="signature.invalid")
    assert (exc.step, exc.reason) == ("signature", "signature.invalid")
    assert "Reason code: signature.invalid" in exc.diagnostics()
    assert VerificationError("no", step="tlog").reason == "tlog"
