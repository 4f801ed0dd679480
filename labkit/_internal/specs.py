"""Public addresses of the specifications that step tables cite, and the spec cell rendered with links.

A step's ``spec`` is free text such as ``"C2SP tlog-checkpoint; RFC 9162"`` or
``"protobuf-specs sigstore_rekor.proto TransparencyLogEntry (GHSA-whqx-f9j3-ch6m)"``.
`spec_link` gives the address of the first name it recognises; `spec_markup`
escapes the whole text and turns every recognised name into a link. It lives in
`_internal` so that the checklist markup (below `labkit.checks`) can use it.
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Callable

__all__ = ["spec_link", "spec_markup", "spec_names"]

_PROTOS = "https://github.com/sigstore/protobuf-specs/blob/main/protos/"
_C2SP = "https://github.com/C2SP/C2SP/blob/main/"


def _rfc(m: re.Match[str]) -> str:
    section = m.group(2)
    anchor = f"#section-{section.rstrip('.')}" if section else ""
    return f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}.html{anchor}"


def _fixed(url: str) -> Callable[[re.Match[str]], str]:
    return lambda _m: url


#: (pattern, address builder), tried in this order; the first match at a position wins.
_NAMES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"RFC (\d{1,5})(?: §(\d+(?:\.\d+)*))?"), _rfc),
    (re.compile(r"C2SP ([a-z0-9]+-[a-z0-9-]+)"), lambda m: f"{_C2SP}{m.group(1)}.md"),
    (re.compile(r"protobuf-specs (sigstore_[a-z_]+)\.proto"), lambda m: f"{_PROTOS}{m.group(1)}.proto"),
    (re.compile(r"protobuf-specs Bundle"), _fixed(_PROTOS + "sigstore_bundle.proto")),
    (re.compile(r"GHSA(?:-[0-9a-z]{4}){3}"), lambda m: f"https://github.com/advisories/{m.group(0)}"),
    (re.compile(r"CVE-\d{4}-\d{4,7}"), lambda m: f"https://www.cve.org/CVERecord?id={m.group(0)}"),
    (re.compile(r"DSSE v1(?: PAE| protocol)?"),
     _fixed("https://github.com/secure-systems-lab/dsse/blob/master/protocol.md")),
    (re.compile(r"in-toto Statement v1"),
     _fixed("https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md")),
    (re.compile(r"in-toto attestation framework"),
     _fixed("https://github.com/in-toto/attestation/blob/main/spec/README.md")),
    (re.compile(r"Fulcio certificate specification"),
     _fixed("https://github.com/sigstore/fulcio/blob/main/docs/certificate-specification.md")),
    (re.compile(r"Sigstore client spec"),
     _fixed("https://github.com/sigstore/architecture-docs/blob/main/client-spec.md")),
    (re.compile(r"cosign (SIGNATURE_SPEC|BUNDLE_SPEC)\.md"),
     lambda m: f"https://github.com/sigstore/cosign/blob/main/specs/{m.group(1)}.md"),
    (re.compile(r"OCI distribution-spec v1\.1(?: §Referrers)?"),
     _fixed("https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers")),
    (re.compile(r"OCI image-spec"), _fixed("https://github.com/opencontainers/image-spec/blob/main/spec.md")),
    (re.compile(r"Rekor v1(?: types| SET| signEntry| log ID)?"), _fixed("https://github.com/sigstore/rekor")),
    (re.compile(r"NaCl crypto_secretbox(?:_open)?"), _fixed("https://nacl.cr.yp.to/secretbox.html")),
    (re.compile(r"go-securesystemslib encrypted"),
     _fixed("https://github.com/secure-systems-lab/go-securesystemslib/tree/main/encrypted")),
    (re.compile(r"TUF specification"), _fixed("https://theupdateframework.github.io/specification/latest/")),
    (re.compile(r"https://[A-Za-z0-9./_~%-]+[A-Za-z0-9/_~%-]"), lambda m: m.group(0)),
)


def _matches(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, address) of every recognised name in `text`, in order."""
    found: list[tuple[int, int, str]] = []
    for pattern, address in _NAMES:
        for m in pattern.finditer(text):
            if not any(m.start() < end and start < m.end() for start, end, _ in found):
                found.append((m.start(), m.end(), address(m)))
    return sorted(found)


def spec_names(text: str) -> list[tuple[str, str]]:
    """Every recognised spec name in `text` with its public address, in order."""
    return [(text[start:end], url) for start, end, url in _matches(text)]


def spec_link(name: str) -> str:
    """The public address of the first spec `name` cites (``""`` when labkit knows none)."""
    found = _matches(name)
    return found[0][2] if found else ""


def spec_markup(text: str) -> str:
    """`text` HTML-escaped, each recognised spec name a link that opens in a new tab."""
    out: list[str] = []
    pos = 0
    for start, end, url in _matches(text):
        out.append(_html.escape(text[pos:start], quote=True))
        out.append(
            f'<a href="{_html.escape(url, quote=True)}" target="_blank" rel="noopener" '
            f'style="color:var(--jp-content-link-color, #1a5fb4)">{_html.escape(text[start:end], quote=True)}</a>'
        )
        pos = end
    out.append(_html.escape(text[pos:], quote=True))
    return "".join(out)
