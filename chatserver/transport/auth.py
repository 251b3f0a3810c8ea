"""Signed, expiring bearer tokens and the shop's identity signatures.

Tokens are ``base64url(payload).base64url(hmac)``: stateless, so any server process can check
them, and they expire. The signing key comes from CHAT_SECRET_KEY or, by default, one random
key generated once and kept in the database so every process and restart agrees on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    kind: str  # "visitor" | "operator"
    subject: str
    expires_at: float


class TokenSigner:
    """Issues and checks tokens; ``now`` is passed in so tests control expiry."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, *, kind: str, subject: str, ttl_s: float, now: float) -> str:
        payload = _b64(json.dumps({"k": kind, "s": subject, "e": int(now + ttl_s)}).encode())
        return f"{payload}.{self._sign(payload)}"

    def check(self, token: object, *, kind: str, now: float) -> TokenClaims | None:
        """The claims if the token is ours, of this kind and unexpired; otherwise None."""
        if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
            return None  # compare_digest refuses non-ASCII text: such a token is simply not ours
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        if data.get("k") != kind or not isinstance(data.get("s"), str) or data.get("e", 0) < now:
            return None
        return TokenClaims(kind=kind, subject=data["s"], expires_at=float(data["e"]))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:24])


def identity_signature(secret: str, external_id: str) -> str:
    """What the shop's backend sends: hex HMAC-SHA256 of the external id under the identity secret."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_is_valid(secret: str | None, external_id: object, signature: object) -> bool:
    if not secret or not isinstance(external_id, str) or not isinstance(signature, str) or not external_id:
        return False
    return hmac.compare_digest(identity_signature(secret, external_id), signature.strip().lower())
