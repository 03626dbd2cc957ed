"""What the account manager needs of each marketplace: a client, a refresh, an identity.

A connector is built from an account's settings, its app secret and an HTTP client for
the sign-in endpoints. The marketplaces' subclasses (:mod:`app.ebay.connector`,
:mod:`app.etsy.connector`) add their own connect flow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import httpx

from app.accounts.settings import AccountSettings
from app.restapi.client import RestClient
from app.restapi.tokens import TokenManager, TokenSet


class Connector(ABC):
    """One marketplace's way to build clients and renew tokens for an account."""

    marketplace: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    #: Name of the app secret in the secret store (and in the settings form).
    secret_name: ClassVar[str] = ""
    #: Whether the API works without that secret.
    secret_required: ClassVar[bool] = True
    #: Requests per second when the account does not set its own.
    default_requests_per_second: ClassVar[float | None] = None

    def __init__(
        self,
        settings: AccountSettings,
        secret: str | None,
        http: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.secret = secret
        self.http = http
        self.transport = transport
        self.timeout = timeout

    @property
    def requests_per_second(self) -> float | None:
        """The pacing of the account's API calls."""
        return self.settings.requests_per_second or self.default_requests_per_second

    @abstractmethod
    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens for ``tokens``' refresh token."""

    @abstractmethod
    def build_client(self, tokens: TokenManager) -> RestClient:
        """The API client of the account."""

    @abstractmethod
    async def identify(self, client: RestClient) -> dict[str, str | None]:
        """Who is connected: ``account_name``, ``external_user_id``, ``shop_id``."""
