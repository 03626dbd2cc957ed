"""Reading and writing a seller's ``marketplace_accounts`` rows.

Plain functions over a session, run in the database executor by
:class:`app.accounts.AccountManager`. :class:`AccountSettings` is an immutable copy of a
row that async code may keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.errors import AccountError
from app.db.base import utcnow
from app.models.user.marketplace_account import ConnectionState, MarketplaceAccount

ENVIRONMENTS = {"ebay": ("production", "sandbox", "local"), "etsy": ("production", "local")}


@dataclass(frozen=True)
class AccountSettings:
    """What Marketdesk knows of one marketplace account (no secrets)."""

    marketplace: str
    environment: str = "production"
    base_url: str | None = None
    client_id: str | None = None
    redirect: str | None = None
    requests_per_second: float | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    state: str = ConnectionState.DISCONNECTED
    state_message: str | None = None
    account_name: str | None = None
    external_user_id: str | None = None
    shop_id: str | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    orders_cursor: str | None = None

    @classmethod
    def from_row(cls, row: MarketplaceAccount) -> AccountSettings:
        """An immutable copy of ``row``."""
        return cls(
            marketplace=row.marketplace,
            environment=row.environment,
            base_url=row.base_url,
            client_id=row.client_id,
            redirect=row.redirect,
            requests_per_second=row.requests_per_second,
            defaults=dict(row.defaults or {}),
            state=row.state,
            state_message=row.state_message,
            account_name=row.account_name,
            external_user_id=row.external_user_id,
            shop_id=row.shop_id,
            access_expires_at=row.access_expires_at,
            refresh_expires_at=row.refresh_expires_at,
            orders_cursor=row.orders_cursor,
        )

    @property
    def configured(self) -> bool:
        """True once the app keys were entered."""
        return bool(self.client_id and self.redirect)


def get_account(session: Session, marketplace: str) -> MarketplaceAccount | None:
    """The account row of ``marketplace``."""
    return session.scalars(
        select(MarketplaceAccount).where(MarketplaceAccount.marketplace == marketplace)
    ).first()


def validate(settings: AccountSettings) -> None:
    """Refuse settings that cannot work, naming the field."""
    allowed = ENVIRONMENTS.get(settings.marketplace)
    if allowed is None:
        raise AccountError(f"marketplace: {settings.marketplace} has no API account")
    if settings.environment not in allowed:
        raise AccountError(f"environment: must be one of {', '.join(allowed)}")
    if not settings.client_id or not settings.client_id.strip():
        label = "App ID (client id)" if settings.marketplace == "ebay" else "keystring"
        raise AccountError(f"client_id: the {label} is required")
    if not settings.redirect or not settings.redirect.strip():
        label = "RuName" if settings.marketplace == "ebay" else "redirect URI"
        raise AccountError(f"redirect: the {label} is required")
    if settings.environment == "local":
        parts = urlsplit(settings.base_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AccountError("base_url: a local environment needs an http(s) base URL")
    if settings.requests_per_second is not None and settings.requests_per_second <= 0:
        raise AccountError("requests_per_second: must be more than 0")


def save_settings(session: Session, settings: AccountSettings) -> AccountSettings:
    """Create or update the row; changing app or environment drops the connection."""
    validate(settings)
    row = get_account(session, settings.marketplace)
    now = utcnow()
    if row is None:
        row = MarketplaceAccount(marketplace=settings.marketplace, created_at=now, defaults={})
        session.add(row)
    elif (row.environment, row.client_id, row.base_url) != (
        settings.environment,
        settings.client_id,
        settings.base_url,
    ):
        _forget_connection(row, "The app keys changed: connect again")
    row.environment = settings.environment
    row.base_url = settings.base_url
    row.client_id = (settings.client_id or "").strip()
    row.redirect = (settings.redirect or "").strip()
    row.requests_per_second = settings.requests_per_second
    row.defaults = dict(settings.defaults)
    row.updated_at = now
    session.flush()
    return AccountSettings.from_row(row)


def _forget_connection(row: MarketplaceAccount, message: str | None) -> None:
    row.state = ConnectionState.DISCONNECTED
    row.state_message = message
    row.account_name = row.external_user_id = row.shop_id = None
    row.access_expires_at = row.refresh_expires_at = row.connected_at = None


def record_connection(
    session: Session,
    marketplace: str,
    *,
    state: str,
    message: str | None = None,
    identity: dict[str, str | None] | None = None,
    access_expires_at: datetime | None = None,
    refresh_expires_at: datetime | None = None,
) -> AccountSettings:
    """Store a connection change (connected as whom until when, lost, disconnected)."""
    row = get_account(session, marketplace)
    if row is None:
        raise AccountError(f"marketplace: {marketplace} is not set up")
    now = utcnow()
    if state == ConnectionState.DISCONNECTED:
        _forget_connection(row, message)
    else:
        row.state = state
        row.state_message = message
        if identity is not None:
            row.account_name = identity.get("account_name")
            row.external_user_id = identity.get("external_user_id")
            row.shop_id = identity.get("shop_id")
            row.connected_at = now
        if access_expires_at is not None:
            row.access_expires_at = access_expires_at
        if refresh_expires_at is not None:
            row.refresh_expires_at = refresh_expires_at
    row.updated_at = now
    session.flush()
    return AccountSettings.from_row(row)
