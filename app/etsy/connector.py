"""Etsy's connector: the Open API client, the token refresh and the PKCE connect."""

from __future__ import annotations

from typing import Any

from app.accounts.connector import Connector
from app.etsy.client import EtsyClient
from app.etsy.endpoints import EtsyEndpoints
from app.etsy.oauth import EtsyOAuth
from app.restapi.client import RestClient
from app.restapi.tokens import TokenManager, TokenSet


class EtsyConnector(Connector):
    """An Etsy app (keystring, shared secret, redirect URI) and the seller's tokens."""

    marketplace = "etsy"
    display_name = "Etsy"
    secret_name = "shared_secret"
    default_requests_per_second = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoints = EtsyEndpoints.for_environment(
            self.settings.environment, self.settings.base_url
        )
        self.oauth = EtsyOAuth(
            self.endpoints,
            keystring=self.settings.client_id or "",
            redirect_uri=self.settings.redirect or "",
            http=self.http,
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        return await self.oauth.refresh(tokens)

    def build_client(self, tokens: TokenManager) -> RestClient:
        return EtsyClient(
            self.endpoints.api_base,
            api_key=f"{self.settings.client_id}:{self.secret}",
            tokens=tokens,
            requests_per_second=self.requests_per_second,
            transport=self.transport,
            timeout=self.timeout,
        )

    async def identify(self, client: RestClient) -> dict[str, str | None]:
        assert isinstance(client, EtsyClient)
        me = await client.me()
        shop_id = str(me["shop_id"]) if me.get("shop_id") else None
        name = None
        if shop_id:
            name = (await client.shop(shop_id)).get("shop_name")
        return {
            "account_name": str(name or f"Etsy user {me.get('user_id')}"),
            "external_user_id": str(me["user_id"]) if me.get("user_id") else None,
            "shop_id": shop_id,
        }
