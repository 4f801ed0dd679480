"""An RFC 3161 timestamp authority for the lab instance: keys and chain, an IO-free responder, a WSGI face.

    >>> from labkit.lab import Lab
    >>> from labkit.tsa import TimestampAuthority
    >>> tsa = TimestampAuthority.create(lab=Lab(seed="docs"))
    >>> reply = tsa.timestamp(b"signature bytes")   # DER TimeStampResp
"""

from labkit.tsa.authority import LAB_POLICY_OID, TimestampAuthority, build_request
from labkit.tsa.chain import DEFAULT_TSA_URL, TSAError, create_tsa, tsa_entry, tsa_entry_json

# labkit.tsa.client and labkit.tsa.server import requests/waitress pieces: import them from their modules.
from labkit.tsa.request import MAX_REQUEST_BYTES, FailureInfo, RequestRefused, explain_request, parse_request
from labkit.tsa.store import load_tsa, save_tsa

__all__ = [
    "DEFAULT_TSA_URL", "LAB_POLICY_OID", "MAX_REQUEST_BYTES", "FailureInfo", "RequestRefused", "TSAError",
    "TimestampAuthority", "build_request", "create_tsa", "explain_request", "load_tsa", "parse_request", "save_tsa",
    "tsa_entry", "tsa_entry_json",
]
