"""Connecting marketplace accounts and handing their API clients to the job handlers.

:class:`AccountManager` is the one object the runner, the window and the CLI share per
seller. It keeps the app keys in ``marketplace_accounts`` and the secrets and tokens in
the secret store, runs the connect flows (eBay: paste the final address back; Etsy: PKCE
with a loopback redirect), builds one client per account (so one token lock and one
request pacer per account), records who is connected until when, and publishes
:class:`app.events.ConnectionChanged`. When the seller reconnects, the jobs a lost
connection paused are queued again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.accounts.errors import AccountError, AccountNotConfiguredError
from app.accounts.settings import AccountSettings, get_account, record_connection, save_settings
from app.db import Database
from app.events import ConnectionChanged
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.models.user.marketplace_account import ConnectionState
from app.secret_store import SecretStore

if TYPE_CHECKING:  # the HTTP side is loaded with the first client (start-up speed)
    import httpx

    from app.accounts.connector import Connector
    from app.restapi.client import RestClient
    from app.restapi.tokens import TokenManager, TokenSet

log = logging.getLogger("marketdesk.accounts")
#: The marketplaces with an API account (Vinted goes through the browser plugin).
API_MARKETPLACES = ("ebay", "etsy")


@dataclass(frozen=True)
class ConnectionStatus:
    """What the window shows for one marketplace account."""

    marketplace: str
    configured: bool
    state: str
    account: str | None = None
    until: datetime | None = None
    message: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class PendingConsent:
    """An eBay connect in progress: the page to open and the state to expect back."""

    url: str
    state: str


@dataclass
class _Live:
    connector: Connector
    tokens: TokenManager
    client: RestClient


class AccountManager:
    """The seller's marketplace accounts (eBay, Etsy)."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        user_id: int = 1,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.user_id = user_id
        self.transport = transport
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None  # made on first use (start-up speed)
        self._live: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        url = db.engine.url.render_as_string(hide_password=True)
        self.namespace = f"{hashlib.sha256(url.encode()).hexdigest()[:12]}/seller-{user_id}"

    @property
    def http(self) -> httpx.AsyncClient:
        """The client of the connect flows, shared by the accounts' connectors."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), transport=self.transport
            )
        return self._http

    # -- names in the secret store ----------------------------------------------------
    def _key(self, settings: AccountSettings, what: str) -> str:
        return (
            f"{self.namespace}/{settings.marketplace}/{settings.environment}/"
            f"{settings.client_id}/{what}"
        )

    @staticmethod
    def _check_marketplace(marketplace: str) -> None:
        if marketplace not in API_MARKETPLACES:
            raise AccountError(f"marketplace: {marketplace} has no API account")

    def _connector_class(self, marketplace: str) -> type[Connector]:
        """eBay's or Etsy's connector (imported, with its HTTP client, when first needed)."""
        self._check_marketplace(marketplace)
        if marketplace == "ebay":
            from app.ebay.connector import EbayConnector

            return EbayConnector
        from app.etsy.connector import EtsyConnector

        return EtsyConnector

    # -- settings ---------------------------------------------------------------------
    async def settings(self, marketplace: str) -> AccountSettings | None:
        """The account settings of ``marketplace`` (None before it was set up)."""

        def load() -> AccountSettings | None:
            with self.db.session(self.user_id, readonly=True) as session:
                row = get_account(session, marketplace)
                return AccountSettings.from_row(row) if row else None

        return await self.db.run(load)

    async def configure(
        self, settings: AccountSettings, secret: str | None = None
    ) -> AccountSettings:
        """Save the app keys (and the app secret, when given) of an account."""
        cls = self._connector_class(settings.marketplace)
        if secret is not None and not secret.strip():
            raise AccountError(f"{cls.secret_name}: must not be empty")

        def save() -> AccountSettings:
            with self.db.session(self.user_id) as session, session.begin():
                return save_settings(session, settings)

        saved = await self.db.run(save)
        if secret is not None:
            await asyncio.to_thread(
                self.secrets.set, self._key(saved, cls.secret_name), secret.strip()
            )
        await self._drop(settings.marketplace)
        return saved

    # -- clients for the handlers -----------------------------------------------------
    async def client(self, marketplace: str) -> RestClient:
        """The API client of the account (built once; raises when it is not set up)."""
        return (await self._live_for(marketplace)).client

    async def _live_for(self, marketplace: str) -> _Live:
        live = self._live.get(marketplace)
        if live is not None:
            return live
        lock = self._locks.setdefault(marketplace, asyncio.Lock())
        async with lock:
            live = self._live.get(marketplace)
            if live is None:
                live = self._live[marketplace] = await self._build(marketplace)
        return live

    async def _build(self, marketplace: str) -> _Live:
        cls = self._connector_class(marketplace)
        settings = await self.settings(marketplace)
        if settings is None or not settings.configured:
            raise AccountNotConfiguredError(
                f"{cls.display_name} is not set up: enter the app keys in Settings"
            )
        secret = await asyncio.to_thread(self.secrets.get, self._key(settings, cls.secret_name))
        if cls.secret_required and not secret:
            raise AccountNotConfiguredError(
                f"{cls.display_name}: the app's {cls.secret_name.replace('_', ' ')} is missing: "
                "enter it in Settings"
            )
        connector = cls(settings, secret, self.http, self.transport, self.timeout)

        async def changed(tokens: TokenSet | None, reason: str | None) -> None:
            await self._tokens_changed(marketplace, tokens, reason)

        from app.restapi.tokens import TokenManager

        tokens = TokenManager(
            self._key(settings, "tokens"),
            self.secrets,
            connector.refresh,
            on_change=changed,
            marketplace=cls.display_name,
        )
        return _Live(connector, tokens, connector.build_client(tokens))

    async def _drop(self, marketplace: str) -> None:
        live = self._live.pop(marketplace, None)
        if live is not None:
            await live.client.aclose()

    async def aclose(self) -> None:
        """Close every client."""
        for marketplace in list(self._live):
            await self._drop(marketplace)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- connect flows ----------------------------------------------------------------
    async def begin_ebay(self) -> PendingConsent:
        """Start connecting eBay: the consent page to open in the browser."""
        from app.ebay.connector import EbayConnector
        from app.restapi.oauth_flow import new_state

        live = await self._live_for("ebay")
        assert isinstance(live.connector, EbayConnector)
        state = new_state()
        return PendingConsent(live.connector.oauth.authorization_url(state), state)

    async def finish_ebay(self, pending: PendingConsent, pasted: str) -> ConnectionStatus:
        """Finish connecting eBay with the address (or code) the seller pasted back."""
        from app.ebay.connector import EbayConnector

        live = await self._live_for("ebay")
        assert isinstance(live.connector, EbayConnector)
        tokens = await live.connector.oauth.exchange(pasted, pending.state)
        return await self._connected(live, tokens)

    async def connect_etsy(
        self, open_browser: Callable[[str], None], timeout: float = 300.0
    ) -> ConnectionStatus:
        """Connect Etsy: listen on the redirect port, open the consent page, wait."""
        from app.etsy.connector import EtsyConnector

        live = await self._live_for("etsy")
        assert isinstance(live.connector, EtsyConnector)
        tokens = await live.connector.oauth.connect(open_browser, timeout)
        return await self._connected(live, tokens)

    async def store_tokens(self, marketplace: str, tokens: TokenSet) -> ConnectionStatus:
        """Connect with tokens obtained elsewhere (a migration from another install)."""
        return await self._connected(await self._live_for(marketplace), tokens)

    async def _connected(self, live: _Live, tokens: TokenSet) -> ConnectionStatus:
        marketplace = live.connector.marketplace
        await live.tokens.replace_tokens(tokens)
        identity = await live.connector.identify(live.client)
        current = await live.tokens.current() or tokens
        status = await self._record(
            marketplace,
            ConnectionState.CONNECTED,
            identity=identity,
            access_expires_at=current.expires_at,
            refresh_expires_at=current.refresh_expires_at,
        )
        log.info("%s connected as %s", marketplace, status.account)
        service = MarketplaceJobService(self.db, self.user_id)
        resumed = await self.db.run(service.resume_paused_by_errors, marketplace)
        if resumed:
            log.info("%s: %d paused job(s) queued again", marketplace, len(resumed))
        return status

    async def disconnect(self, marketplace: str) -> ConnectionStatus:
        """Forget the account's tokens (the app keys stay)."""
        live = await self._live_for(marketplace)
        await live.tokens.save(None)
        status = await self._record(marketplace, ConnectionState.DISCONNECTED)
        await self._drop(marketplace)
        return status

    async def _tokens_changed(
        self, marketplace: str, tokens: TokenSet | None, reason: str | None
    ) -> None:
        if tokens is None:
            await self._record(marketplace, ConnectionState.RECONNECT_NEEDED, message=reason)
        else:
            await self._record(
                marketplace,
                ConnectionState.CONNECTED,
                access_expires_at=tokens.expires_at,
                refresh_expires_at=tokens.refresh_expires_at,
            )

    async def _record(self, marketplace: str, state: str, **kwargs: Any) -> ConnectionStatus:
        def write() -> AccountSettings:
            with self.db.session(self.user_id) as session, session.begin():
                return record_connection(session, marketplace, state=state, **kwargs)

        settings = await self.db.run(write)
        status = _status_of(settings)
        self.db.events.publish(
            ConnectionChanged(
                marketplace,
                status.state,
                status.account,
                status.until,
                status.message,
                self.user_id,
            )
        )
        return status

    async def status(self, marketplace: str) -> ConnectionStatus:
        """Whether ``marketplace`` is set up and connected, as whom, until when."""
        self._check_marketplace(marketplace)  # without loading its HTTP client
        settings = await self.settings(marketplace)
        if settings is None:
            return ConnectionStatus(marketplace, False, ConnectionState.DISCONNECTED)
        return _status_of(settings)


def _status_of(settings: AccountSettings) -> ConnectionStatus:
    return ConnectionStatus(
        marketplace=settings.marketplace,
        configured=settings.configured,
        state=settings.state,
        account=settings.account_name,
        until=settings.refresh_expires_at or settings.access_expires_at,
        message=settings.state_message,
        environment=settings.environment,
    )
