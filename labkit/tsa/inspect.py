"""A TimeStampResp taken apart field by field, for teaching (notebook 13); checks nothing.

`dissect_response` names what RFC 3161 §2.4.2 puts in a granted reply: the
status, the TSTInfo (policy, messageImprint, serialNumber, genTime, accuracy,
nonce), the CMS signed attributes the TSA signed (RFC 5652 §5.3, RFC 5816) and
the certificates it enclosed. Whether any of it is true is
`labkit.verify.timestamp`'s question.
"""

from __future__ import annotations

import rfc3161_client

from labkit._internal import der
from labkit.errors import InputError

__all__ = ["dissect_response"]

#: The signed attributes a TSA puts in its SignerInfo, by OID.
_ATTRIBUTE_NAMES = {
    "1.2.840.113549.1.9.3": "content-type (id-ct-TSTInfo)",
    "1.2.840.113549.1.9.4": "message-digest (hash of the TSTInfo)",
    "1.2.840.113549.1.9.5": "signing-time",
    "1.2.840.113549.1.9.16.2.12": "signing-certificate (ESS, SHA-1)",
    "1.2.840.113549.1.9.16.2.47": "signing-certificate-v2 (ESS, binds the TSA certificate, RFC 5816)",
}


def _signed_attributes(reply: bytes) -> list[str]:
    token = der.children(der.parse(reply))[1]
    signed_data = der.children(der.children(der.children(token)[1])[0])
    signer = der.children(der.children(signed_data[-1])[0])
    attrs = next((e for e in signer if e.tag == 0xA0), None)
    if attrs is None:
        return []
    oids = [der.decode_oid(der.children(a)[0]) for a in der.children(attrs)]
    return [_ATTRIBUTE_NAMES.get(o, o) for o in oids]


def dissect_response(reply: bytes) -> dict[str, object]:
    """The fields of a granted DER TimeStampResp, named as RFC 3161 names them; `InputError` if it is not one."""
    try:
        response = rfc3161_client.decode_timestamp_response(reply)
        info = response.tst_info
        accuracy = info.accuracy
        fields: dict[str, object] = {
            "status": int(response.status),
            "policy": info.policy.dotted_string,
            "messageImprint.hashAlgorithm": info.message_imprint.hash_algorithm.dotted_string,
            "messageImprint.hashedMessage": info.message_imprint.message.hex(),
            "serialNumber": info.serial_number,
            "genTime": info.gen_time.isoformat(),
            "accuracy": f"{accuracy.seconds or 0} s {accuracy.millis or 0} ms {accuracy.micros or 0} µs",
            "nonce": info.nonce,
            "signedAttributes": _signed_attributes(reply),
            "certificates": len(response.signed_data.certificates),
        }
    except (ValueError, IndexError, der.DERError) as exc:
        raise InputError(f"not a granted TimeStampResp: {exc}") from None
    return fields
