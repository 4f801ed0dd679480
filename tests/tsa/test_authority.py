"""The IO-free responder: what it grants (judged by rfc3161-client and labkit's verifier) and what it refuses."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import rfc3161_client
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit._internal import der
from labkit._internal.cms_fastpath import cms_signature_ok
from labkit.errors import VerificationError
from labkit.keys import generate
from labkit.lab import FixedClock, Lab
from labkit.tsa import (
    LAB_POLICY_OID,
    MAX_REQUEST_BYTES,
    FailureInfo,
    TimestampAuthority,
    TSAError,
    build_request,
    create_tsa,
)
from labkit.verify.timestamp import verify_timestamp
from tests.tsa.conftest import response_status as _status
from tests.tsa.conftest import root_with

_SHA256 = "2.16.840.1.101.3.4.2.1"


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
def test_rfc3161_client_parses_and_verifies(tsa: TimestampAuthority, hash_name: str) -> None:
    reply = rfc3161_client.decode_timestamp_response(tsa.timestamp(b"sig", hash_name=hash_name, nonce=2**70 + 5))
    info = reply.tst_info
    assert reply.status == 0 and info.version == 1 and info.nonce == 2**70 + 5
    assert info.policy.dotted_string == LAB_POLICY_OID
    assert info.message_imprint.message == hashlib.new(hash_name, b"sig").digest()
    assert info.gen_time.replace(tzinfo=dt.timezone.utc) == dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    assert info.accuracy.seconds == 1
    assert [x509.load_der_x509_certificate(c) for c in reply.signed_data.certificates] == [tsa.chain[0]]
    verifier = rfc3161_client.VerifierBuilder(tsa_certificate=tsa.chain[0], roots=[tsa.chain[-1]], nonce=2**70 + 5,
                                              policy_id=x509.ObjectIdentifier(LAB_POLICY_OID)).build()
    assert verifier.verify_message(reply, b"sig")


def test_sigstore_python_style_request_is_granted(tsa: TimestampAuthority) -> None:
    """sigstore-python asks with rfc3161-client's builder (SHA-256, nonce, certReq) and verifies from the request."""
    request = rfc3161_client.TimestampRequestBuilder().data(b"sig").hash_algorithm(
        rfc3161_client.HashAlgorithm.SHA256).build()
    reply = rfc3161_client.decode_timestamp_response(tsa.respond(request.as_bytes()))
    builder = rfc3161_client.VerifierBuilder.from_request(request)
    verifier = builder.tsa_certificate(tsa.chain[0]).add_root_certificate(tsa.chain[-1]).build()
    assert verifier.verify_message(reply, b"sig")


def test_labkit_verifier_accepts_it_against_a_trusted_root(tsa: TimestampAuthority) -> None:
    root = root_with(tsa)
    for cert_req in (True, False):
        stamp = verify_timestamp(tsa.timestamp(b"sig", cert_req=cert_req), b"sig", root)
        assert stamp.time == dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    with pytest.raises(VerificationError) as info:
        verify_timestamp(tsa.timestamp(b"other"), b"sig", root)
    assert getattr(info.value, "reason", "") == "timestamp.imprint_mismatch"
    other = TimestampAuthority.create(lab=Lab(seed="someone else"))
    with pytest.raises(VerificationError) as info:
        verify_timestamp(other.timestamp(b"sig"), b"sig", root)
    assert getattr(info.value, "reason", "") == "timestamp.untrusted"


def test_labkit_fast_path_takes_it() -> None:
    """The verifier's fast CMS check (not only the rfc3161-client fallback) accepts labkit's tokens."""
    from labkit.verify import timestamp as vt

    tsa = TimestampAuthority.create(lab=Lab(seed="fast"))
    anchor = vt._tsa_anchor(root_with(tsa).timestamp_authorities[0])
    assert anchor is not None
    assert cms_signature_ok(tsa.timestamp(b"sig"), anchor)
    assert cms_signature_ok(tsa.timestamp(b"sig", cert_req=False), anchor)


def test_certreq_controls_the_embedded_certificate(tsa: TimestampAuthority) -> None:
    def certificates(cert_req: bool) -> list[bytes]:
        reply = rfc3161_client.decode_timestamp_response(tsa.timestamp(b"x", cert_req=cert_req))
        return list(reply.signed_data.certificates)

    assert len(certificates(True)) == 1 and not certificates(False)


def test_signed_attributes_bind_the_tsa_certificate(tsa: TimestampAuthority) -> None:
    """content-type, message-digest and ESS signing-certificate-v2 (RFC 5816) over SHA-256 of the leaf."""
    token = der.children(der.parse(tsa.timestamp(b"x")))[1]
    signed_data = der.children(der.children(der.children(token)[1])[0])
    signer = der.children(der.children(signed_data[-1])[0])
    attrs = {der.decode_oid(der.children(a)[0]): der.children(a)[1] for a in der.children(signer[3])}
    assert set(attrs) == {"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.16.2.47"}
    leaf_hash = hashlib.sha256(tsa.chain[0].public_bytes(serialization.Encoding.DER)).digest()
    assert der.octet_string(leaf_hash) in attrs["1.2.840.113549.1.9.16.2.47"].raw


def test_serials_are_unique_and_lab_output_is_deterministic() -> None:
    a = TimestampAuthority.create(lab=Lab(seed="det"))
    b = TimestampAuthority.create(lab=Lab(seed="det"))
    replies = [a.timestamp(b"x", nonce=1) for _ in range(50)]
    assert replies == [b.timestamp(b"x", nonce=1) for _ in range(50)]
    serials = {rfc3161_client.decode_timestamp_response(r).tst_info.serial_number for r in replies}
    assert len(serials) == 50 and all(0 < s < 2**159 for s in serials)
    assert a.lab and "LAB" in repr(a)


def test_real_tsa_is_random_and_uses_the_clock() -> None:
    a, b = TimestampAuthority.create(), TimestampAuthority.create()
    assert not a.lab and a.chain[0] != b.chain[0]
    when = rfc3161_client.decode_timestamp_response(a.timestamp(b"x")).tst_info.gen_time
    assert abs(when.replace(tzinfo=dt.timezone.utc) - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)


def test_gen_time_comes_from_the_injected_clock() -> None:
    clock = FixedClock(dt.datetime(2027, 3, 4, 5, 6, 7, 250000, tzinfo=dt.timezone.utc))
    material = create_tsa(lab=Lab(seed="clock"), now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    tsa = TimestampAuthority(material.signing_key, material.chain, clock=clock)
    info = rfc3161_client.decode_timestamp_response(tsa.timestamp(b"x")).tst_info
    assert info.gen_time.replace(tzinfo=dt.timezone.utc) == clock.now().replace(microsecond=0)


def _imprint(oid: str, digest: bytes, params: bytes = b"") -> bytes:
    return der.sequence(der.sequence(der.oid(oid), params), der.octet_string(digest))


_GOOD_IMPRINT = _imprint(_SHA256, b"\x11" * 32)


@pytest.mark.parametrize(("request_der", "fail_info"), [
    (der.sequence(der.integer(1), _imprint("1.3.14.3.2.26", b"\x11" * 20)), FailureInfo.BAD_ALG),  # SHA-1
    (der.sequence(der.integer(1), _imprint("1.2.840.113549.2.5", b"\x11" * 16)), FailureInfo.BAD_ALG),  # MD5
    (der.sequence(der.integer(1), _imprint("1.2.3.4", b"\x11" * 32)), FailureInfo.BAD_ALG),
    (der.sequence(der.integer(1), _imprint(_SHA256, b"\x11" * 32, der.integer(0))), FailureInfo.BAD_ALG),
    (der.sequence(der.integer(1), _imprint(_SHA256, b"\x11" * 31)), FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(2), _GOOD_IMPRINT), FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1)), FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1), _GOOD_IMPRINT, der.utf8_string("?")), FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1), _GOOD_IMPRINT, der.tlv(0x01, b"\x01")), FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1), _GOOD_IMPRINT, der.oid("1.2.3")), FailureInfo.UNACCEPTED_POLICY),
    (der.sequence(der.integer(1), _GOOD_IMPRINT, der.context(0, der.sequence())), FailureInfo.UNACCEPTED_EXTENSION),
    (b"", FailureInfo.BAD_DATA_FORMAT),
    (b"\x30\x80\x02\x01\x01\x00\x00", FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1), _GOOD_IMPRINT) + b"\x00", FailureInfo.BAD_DATA_FORMAT),
    (der.sequence(der.integer(1), _GOOD_IMPRINT, der.octet_string(bytes(MAX_REQUEST_BYTES))), FailureInfo.BAD_REQUEST),
])
def test_bad_requests_get_a_failure_status_and_no_token(tsa: TimestampAuthority, request_der: bytes,
                                                        fail_info: FailureInfo) -> None:
    response = tsa.respond(request_der)
    assert _status(response) == (2, fail_info, False)
    parsed = rfc3161_client.decode_timestamp_response(response)  # the outside parser reads it too
    assert parsed.status == 2 and parsed.status_string


def test_requested_policy_is_honoured(tsa: TimestampAuthority) -> None:
    reply = rfc3161_client.decode_timestamp_response(tsa.respond(build_request(b"x", policy=LAB_POLICY_OID)))
    assert reply.status == 0 and reply.tst_info.policy.dotted_string == LAB_POLICY_OID


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_raises_and_is_never_signed(tsa: TimestampAuthority, data: bytes) -> None:
    status, fail, token = _status(tsa.respond(data))
    assert status == 2 and not token and fail is not None


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.data())
def test_mutated_valid_requests_never_raise(tsa: TimestampAuthority, data: st.DataObject) -> None:
    request = bytearray(build_request(b"x", nonce=7))
    i = data.draw(st.integers(0, len(request) - 1))
    request[i] = data.draw(st.integers(0, 255))
    status, _, token = _status(tsa.respond(bytes(request)))
    assert token == (status == 0)


def test_key_and_chain_are_checked() -> None:
    material = create_tsa(lab=Lab(seed="checks"))
    with pytest.raises(TSAError, match="does not certify"):
        TimestampAuthority(generate("ecdsa-p256", lab=Lab(seed="other")), material.chain)
    with pytest.raises(TSAError, match="ECDSA"):
        TimestampAuthority(generate("ed25519", lab=Lab(seed="other")), material.chain)
    with pytest.raises(TSAError, match="id-kp-timeStamping"):
        assert material.root_key is not None
        TimestampAuthority(material.root_key, material.chain[1:])  # the root has no timestamping EKU
    with pytest.raises(TSAError):
        TimestampAuthority(material.signing_key, ())


def test_explain_lists_every_step_and_enforce_names_the_failed_one(tsa: TimestampAuthority) -> None:
    from labkit.tsa import RequestRefused, parse_request

    good = tsa.explain(build_request(b"x", nonce=3))
    assert good.verified and good.request is not None and good.request.nonce == 3
    assert [s.id for s in good] == ["request.size", "request.der", "request.version", "imprint.algorithm",
                                    "imprint.length", "request.policy", "request.extensions"]
    bad = tsa.explain(build_request(b"x", policy="1.2.3"))
    assert bad.request is None and bad.fail_info is FailureInfo.UNACCEPTED_POLICY
    assert bad.verdict == "REFUSED (unacceptedPolicy)" and bad.failed_step is not None
    assert bad.failed_step.id == "request.policy" and bad.failed_step.actual == "1.2.3"
    assert "[skip]" in bad.checklist()
    with pytest.raises(RequestRefused) as info:
        parse_request(build_request(b"x", policy="1.2.3"), policies={LAB_POLICY_OID})
    assert info.value.step == "request.policy" and info.value.fail_info is FailureInfo.UNACCEPTED_POLICY
    assert "failInfo: unacceptedPolicy" in info.value.diagnostics()
    assert parse_request(build_request(b"x", policy="1.2.3")).policy == "1.2.3"  # no policy list: any


@pytest.mark.parametrize(("member", "name"), [(FailureInfo.BAD_ALG, "badAlg"), (FailureInfo.BAD_DATA_FORMAT,
                         "badDataFormat"), (FailureInfo.UNACCEPTED_EXTENSION, "unacceptedExtension")])
def test_failure_info_names_follow_rfc_3161(member: FailureInfo, name: str) -> None:
    assert member.rfc_name == name and FailureInfo.from_rfc_name(name) is member


def test_a_reopened_lab_tsa_does_not_repeat_serials_for_new_requests() -> None:
    """Each CLI command reopens the lab instance: a new TSA object on the same seed must not reuse serials."""
    first = rfc3161_client.decode_timestamp_response(TimestampAuthority.create(lab=Lab(seed="re")).timestamp(b"a"))
    again = rfc3161_client.decode_timestamp_response(TimestampAuthority.create(lab=Lab(seed="re")).timestamp(b"b"))
    assert first.tst_info.serial_number != again.tst_info.serial_number
