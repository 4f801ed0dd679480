"""One definition of the key and identity options, one conflict rule, for every verify and sign command.

Issue 12 item 7: ``--key`` with a certificate identity is refused with the same error by every verify
command, never silently ignored; ``--identity`` with a token that names someone else is refused by every
sign command, never signed as the token's identity.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from tests.cli.conftest import Workspace

Argv = Callable[[Workspace, list[str]], list[str]]

VERIFIERS: dict[str, Argv] = {
    "verify": lambda w, o: ["verify", *o, "--insecure-ignore-tlog", w.image],
    "verify-blob": lambda w, o: ["verify-blob", *o, "--bundle", str(w.file), str(w.file)],
    "verify-bundle": lambda w, o: ["verify-bundle", *o, "--bundle", str(w.file), str(w.file)],
    "verify-attestation": lambda w, o: ["verify-attestation", "--type", "custom", *o, w.image],
    "verify-blob-attestation": lambda w, o: ["verify-blob-attestation", "--type", "custom", *o,
                                             "--bundle", str(w.file), str(w.file)],
}

SIGNERS: dict[str, Argv] = {
    "sign": lambda w, o: ["sign", "--instance", str(w.instance), *o, w.image_by_digest],
    "sign-blob": lambda w, o: ["sign-blob", "--instance", str(w.instance), *o, str(w.file)],
    "attest": lambda w, o: ["attest", "--instance", str(w.instance), "--type", "custom",
                            "--predicate", str(w.predicate), *o, w.image_by_digest],
    "attest-blob": lambda w, o: ["attest-blob", "--instance", str(w.instance), "--type", "custom",
                                 "--predicate", str(w.predicate), *o, "--bundle", str(w.root / "unused.json"),
                                 str(w.file)],
}

ISSUER = "https://oidc.labkit.invalid"


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize("identity", [
    ["--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", ISSUER],
    ["--certificate-identity", "alice@example.com"],
    ["--certificate-oidc-issuer-regexp", ".*"],
], ids=["identity-and-issuer", "identity-only", "issuer-regexp-only"])
def test_key_with_identity_is_refused_the_same_way_everywhere(identity: list[str], workspace: Workspace,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    errors = {name: _error(argv(workspace, ["--key", str(workspace.pub), *identity]), capsys)
              for name, argv in VERIFIERS.items()}
    assert len(set(errors.values())) == 1, errors
    message = next(iter(errors.values()))
    assert message.startswith("error: give either --key or --certificate-identity") and "not both" in message


@pytest.mark.parametrize("options", [
    [],
    ["--certificate-identity", "alice@example.com"],
    ["--certificate-identity", "a@example.com", "--certificate-identity-regexp", ".*",
     "--certificate-oidc-issuer", ISSUER],
], ids=["nothing", "no-issuer", "identity-twice"])
def test_incomplete_identity_is_refused_the_same_way_everywhere(options: list[str], workspace: Workspace,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    errors = {name: _error(argv(workspace, options), capsys) for name, argv in VERIFIERS.items()}
    assert len(set(errors.values())) == 1, errors


def test_key_with_keyless_identity_is_refused_by_every_signer(workspace: Workspace,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    errors = {name: _error(argv(workspace, ["--key", str(workspace.key), "--identity", "bob@example.com"]), capsys)
              for name, argv in SIGNERS.items()}
    assert len(set(errors.values())) == 1, errors
    assert "exclude each other" in next(iter(errors.values()))


@pytest.mark.parametrize("name", sorted(SIGNERS))
def test_identity_must_be_the_tokens_identity(name: str, workspace: Workspace,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with Instance.open(workspace.instance) as inst:
        alice = inst.issuer.mint("alice@example.com")
        size = inst.tlog.size
    err = _error(SIGNERS[name](workspace, ["--identity", "bob@example.com", "--identity-token", alice]), capsys)
    assert err == ("error: --identity bob@example.com does not match the identity token, "
                   "which names alice@example.com")
    with Instance.open(workspace.instance) as inst:
        assert inst.tlog.size == size  # nothing signed, nothing logged


def test_identity_and_its_own_token_sign(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    with Instance.open(workspace.instance) as inst:
        alice = inst.issuer.mint("alice@example.com")
    bundle = workspace.root / "alice.json"
    assert main(["sign-blob", "--instance", str(workspace.instance), "--identity", "alice@example.com",
                 "--identity-token", alice, "--bundle", str(bundle), str(workspace.file)]) == 0
    assert main(["verify-blob", "--instance", str(workspace.instance), "--bundle", str(bundle),
                 "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", ISSUER,
                 str(workspace.file)]) == 0
