"""OAuth 2.0 bookkeeping shared by the fakes: authorization codes, tokens, header parsing.

Lifetimes run on the monotonic clock. The stores are not locked themselves: the fake that owns
them calls them while holding its own lock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from dataclasses import dataclass, field


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier: base64url(sha256(verifier)), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def random_token(prefix: str = "") -> str:
    """An unguessable token value with an optional prefix."""
    return prefix + secrets.token_urlsafe(32)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The (user, password) of an ``Authorization: Basic`` header, or None."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass
class Grant:
    """An authorization code handed out by the consent page."""

    redirect_uri: str
    scope: str
    expires_at: float
    code_challenge: str = ""
    used: bool = False

    @property
    def expired(self) -> bool:
        """Whether the code's lifetime is over."""
        return time.monotonic() >= self.expires_at


@dataclass
class RefreshGrant:
    """What a refresh token stands for."""

    scope: str


@dataclass
class TokenStore:
    """Authorization codes, access tokens (with expiry) and refresh tokens of one fake."""

    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, float] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)

    def new_code(
        self,
        redirect_uri: str,
        scope: str,
        lifetime: float,
        code_challenge: str = "",
        prefix: str = "",
    ) -> str:
        """Store and return a fresh authorization code."""
        code = random_token(prefix)
        self.codes[code] = Grant(redirect_uri, scope, time.monotonic() + lifetime, code_challenge)
        return code

    def peek_code(self, code: str) -> Grant | None:
        """The grant of an unused, unexpired code (left unused); None otherwise."""
        grant = self.codes.get(code)
        if grant is None or grant.used or grant.expired:
            return None
        return grant

    def take_code(self, code: str) -> Grant | None:
        """The grant of an unused, unexpired code, marking it used; None otherwise."""
        grant = self.peek_code(code)
        if grant is not None:
            grant.used = True
        return grant

    def new_access(self, lifetime: float, prefix: str = "") -> str:
        """Store and return an access token valid for ``lifetime`` seconds."""
        token = random_token(prefix)
        self.access[token] = time.monotonic() + lifetime
        return token

    def new_refresh(self, scope: str, prefix: str = "") -> str:
        """Store and return a refresh token."""
        token = random_token(prefix)
        self.refresh[token] = RefreshGrant(scope)
        return token

    def access_valid(self, token: str | None) -> bool:
        """Whether ``token`` is a known access token that has not expired."""
        if token is None:
            return False
        expires_at = self.access.get(token)
        return expires_at is not None and time.monotonic() < expires_at

    def expire_access(self) -> None:
        """Make every access token handed out so far expired."""
        for token in self.access:
            self.access[token] = 0.0

    def revoke_refresh(self) -> None:
        """Forget every refresh token handed out so far."""
        self.refresh.clear()
