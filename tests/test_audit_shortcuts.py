"""ADR 0008: the per-bundle shortcuts of the audit round give the answers of the readings they replace.

Each test runs the shortcut and the general reading it stands for over the same inputs (good and bad) and
asserts the same value, or the same exception type and message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from labkit._internal import fsutil, jsonio
from labkit._internal.jsonio import JSONValue
from labkit.audit import AnyOf
from labkit.bundle import Bundle
from labkit.checks import CheckResult, Step, StepStatus
from labkit.errors import InputError, LabkitError, ProofError
from labkit.tlog import checkpoint, merkle
from labkit.verify import TrustedRoot, fulcio
from labkit.verify._certs import (
    CertificateCheckError,
    _extension,
    _is_ca,
    build_chain,
    check_leaf_profile,
    verify_scts,
)
from labkit.verify.policy import AnyIdentity, Identity, github_rules
from labkit.verify.verifier import explain_bundle
from tests.verify.helpers import conformance_leaves

VENDOR = Path(__file__).resolve().parent / "vendor" / "conformance"

_DOCUMENTS = [
    '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "b": 1}}',
    "[NaN]",
    "-Infinity",
    '\ufeff{"a": 1}',
    '{"a": 1',
    "[" * 200 + "]" * 200,
    '"\\ud800"',
    '{"k": 1e400, "n": -0, "s": "\\u00e9"}',
    "",
    "  [1, 2]  x",
]


def _outcome(call: Callable[[], object]) -> tuple[str, str]:
    try:
        return "value", repr(call())
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("text", _DOCUMENTS)
@pytest.mark.parametrize("duplicates", [False, True])
def test_prebuilt_decoder_is_json_loads(text: str, duplicates: bool) -> None:
    """`jsonio._decode` (a decoder built once) answers as ``json.loads`` with the same hooks."""
    hook = jsonio._pairs_without_duplicates if duplicates else None
    general = _outcome(lambda: json.loads(text, parse_constant=jsonio._no_constant, object_pairs_hook=hook))
    assert _outcome(lambda: jsonio._decode(text, duplicates)) == general
    # and twice in a row: the decoder keeps nothing from one document to the next
    assert _outcome(lambda: jsonio._decode(text, duplicates)) == general


def _loads_before(data: bytes | str, duplicates: bool) -> JSONValue:
    """`jsonio.loads` as it read before ADR 0008: ``json.loads`` with hooks, the surrogate regex over all text."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    hook = jsonio._pairs_without_duplicates if duplicates else None
    try:
        value: JSONValue = json.loads(text, parse_constant=jsonio._no_constant, object_pairs_hook=hook)
    except RecursionError:
        raise InputError(f"JSON document is nested more than {jsonio.MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise InputError(f"JSON document is not valid JSON: {exc}") from None
    if text.count("[") + text.count("{") > jsonio.MAX_DEPTH:
        jsonio.check_depth(value)
    if jsonio._SURROGATE_ESCAPE.search(text):
        jsonio._check_strings(value, what="JSON document", error=InputError)
    return value


def _loads_outcome(call: Callable[[], JSONValue]) -> tuple[str, str]:
    try:
        return "value", repr(call())
    except InputError as exc:
        return "error", exc.message


@pytest.mark.parametrize("text", [*_DOCUMENTS, '["\\ud800"]', '["\\u00e9", "\\\\u"]', '{"\\uDFFF": 1}',
                                  '["\\uD83D\\uDE00"]', '"u\\\\"', "[" * 70 + "]" * 70])
@pytest.mark.parametrize("duplicates", [False, True])
def test_bounded_reader_answers_as_before(text: str, duplicates: bool) -> None:
    """`jsonio.loads` (prebuilt decoders, surrogate regex only where a ``\\u`` occurs) answers as before."""
    for data in (text, text.encode("utf-8")):
        now = _loads_outcome(functools.partial(jsonio.loads, data, reject_duplicate_keys=duplicates))
        assert now == _loads_outcome(functools.partial(_loads_before, data, duplicates))


@pytest.mark.parametrize("text", ["a", "origin - 1", "a\tb", "x\x00", "\x1f", "\x7f\x80", "é\u2028", ""])
def test_control_and_space_searches_are_the_loops(text: str) -> None:
    assert checkpoint._has_control(text) == any(ord(c) < 0x20 for c in text)
    assert checkpoint._has_space(text) == any(c.isspace() for c in text)


def test_space_search_is_isspace_for_every_code_point() -> None:
    """``\\s`` of a str pattern and `str.isspace` agree on every code point (both are Py_UNICODE_ISSPACE)."""
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        assert checkpoint._has_space(c) == c.isspace(), hex(cp)
        assert checkpoint._has_control(c) == (cp < 0x20), hex(cp)


@pytest.mark.parametrize("bad", [b"\x00" * 31, b"\x00" * 33, bytearray(32), "x" * 32, None])
def test_proof_hash_check_still_names_the_hash(bad: object) -> None:
    """A proof hash that is not 32 bytes (or a bytearray, judged by the general check) gets the same answer."""
    leaf = merkle.leaf_hash(b"x")
    proof: list[object] = [merkle.leaf_hash(b"y"), bad]
    try:
        merkle._check_hash(bad, "proof hash 1")  # type: ignore[arg-type]
        expected: tuple[str, str] = ("ok", "")
    except ProofError as exc:
        expected = ("error", str(exc))
    try:
        merkle.root_from_inclusion_proof(0, 4, leaf, proof)  # type: ignore[arg-type]
        got: tuple[str, str] = ("ok", "")
    except ProofError as exc:
        got = ("error", str(exc))
    assert got == expected


def _steps(*statuses: StepStatus | str) -> list[Step]:
    return [Step(f"s{n}", "t", status=s) for n, s in enumerate(statuses)]  # type: ignore[arg-type]


@pytest.mark.parametrize("statuses", [
    (), (StepStatus.PASSED,), (StepStatus.PASSED, StepStatus.FAILED), (StepStatus.SKIPPED,) * 3,
    (StepStatus.PASSED, "failed"),  # a hand-built step with the plain string: not `failed` (identity), as before
])
def test_verified_is_the_step_walk(statuses: tuple[StepStatus | str, ...]) -> None:
    for complete in (True, False):
        result = CheckResult("x", _steps(*statuses), complete)
        assert result.verified == (complete and bool(result.steps) and not any(s.failed for s in result.steps))


_RULE_SETS = [
    (Identity(identity="a@example.com", issuer="https://issuer.example"),),
    (Identity(identity_regexp=".*", issuer_regexp=".*"), Identity(identity="x", issuer="y")),
    (Identity(identity="x", issuer_regexp=".*"), Identity(identity_regexp=".*", issuer_regexp="https://.*")),
    (Identity(identity_regexp=".*", issuer_regexp=".*",
              extensions=github_rules(owner="sigstore-conformance", workflow_trigger="push")),
     Identity(identity_regexp="https://.*", issuer_regexp=".*", extensions=github_rules(repo="a/b"))),
]


@pytest.mark.parametrize("rules", _RULE_SETS)
def test_any_of_reads_the_identity_once_with_the_same_verdict(rules: tuple[Identity, ...]) -> None:
    """`AnyOf.check` (identity read once for all rules) is the loop over each rule's own `check`."""
    policy = AnyOf(rules)
    for leaf in conformance_leaves():
        first = None
        for rule in rules:
            out = rule.check(leaf)
            if out.ok:
                break
            first = first or out
        expected = out if out.ok else first
        assert policy.check(leaf) == expected


@pytest.mark.parametrize("rules", _RULE_SETS)
def test_identity_description_is_written_once_the_same(rules: tuple[Identity, ...]) -> None:
    for rule in rules:
        assert rule.describe() == rule._describe()
        assert dataclasses.replace(rule).describe() == rule._describe()
        assert rule == dataclasses.replace(rule) and "_description" not in repr(rule)


def test_trust_root_step_is_the_same_on_every_bundle_and_a_bad_root_still_fails() -> None:
    """The ``trust_root.parse`` detail is written once per root; a root whose chain fails is refused every time."""
    case = VENDOR / "bundle-verify" / "happy-path-v0.3"
    bundle, artifact = (case / "bundle.sigstore.json").read_bytes(), (case.parent / "a.txt").read_bytes()
    root_json = (VENDOR / "trust-roots" / "production_trusted_root.json").read_bytes()
    root = TrustedRoot.from_json(root_json)
    fresh = explain_bundle(bundle, artifact, TrustedRoot.from_json(root_json), AnyIdentity()).steps[0]
    assert fresh.passed
    for _ in range(3):
        assert explain_bundle(bundle, artifact, root, AnyIdentity()).steps[0] == fresh
    bad = TrustedRoot.from_json(root_json)
    ca = bad.certificate_authorities[0]
    broken = dataclasses.replace(ca, chain_der=(ca.chain_der[-1], ca.chain_der[-1] + b"x"))
    bad = dataclasses.replace(bad, certificate_authorities=(broken, *bad.certificate_authorities[1:]))
    outcomes = [explain_bundle(bundle, artifact, bad, AnyIdentity()).steps[0] for _ in range(3)]
    assert outcomes[0].failed and outcomes[0].reason in ("trust_root.chain", "trust_root.invalid")
    assert outcomes == [outcomes[0]] * 3 and bad.derived.trust_detail is None


def _read_buffered(path: Path, what: str) -> tuple[str, bytes | str]:
    """The previous reading: a buffered ``open`` and ``read()``, with `read_bytes`'s messages."""
    try:
        with open(path, "rb") as fh:
            return "bytes", fh.read()
    except FileNotFoundError:
        return "error", f"{what} not found: {path}"
    except IsADirectoryError:
        return "error", f"{what} is a directory, not a file: {path}"
    except OSError as exc:
        return "error", f"cannot read {what} {path}: {exc.strerror}"


def test_unbuffered_whole_file_read_is_the_buffered_one(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "small").write_bytes(b"abc")
    (tmp_path / "large").write_bytes(bytes(range(256)) * 40_000)
    (tmp_path / "dir").mkdir()
    for name in ("empty", "small", "large", "dir", "missing"):
        path = tmp_path / name
        try:
            got: tuple[str, bytes | str] = ("bytes", fsutil.read_bytes(path, "artifact"))
        except InputError as exc:
            got = ("error", exc.message)
        assert got == _read_buffered(path, "artifact"), name


def test_sct_issuer_key_hash_lookup_gives_the_same_answer() -> None:
    """The stored issuer key hash is used for the root's own CA certificate, an equal copy of it, or computed anew."""
    case = VENDOR / "bundle-verify" / "happy-path-v0.3"
    bundle = Bundle.from_json((case / "bundle.sigstore.json").read_bytes())
    leaf = x509.load_der_x509_certificate(bundle.verification_material.certificate or b"")
    root_json = (VENDOR / "trust-roots" / "production_trusted_root.json").read_bytes()
    when = dt.datetime.fromtimestamp(bundle.verification_material.tlog_entries[0].integrated_time or 0, dt.timezone.utc)
    first = TrustedRoot.from_json(root_json)
    issuer = build_chain(leaf, first, when).chain[1]
    copy = x509.load_der_x509_certificate(issuer.public_bytes(Encoding.DER))
    roots = (first, TrustedRoot.from_json(root_json))
    answers = {verify_scts(leaf, i, r) for r in roots for i in (issuer, copy, issuer)}
    assert len(answers) == 1 and next(iter(answers)).startswith("SCT from ")
    with pytest.raises(LabkitError) as other:
        verify_scts(leaf, leaf, first)  # not a CA certificate of the root: hashed anew, and the SCT fails
    assert other.value.reason == "certificate.sct"  # type: ignore[attr-defined]


def _fulcio_by_dotted_string(cert: x509.Certificate) -> dict[str, str]:
    """The previous reading of `fulcio_extensions`: each extension's OID looked up by its dotted string."""
    by_dotted = {e.oid: e for e in fulcio.FULCIO_EXTENSIONS}
    out: dict[str, str] = {}
    for ext in cert.extensions:
        known = by_dotted.get(ext.oid.dotted_string)
        if known is None or not isinstance(ext.value, x509.UnrecognizedExtension):
            continue
        value = fulcio._decode(known, ext.value.value)
        out[known.name] = value if value is not None else f"(undecodable: {ext.value.value.hex()})"
    return out


def _certificate_with_arc_extensions() -> x509.Certificate:
    """A self-signed certificate carrying every OID of the Fulcio arc 1-25 (DER, raw and undecodable values)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arc")])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(when).not_valid_after(when + dt.timedelta(days=1)))
    values = [b"\x0c\x05hello", b"raw text", b"\xff\xfe", b"\x0c\x03ab"]
    for n in range(1, 26):
        oid = x509.ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}")
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, values[n % len(values)]), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_fulcio_extensions_by_oid_object_are_the_dotted_reading() -> None:
    for cert in [*conformance_leaves(), _certificate_with_arc_extensions()]:
        fulcio._extensions.cache_clear()
        assert fulcio.fulcio_extensions(cert) == _fulcio_by_dotted_string(cert)


def _profile_by_lookups(leaf: x509.Certificate) -> None:
    """The previous `check_leaf_profile`: one `_extension` look-up per type (the reference of its gate)."""
    def fail(msg: str, **details: str) -> CertificateCheckError:
        return CertificateCheckError(msg, step="certificate.profile", reason="certificate.profile", details=details)

    if _is_ca(leaf):
        raise fail("the signing certificate is a CA certificate")
    try:
        sans = list(_extension(leaf, x509.SubjectAlternativeName))
    except x509.ExtensionNotFound:
        sans = []
    if len(sans) > 1:
        raise fail(
            f"the signing certificate carries {len(sans)} subject alternative names; the Fulcio profile allows one",
            expected="exactly 1 SAN", actual=", ".join(str(getattr(n, "value", n)) for n in sans),
        )
    try:
        ku = _extension(leaf, x509.KeyUsage)
    except x509.ExtensionNotFound:
        raise fail("the signing certificate has no key usage extension") from None
    if not ku.digital_signature:
        raise fail("the signing certificate's key usage lacks digitalSignature")
    try:
        eku = _extension(leaf, x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise fail("the signing certificate has no extended key usage extension") from None
    if x509.oid.ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise fail("the signing certificate's extended key usage lacks id-kp-codeSigning")


def _profile_outcome(check: Callable[[x509.Certificate], None], cert: x509.Certificate) -> tuple[str, ...]:
    try:
        check(cert)
    except LabkitError as exc:
        return type(exc).__name__, exc.message, repr(sorted(exc.details.items())), getattr(exc, "reason", "")
    except ValueError as exc:
        return "ValueError", str(exc)
    return ("ok",)


_KU = {"digital_signature": True, "content_commitment": False, "key_encipherment": False, "data_encipherment": False,
       "key_agreement": False, "key_cert_sign": False, "crl_sign": False, "encipher_only": False,
       "decipher_only": False}


def _profile_variants() -> list[x509.Certificate]:
    """Leaves that pass and fail each profile rule: CA flag, SAN count, key usage, extended key usage."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    code, server = x509.oid.ExtendedKeyUsageOID.CODE_SIGNING, x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
    one_san = x509.SubjectAlternativeName([x509.RFC822Name("a@example.com")])
    two_sans = x509.SubjectAlternativeName([x509.RFC822Name("a@example.com"), x509.DNSName("example.com")])
    shapes: list[list[x509.ExtensionType]] = [
        [one_san, x509.KeyUsage(**_KU), x509.ExtendedKeyUsage([code])],
        [x509.BasicConstraints(ca=False, path_length=None), one_san, x509.KeyUsage(**_KU),
         x509.ExtendedKeyUsage([code])],
        [x509.BasicConstraints(ca=True, path_length=None), one_san, x509.KeyUsage(**_KU)],
        [two_sans, x509.KeyUsage(**_KU), x509.ExtendedKeyUsage([code])],
        [x509.KeyUsage(**_KU), x509.ExtendedKeyUsage([code])],
        [one_san, x509.ExtendedKeyUsage([code])],
        [one_san, x509.KeyUsage(**{**_KU, "digital_signature": False, "key_agreement": True})],
        [one_san, x509.KeyUsage(**_KU)],
        [one_san, x509.KeyUsage(**_KU), x509.ExtendedKeyUsage([server])],
        [x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), one_san, x509.KeyUsage(**_KU),
         x509.ExtendedKeyUsage([server, code])],
    ]
    out = []
    for exts in shapes:
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(7).not_valid_before(when).not_valid_after(when + dt.timedelta(days=1)))
        for ext in exts:
            builder = builder.add_extension(ext, critical=False)
        out.append(builder.sign(key, hashes.SHA256()))
    return out


def test_leaf_profile_in_one_pass_is_the_lookups() -> None:
    """`check_leaf_profile` (extensions read in one pass) answers as one `_extension` look-up per type."""
    certs = [*conformance_leaves(), *_profile_variants()]
    outcomes = {_profile_outcome(check_leaf_profile, c) for c in certs}
    assert len(outcomes) >= 6  # passes and each kind of refusal are exercised
    for cert in certs:
        assert _profile_outcome(check_leaf_profile, cert) == _profile_outcome(_profile_by_lookups, cert)


def test_repeated_log_entry_still_refused_and_one_entry_not_hashed_for_it() -> None:
    """A single entry skips the repeat test (one entry cannot repeat); two equal entries are still refused."""
    case = VENDOR / "bundle-verify" / "happy-path-v0.3"
    doc = json.loads((case / "bundle.sigstore.json").read_bytes())
    artifact = (case.parent / "a.txt").read_bytes()
    root = TrustedRoot.from_json((VENDOR / "trust-roots" / "production_trusted_root.json").read_bytes())
    one = explain_bundle(json.dumps(doc), artifact, root, AnyIdentity())
    assert one.verified and one.step("tlog.entries") is not None
    doc["verificationMaterial"]["tlogEntries"] *= 2
    two = explain_bundle(json.dumps(doc), artifact, root, AnyIdentity())
    failed = two.failed_step
    assert failed is not None and (failed.id, failed.reason) == ("tlog.entries", "tlog.duplicate")
    assert failed.detail == "the bundle repeats a log entry"
