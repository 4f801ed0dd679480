"""Lesson primitives: an intended failure as a card, the CLI twin, spec links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from labkit.checks import CheckResult, Step, StepStatus
from labkit.display import checklist, cli_twin, expected_failure, failure_card, spec_link
from labkit.display.lesson import FailureDidNotHappen, spec_markup, step_table
from labkit.errors import LabkitError, PasswordError, VerificationError
from labkit.verify.verifier import STEPS

LESSON = "A wrong password never yields a key."


def _wrong_password() -> None:
    raise PasswordError("decryption failed: wrong password", details={"kdf": "scrypt"})


def _literal_colours_only(markup: str) -> list[str]:
    """Colour declarations that use a literal colour without a CSS variable."""
    decls = re.findall(r"(?:^|[;\"])\s*((?:color|background|border(?:-left)?)\s*:[^;\"]*)", markup)
    return [d for d in decls if re.search(r"#[0-9a-fA-F]{3,6}\b", d) and "var(--" not in d]


def test_expected_failure_shows_the_error_hint_and_lesson_without_a_traceback() -> None:
    card = expected_failure(_wrong_password, lesson=LESSON)
    assert "PasswordError" in card.html and "decryption failed: wrong password" in card.html
    assert "Check the password" in card.html  # the class hint
    assert "scrypt" in card.html  # details
    assert LESSON in card.html and LESSON in card.text
    assert "Traceback" not in card.html and "File " not in card.html


def test_expected_failure_names_the_failed_step() -> None:
    def fails() -> None:
        raise VerificationError("the entry records another artifact", step="binding.digest", reason="binding.digest")

    card = expected_failure(fails, lesson="The log entry binds the artifact.")
    assert "failed step" in card.html and "binding.digest" in card.html
    assert "failed step: binding.digest" in card.text


def test_a_step_named_in_the_details_is_shown_once() -> None:
    def fails() -> None:
        raise LabkitError("token has expired", details={"step": "token.time", "expected": "nbf <= now < exp"})

    card = expected_failure(fails, lesson="No token, no certificate.")
    assert "failed step: token.time" in card.text and card.text.count("token.time") == 1
    assert "expected: nbf <= now < exp" in card.text


def test_an_intended_failure_that_does_not_happen_is_an_error() -> None:
    with pytest.raises(FailureDidNotHappen) as info:
        expected_failure(lambda: 42, lesson=LESSON)
    assert isinstance(info.value, LabkitError)
    assert LESSON in info.value.diagnostics()


def test_other_exceptions_are_bugs_and_propagate() -> None:
    def broken() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        expected_failure(broken, lesson=LESSON)


def test_expected_failure_is_deterministic_and_escapes() -> None:
    def fails() -> None:
        raise LabkitError("<script>alert(1)</script>")

    a, b = expected_failure(fails, lesson="x < y"), expected_failure(fails, lesson="x < y")
    assert a.html == b.html
    assert "<script>" not in a.html and "x &lt; y" in a.html


def test_cli_twin_is_copyable_code_without_widgets() -> None:
    twin = cli_twin("labkit verify-blob --key k.pub --bundle a.bundle a.txt")
    assert "<code" in twin.html and "labkit verify-blob --key k.pub --bundle a.bundle a.txt</code>" in twin.html
    assert "navigator.clipboard.writeText" in twin.html and "<button" in twin.html
    assert "application/vnd.jupyter.widget" not in twin.html and " id=" not in twin.html
    assert twin.text == "$ labkit verify-blob --key k.pub --bundle a.bundle a.txt"
    assert cli_twin("labkit x").html == cli_twin("labkit x").html


@pytest.mark.parametrize("render", [
    lambda: expected_failure(_wrong_password, lesson=LESSON),
    lambda: cli_twin("labkit version"),
])
def test_lesson_markup_uses_theme_variables(render: object) -> None:
    markup = render().html  # type: ignore[operator]
    assert "var(--jp-" in markup
    assert _literal_colours_only(markup) == []
    ET.fromstring(markup.replace("&nbsp;", " "))  # well-formed


@pytest.mark.parametrize(("name", "url"), [
    ("RFC 9162 §2.1.3.2", "https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.2"),
    ("RFC 5280 §4.1.2.5", "https://www.rfc-editor.org/rfc/rfc5280.html#section-4.1.2.5"),
    ("RFC 3161", "https://www.rfc-editor.org/rfc/rfc3161.html"),
    ("C2SP tlog-checkpoint; RFC 9162", "https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md"),
    ("C2SP signed-note", "https://github.com/C2SP/C2SP/blob/main/signed-note.md"),
    ("protobuf-specs sigstore_rekor.proto TransparencyLogEntry",
     "https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_rekor.proto"),
    ("protobuf-specs Bundle", "https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto"),
    ("cosign verify-attestation --type (GHSA-vjxv-45g9-9296)", "https://github.com/advisories/GHSA-vjxv-45g9-9296"),
    ("DSSE v1 PAE; Sigstore client spec", "https://github.com/secure-systems-lab/dsse/blob/master/protocol.md"),
    ("in-toto Statement v1", "https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md"),
    ("predicate type https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v1"),
    ("no such spec", ""),
    ("the C2SP ones", ""),  # only a C2SP document name (it has a hyphen) is a link
])
def test_spec_link_maps_names_to_public_addresses(name: str, url: str) -> None:
    assert spec_link(name) == url


def test_every_bundle_step_cites_a_linked_spec() -> None:
    unlinked = [step for step, (_title, spec) in STEPS.items() if not spec_link(spec)]
    assert unlinked == []


def test_spec_markup_links_every_name_and_escapes_the_rest() -> None:
    markup = spec_markup("protobuf-specs sigstore_rekor.proto TransparencyLogEntry (GHSA-whqx-f9j3-ch6m) <b>")
    assert markup.count("<a href=") == 2
    assert "&lt;b&gt;" in markup
    assert 'target="_blank" rel="noopener"' in markup


def test_checklist_and_failure_card_link_the_spec_column() -> None:
    steps = [
        Step("tlog.inclusion_proof", "The inclusion proof leads to the root hash", "RFC 9162 §2.1.3.2",
             StepStatus.FAILED, expected="a", actual="b"),
    ]
    url = 'href="https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.2"'
    assert url in checklist(steps).html
    assert url in failure_card(CheckResult("x", steps)).html


def test_step_table_lists_every_check_in_order_with_linked_specs() -> None:
    shown = step_table(STEPS, title="labkit.verify.STEPS")
    positions = [shown.html.index(f">{step_id}<") for step_id in STEPS]
    assert positions == sorted(positions)
    assert shown.html.count("<a href=") >= len(STEPS)
    assert _literal_colours_only(shown.html) == []
    ET.fromstring(shown.html)
