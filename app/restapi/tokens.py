"""OAuth 2.0 tokens of one marketplace account: kept in the secret store, refreshed early.

:class:`TokenManager` hands out a valid access token. It refreshes proactively, a few
minutes before expiry, and when the marketplace answers 401 to a token it believed valid.
One lock per account makes concurrent jobs wait for a single refresh instead of each
spending the refresh token (Etsy rotates it: a second refresh with the old one would
fail). A refused refresh (revoked or expired refresh token, scope no longer granted)
marks the account "reconnect needed".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from app.db.base import utcnow
from app.restapi.errors import ApiAuthError, OAuthError
from app.secret_store import SecretStore

log = logging.getLogger("marketdesk.oauth")

#: Refresh this long before the access token expires.
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenSet:
    """An access token, the refresh token that renews it, and their expiry times."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    refresh_expires_at: datetime | None = None
    scope: str | None = None

    @classmethod
    def from_response(
        cls, body: dict[str, Any], *, previous: TokenSet | None = None, now: datetime | None = None
    ) -> TokenSet:
        """Build from a token endpoint's JSON (keeping the old refresh token if none came)."""
        now = now or utcnow()
        try:
            access = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiAuthError(f"The token endpoint sent no usable access token ({exc})") from exc
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        refresh_expires: datetime | None
        if "refresh_token_expires_in" in body:
            refresh_expires = now + timedelta(seconds=float(body["refresh_token_expires_in"]))
        elif body.get("refresh_token") is None and previous is not None:
            refresh_expires = previous.refresh_expires_at
        else:
            refresh_expires = None
        return cls(
            access_token=access,
            refresh_token=str(refresh) if refresh else None,
            expires_at=now + timedelta(seconds=lifetime),
            refresh_expires_at=refresh_expires,
            scope=body.get("scope") or (previous.scope if previous else None),
        )

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        """True when the access token is expired or expires within ``margin``."""
        return self.expires_at - margin <= (now or utcnow())

    def to_json(self) -> str:
        """Serialized for the secret store."""
        data = asdict(self)
        data["expires_at"] = self.expires_at.isoformat()
        if self.refresh_expires_at is not None:
            data["refresh_expires_at"] = self.refresh_expires_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(text)
        refresh_expires = data.get("refresh_expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            refresh_expires_at=datetime.fromisoformat(refresh_expires) if refresh_expires else None,
            scope=data.get("scope"),
        )

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(expires_at={self.expires_at.isoformat()})"


Refresher = Callable[[TokenSet], Awaitable[TokenSet]]
#: Called after every change: the new tokens (None when the account lost them) and, when
#: the seller must reconnect, why.
TokenListener = Callable[[TokenSet | None, str | None], Awaitable[None]]


class TokenManager:
    """Valid access tokens for one account (``key`` names it in the secret store)."""

    def __init__(
        self,
        key: str,
        store: SecretStore,
        refresher: Refresher,
        *,
        margin: timedelta = REFRESH_MARGIN,
        on_change: TokenListener | None = None,
        marketplace: str = "The marketplace",
    ) -> None:
        self.key = key
        self.store = store
        self.refresher = refresher
        self.margin = margin
        self.on_change = on_change
        self.marketplace = marketplace
        self._tokens: TokenSet | None = None
        self._loaded = False
        self._lock = asyncio.Lock()

    async def current(self) -> TokenSet | None:
        """The stored tokens (read from the secret store once)."""
        if not self._loaded:
            text = await asyncio.to_thread(self.store.get, self.key)
            self._tokens = TokenSet.from_json(text) if text else None
            self._loaded = True
        return self._tokens

    async def save(self, tokens: TokenSet | None) -> None:
        """Keep ``tokens`` (None: forget them) in memory and in the secret store."""
        if tokens is None:
            await asyncio.to_thread(self.store.delete, self.key)
        else:
            await asyncio.to_thread(self.store.set, self.key, tokens.to_json())
        self._tokens = tokens
        self._loaded = True

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it expires soon."""
        tokens = await self.current()
        if tokens is None:
            raise ApiAuthError(f"{self.marketplace} is not connected: connect it in Settings")
        if not tokens.expires_within(self.margin):
            return tokens.access_token
        return (await self._refresh(tokens.access_token)).access_token

    async def rejected(self, access_token: str) -> str:
        """The marketplace refused ``access_token``: refresh (once) and return the new one."""
        return (await self._refresh(access_token)).access_token

    async def _refresh(self, stale_access: str) -> TokenSet:
        async with self._lock:
            tokens = await self.current()
            if tokens is None:
                raise ApiAuthError(f"{self.marketplace} is not connected: connect it in Settings")
            if tokens.access_token != stale_access and not tokens.expires_within(self.margin):
                return tokens  # another job refreshed while this one waited for the lock
            if not tokens.refresh_token:
                await self._lost(f"{self.marketplace} gave no refresh token: reconnect it")
            try:
                fresh = await self.refresher(tokens)
            except OAuthError as exc:
                await self._lost(
                    f"{self.marketplace} refused to renew the connection ({exc}): reconnect it "
                    "in Settings"
                )
            log.info("%s: access token renewed until %s", self.key, fresh.expires_at.isoformat())
            await self.save(fresh)
            if self.on_change is not None:
                await self.on_change(fresh, None)
            return fresh

    async def _lost(self, reason: str) -> None:
        """Forget the unusable tokens, tell the listener, and raise the auth error."""
        log.warning("%s: %s", self.key, reason)
        await self.save(None)
        if self.on_change is not None:
            await self.on_change(None, reason)
        raise ApiAuthError(reason)

    async def replace_tokens(self, tokens: TokenSet) -> None:
        """Store tokens from a finished connect flow."""
        async with self._lock:
            await self.save(tokens)
