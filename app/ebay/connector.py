"""eBay's connector: the Sell API client, the token refresh and the paste-back connect."""

from __future__ import annotations

from typing import Any

from app.accounts.connector import Connector
from app.ebay.client import EbayClient
from app.ebay.endpoints import EbayEndpoints
from app.ebay.oauth import EbayOAuth
from app.restapi.client import RestClient
from app.restapi.tokens import TokenManager, TokenSet


class EbayConnector(Connector):
    """An eBay app (App ID, Cert ID, RuName) and the seller's tokens."""

    marketplace = "ebay"
    display_name = "eBay"
    secret_name = "client_secret"
    default_requests_per_second = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoints = EbayEndpoints.for_environment(
            self.settings.environment, self.settings.base_url
        )
        self.oauth = EbayOAuth(
            self.endpoints,
            client_id=self.settings.client_id or "",
            client_secret=self.secret or "",
            ru_name=self.settings.redirect or "",
            http=self.http,
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        return await self.oauth.refresh(tokens)

    def build_client(self, tokens: TokenManager) -> RestClient:
        return EbayClient(
            self.endpoints.api_base,
            identity_base=self.endpoints.identity_base,
            tokens=tokens,
            requests_per_second=self.requests_per_second,
            transport=self.transport,
            timeout=self.timeout,
        )

    async def identify(self, client: RestClient) -> dict[str, str | None]:
        assert isinstance(client, EbayClient)
        user = await client.user()
        return {
            "account_name": str(user.get("username") or user.get("userId") or "eBay seller"),
            "external_user_id": str(user["userId"]) if user.get("userId") else None,
            "shop_id": None,
        }
