"""dissect_response names the fields of a granted reply, and refuses what is not one."""

from __future__ import annotations

import hashlib

import pytest

from labkit.errors import InputError
from labkit.lab import Lab
from labkit.tsa import LAB_POLICY_OID, TimestampAuthority, build_request
from labkit.tsa.inspect import dissect_response


def test_fields_of_a_granted_reply() -> None:
    tsa = TimestampAuthority.create(lab=Lab(seed="inspect"))
    fields = dissect_response(tsa.respond(build_request(b"signature", nonce=7)))
    assert fields["status"] == 0 and fields["nonce"] == 7 and fields["policy"] == LAB_POLICY_OID
    assert fields["messageImprint.hashedMessage"] == hashlib.sha256(b"signature").hexdigest()
    assert fields["genTime"] == "2026-01-01T12:00:00+00:00" and fields["certificates"] == 1
    attributes = fields["signedAttributes"]
    assert isinstance(attributes, list) and any("signing-certificate-v2" in a for a in attributes)


def test_not_a_reply() -> None:
    with pytest.raises(InputError):
        dissect_response(b"\x30\x03\x02\x01\x02")
