"""The course's pictures: valid SVG, same bytes every time, the labels present, theme colours only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from labkit.display import pictures
from labkit.display.html import HTML
from labkit.verify.verifier import STEPS

SVG = "{http://www.w3.org/2000/svg}"

BUNDLE = {
    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": {
        "certificate": {"rawBytes": "MIIC"},
        "tlogEntries": [{"logIndex": "1", "inclusionProof": {"checkpoint": {"envelope": "x"}, "hashes": ["a"]},
                         "canonicalizedBody": "e30="}],
    },
    "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "q"}, "signature": "MEU"},
}

#: Each picture and labels it must show.
PICTURES: dict[str, tuple[Callable[[], HTML], tuple[str, ...]]] = {
    "lab_parts": (pictures.lab_parts, ("OIDC issuer", "transparency log", "OCI registry", "verifier",
                                       "admission policy", "certificate authority")),
    "keyless_flow": (pictures.keyless_flow, ("OIDC token", "CA (Fulcio)", "certificate", "transparency log",
                                             "bundle", "verifier")),
    "bundle_anatomy": (lambda: pictures.bundle_anatomy(BUNDLE), ("verificationMaterial", "tlogEntries[1]",
                                                                 "inclusionProof", "checkpoint", "messageSignature",
                                                                 "binding.*", "tlog.inclusion_proof")),
    "check_groups": (pictures.check_groups, tuple(STEPS)),
    "attestation_nesting": (pictures.attestation_nesting, ("predicate", "in-toto Statement v1", "DSSE envelope",
                                                           "Sigstore bundle", ".att")),
    "admission_flow": (pictures.admission_flow, ("kubectl apply", "API server", "admission controller",
                                                 "allow or deny")),
    "tag_swap_race": (pictures.tag_swap_race, ("victim", "attacker", "re-point app:1.0", "2nd resolution")),
    "tag_swap_fixed": (lambda: pictures.tag_swap_race(fixed=True), ("the only time", "pull app@sha256:good")),
    "forgery": (pictures.forgery, ("SET (genuine)", "binding.digest", "vulnerable cosign")),
}


def _texts(root: ET.Element) -> str:
    return "\n".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("name", PICTURES)
def test_picture_is_valid_svg_with_its_labels(name: str) -> None:
    render, labels = PICTURES[name]
    picture = render()
    root = ET.fromstring(picture.html)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None
    shown = _texts(root)
    missing = [label for label in labels if label not in shown]
    assert missing == [], f"{name}: labels missing from the picture: {missing}"
    assert all(label in picture.text for label in labels[:2]), "the text form names the parts too"


@pytest.mark.parametrize("name", PICTURES)
def test_picture_is_deterministic(name: str) -> None:
    render, _ = PICTURES[name]
    assert render().html == render().html
    markup = render().html
    assert " id=" not in markup and "url(#" not in markup, "no document-wide ids (two pictures on a page)"


@pytest.mark.parametrize("name", PICTURES)
def test_picture_colours_follow_the_theme(name: str) -> None:
    render, _ = PICTURES[name]
    markup = render().html
    colours = re.findall(r"(?:fill|stroke|color):([^;\"]+)", markup)
    assert colours
    literal = [c for c in colours if not (c.startswith("var(--jp-") or c in {"currentColor", "none"})]
    assert literal == [], f"{name}: literal colours without a theme variable: {sorted(set(literal))}"
    assert "currentColor" in markup


def test_check_groups_are_drawn_from_the_step_table() -> None:
    shown = _texts(ET.fromstring(pictures.check_groups().html))
    assert f"{len(STEPS)} checks" in shown
    ids = [i for i in re.findall(r"^[a-z_]+(?:\.[a-z0-9_*]+)*$", shown, re.MULTILINE) if i in STEPS]
    assert ids == list(STEPS), "every check appears once, in the order it runs"
    fewer = pictures.check_groups({k: v for k, v in STEPS.items() if not k.startswith("timestamp")})
    assert "timestamp.rfc3161" not in fewer.html and f"{len(STEPS) - 1} checks" in fewer.html


def test_bundle_anatomy_draws_the_given_bundle() -> None:
    other = pictures.bundle_anatomy({**BUNDLE, "dsseEnvelope": {"payloadType": "t"}})
    assert "dsseEnvelope" in other.html and "dsseEnvelope" not in pictures.bundle_anatomy(BUNDLE).html
