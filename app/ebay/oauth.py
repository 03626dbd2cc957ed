"""eBay's OAuth 2.0 authorization-code grant, for a desktop program.

eBay redirects to the "accept URL" registered for the app's RuName, an https page a
desktop program cannot receive. So Marketdesk opens the consent page, and the seller
pastes back the address of the page they land on (or the code it shows). Tokens are
requested with HTTP Basic authentication by the app's client id and secret; eBay does
not rotate refresh tokens (they last about 18 months).
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from app.ebay.endpoints import SCOPES, EbayEndpoints
from app.restapi.oauth_flow import code_from_redirect, token_request
from app.restapi.tokens import TokenSet


class EbayOAuth:
    """The consent URL, the code exchange and the refresh for one eBay app."""

    def __init__(
        self,
        endpoints: EbayEndpoints,
        *,
        client_id: str,
        client_secret: str,
        ru_name: str,
        http: httpx.AsyncClient,
        scopes: tuple[str, ...] = SCOPES,
    ) -> None:
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.ru_name = ru_name
        self.http = http
        self.scopes = scopes

    def authorization_url(self, state: str) -> str:
        """The consent page to open in the seller's browser."""
        query = urlencode(
            {
                "client_id": self.client_id,
                "redirect_uri": self.ru_name,
                "response_type": "code",
                "scope": " ".join(self.scopes),
                "state": state,
            }
        )
        return f"{self.endpoints.authorize_url}?{query}"

    async def exchange(self, pasted: str, state: str) -> TokenSet:
        """Tokens for the code in what the seller pasted back."""
        code = code_from_redirect(pasted, state, "eBay")
        body = await token_request(
            self.http,
            self.endpoints.token_url,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.ru_name},
            name="eBay",
            auth=(self.client_id, self.client_secret),
        )
        return TokenSet.from_response(body)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """A new access token for ``tokens``' refresh token."""
        assert tokens.refresh_token is not None
        body = await token_request(
            self.http,
            self.endpoints.token_url,
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "scope": tokens.scope or " ".join(self.scopes),
            },
            name="eBay",
            auth=(self.client_id, self.client_secret),
        )
        return TokenSet.from_response(body, previous=tokens)
