"""Checks the SigV4 signature of a request the simulator answers itself, as AWS does.

botocore's SigV4Auth recomputes the signature; two things are pinned to what the client sent instead of what
botocore would choose: the signed header list (SignedHeaders) and the timestamp (X-Amz-Date). The secret comes
from a key map the simulator fills from the bootstrap and from IAM CreateAccessKey / STS AssumeRole answers that
pass through the front. Errors are AWS JSON 1.1 error types; their messages never echo a secret.
"""
import datetime
import hashlib
import hmac
import re
import threading

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                   r"SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})")
MAX_SKEW = datetime.timedelta(minutes=15)


class AuthFailure(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _PinnedSigner(SigV4Auth):
    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        all_headers = super().headers_to_sign(request)
        picked = type(all_headers)()
        for name in self._signed:
            for value in all_headers.get_all(name) or []:
                picked[name] = value
        return picked


class KeyStore:
    """access key id -> (secret, session token or None); thread-safe."""

    def __init__(self, fallback=None):
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, str | None]] = {}
        self._fallback = fallback  # callable(access key) -> (secret, token) or None: keys made behind our back

    def add(self, access_key: str, secret: str, token: str | None = None) -> None:
        with self._lock:
            self._keys[access_key] = (secret, token)

    def get(self, access_key: str):
        with self._lock:
            known = self._keys.get(access_key)
        if known is None and self._fallback is not None:
            known = self._fallback(access_key)
        return known


def verify(keys: KeyStore, method: str, url: str, headers: dict, body: bytes, now=None) -> str:
    """Returns the access key id when the signature holds; raises AuthFailure otherwise."""
    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization")
    if not auth:
        raise AuthFailure("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH.match(auth)
    if not match:
        raise AuthFailure("IncompleteSignatureException",
                          "Authorization header requires Credential, SignedHeaders and Signature (AWS4-HMAC-SHA256)")
    access_key, day, region, service, signed, signature = match.groups()
    known = keys.get(access_key)
    if known is None:
        raise AuthFailure("UnrecognizedClientException", "The security token included in the request is invalid.")
    secret, token = known
    if token is not None and lower.get("x-amz-security-token") != token:
        raise AuthFailure("UnrecognizedClientException", "The security token included in the request is invalid.")
    stamp = lower.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise AuthFailure("IncompleteSignatureException", "X-Amz-Date is missing or not yyyyMMddTHHmmssZ") from None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - when) > MAX_SKEW:
        raise AuthFailure("InvalidSignatureException",
                          f"Signature expired: {stamp} is now earlier than or later than {now:%Y%m%dT%H%M%SZ} "
                          "(more than 15 minutes apart).")
    declared = lower.get("x-amz-content-sha256")
    if declared and declared != "UNSIGNED-PAYLOAD" and declared != hashlib.sha256(body).hexdigest():
        raise AuthFailure("InvalidSignatureException", "The provided X-Amz-Content-SHA256 does not match the body.")
    signed_names = signed.split(";")
    if "host" not in signed_names:
        raise AuthFailure("InvalidSignatureException", "The host header must be signed.")
    request = AWSRequest(method=method, url=url, data=body,
                         headers={k: v for k, v in headers.items() if k.lower() in signed_names})
    request.context["timestamp"] = stamp
    signer = _PinnedSigner(Credentials(access_key, secret, token), service, region, signed_names)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if day != stamp[:8] or not hmac.compare_digest(expected, signature):
        raise AuthFailure("InvalidSignatureException",
                          "The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method. Consult the service documentation "
                          "for details.")
    return access_key
