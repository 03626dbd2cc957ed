"""Etsy's OAuth 2.0 with PKCE (S256) and a one-shot loopback redirect listener.

Etsy requires the redirect URI to match a registered one exactly, so the seller registers
``http://localhost:<port>/etsy/callback`` (Marketdesk shows the value) and Marketdesk
listens on that port only while a connect is in progress. Refresh tokens rotate: the new
one replaces the old one at every refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from app.etsy.endpoints import SCOPES, EtsyEndpoints
from app.restapi.oauth_flow import (
    LoopbackRedirect,
    code_from_query,
    new_state,
    pkce_pair,
    token_request,
)
from app.restapi.tokens import TokenSet

DEFAULT_REDIRECT_URI = "http://localhost:8787/etsy/callback"
CONNECT_TIMEOUT = 300.0


class EtsyOAuth:
    """The consent flow and the refresh for one Etsy app (keystring)."""

    def __init__(
        self,
        endpoints: EtsyEndpoints,
        *,
        keystring: str,
        redirect_uri: str,
        http: httpx.AsyncClient,
        scopes: tuple[str, ...] = SCOPES,
    ) -> None:
        self.endpoints = endpoints
        self.keystring = keystring
        self.redirect_uri = redirect_uri
        self.http = http
        self.scopes = scopes

    def authorization_url(self, state: str, challenge: str) -> str:
        """The consent page for one attempt."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.keystring,
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(self.scopes),
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.endpoints.connect_url}?{query}"

    async def connect(
        self, open_browser: Callable[[str], None], timeout: float = CONNECT_TIMEOUT
    ) -> TokenSet:
        """Listen, send the seller to the consent page, and exchange the code it returns."""
        state = new_state()
        verifier, challenge = pkce_pair()
        listener = LoopbackRedirect(self.redirect_uri)
        await listener.start()
        try:
            open_browser(self.authorization_url(state, challenge))
        except BaseException:
            await listener.close()
            raise
        query = await listener.wait(timeout)
        code = code_from_query(query, state, "Etsy")
        body = await token_request(
            self.http,
            self.endpoints.token_url,
            {
                "grant_type": "authorization_code",
                "client_id": self.keystring,
                "redirect_uri": self.redirect_uri,
                "code": code,
                "code_verifier": verifier,
            },
            name="Etsy",
        )
        return TokenSet.from_response(body)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """New access and refresh tokens (the old refresh token stops working)."""
        assert tokens.refresh_token is not None
        body = await token_request(
            self.http,
            self.endpoints.token_url,
            {
                "grant_type": "refresh_token",
                "client_id": self.keystring,
                "refresh_token": tokens.refresh_token,
            },
            name="Etsy",
        )
        return TokenSet.from_response(body, previous=tokens)
