"""A seller's account on one marketplace: app settings, connection state, field defaults.

Secrets (OAuth tokens, the eBay client secret, the Etsy shared secret) never live here:
they are kept by :mod:`app.secrets` in the OS keyring. This row holds what may be shown
and what is not secret: which environment, the app's public id, who is connected until
when, the per-seller defaults of marketplace fields and the order-sync cursor.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow


class ConnectionState(StrEnum):
    """Whether the seller's account can be used by jobs."""

    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    RECONNECT_NEEDED = "reconnect_needed"


class MarketplaceAccount(Base):
    """One row per marketplace the seller set up (eBay, Etsy)."""

    __tablename__ = "marketplace_accounts"
    __table_args__ = (
        CheckConstraint("marketplace IN ('vinted', 'ebay', 'etsy')", name="marketplace"),
        CheckConstraint("environment IN ('production', 'sandbox', 'local')", name="environment"),
        CheckConstraint("state IN ('disconnected', 'connected', 'reconnect_needed')", name="state"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    environment: Mapped[str] = mapped_column(String(20), nullable=False, default="production")
    #: Base URL of every endpoint when ``environment`` is ``local`` (tests, a proxy).
    base_url: Mapped[str | None] = mapped_column(String(300))
    #: eBay App ID / Etsy keystring: public identifiers of the seller's developer app.
    client_id: Mapped[str | None] = mapped_column(String(200))
    #: eBay RuName or Etsy loopback redirect URI registered for the app.
    redirect: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(
        String(20), nullable=False, default=ConnectionState.DISCONNECTED
    )
    state_message: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(String(200))
    external_user_id: Mapped[str | None] = mapped_column(String(100))
    shop_id: Mapped[str | None] = mapped_column(String(50))
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requests_per_second: Mapped[float | None] = mapped_column(Float)
    defaults: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    orders_cursor: Mapped[str | None] = mapped_column(String(64))
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<MarketplaceAccount {self.marketplace} {self.state}>"
