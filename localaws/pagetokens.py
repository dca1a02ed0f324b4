"""Page tokens that cannot be forged: AWS's NextToken is opaque, and a token a client made up, edited, or took from
another listing is refused with InvalidNextToken. A token here carries the offset of the next page and a
fingerprint of the request it belongs to (operation and every member but NextToken and MaxResults), signed with a
key made at start, so it is only good for the same listing on the same simulator."""
import base64
import hashlib
import hmac
import json
import os


class TokenError(ValueError):
    pass


class PageTokens:
    def __init__(self, key: bytes | None = None):
        self.key = key or os.urandom(32)

    @staticmethod
    def _fingerprint(operation: str, body: dict) -> str:
        rest = {k: v for k, v in body.items() if k not in ("NextToken", "MaxResults")}
        return hashlib.sha256(json.dumps([operation, rest], sort_keys=True, default=str).encode()).hexdigest()[:32]

    def make(self, operation: str, body: dict, offset: int) -> str:
        payload = json.dumps({"o": offset, "q": self._fingerprint(operation, body)}, separators=(",", ":")).encode()
        mac = hmac.new(self.key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(payload + mac).decode()

    def offset(self, operation: str, body: dict, token) -> int:
        """The offset a token stands for; TokenError when it was not made here for this very listing."""
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            payload, mac = raw[:-16], raw[-16:]
            good = hmac.compare_digest(mac, hmac.new(self.key, payload, hashlib.sha256).digest()[:16])
            data = json.loads(payload) if good else None
        except Exception:
            raise TokenError("The specified token isn't valid.") from None
        if not data or data.get("q") != self._fingerprint(operation, body) or not isinstance(data.get("o"), int) \
                or data["o"] < 0:
            raise TokenError("The specified token isn't valid.")
        return data["o"]
