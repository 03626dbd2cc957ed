"""Marketplace accounts, product listings and orders.

Revision ID: 20260301_0000
Revises: 20260202_0000
Create Date: 2026-03-01 00:00:00

Three per-seller tables, created in every seller's schema:

- ``marketplace_accounts``: one row per marketplace the seller set up (environment, the
  app's public id, redirect, connection state, who is connected until when, field
  defaults, order-sync cursor). Tokens and secrets stay in the OS keyring.
- ``marketplace_listings``: a product's listing per marketplace (listing id, eBay offer
  id, url, state, price, quantity, last synced), unique per (marketplace, listing id) and
  per (product, marketplace).
- ``orders``: one row per order line of any marketplace, unique per (marketplace, order,
  line), linked to the product it sold.

The downgrade refuses, naming the schema and table, while any of these tables holds rows:
dropping them would lose the seller's listings, orders or account settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "20260301_0000"
down_revision: str | Sequence[str] | None = "20260202_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKETPLACE_CHECK = "marketplace IN ('vinted', 'ebay', 'etsy')"
TABLES = ("orders", "marketplace_listings", "marketplace_accounts")


def upgrade() -> None:
    """Create the three tables in every seller's schema."""
    for tenant in migration_schemas.current().tenants:
        _create_accounts(tenant)
        _create_listings(tenant)
        _create_orders(tenant)


def _products_id(tenant: str | None) -> str:
    return migration_schemas.qualify(tenant, "products") + ".id"


def _create_accounts(tenant: str | None) -> None:
    op.create_table(
        "marketplace_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("base_url", sa.String(300), nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("redirect", sa.String(300), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("state_message", sa.Text(), nullable=True),
        sa.Column("account_name", sa.String(200), nullable=True),
        sa.Column("external_user_id", sa.String(100), nullable=True),
        sa.Column("shop_id", sa.String(50), nullable=True),
        sa.Column("access_expires_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_expires_at", UTCDateTime(), nullable=True),
        sa.Column("requests_per_second", sa.Float(), nullable=True),
        sa.Column("defaults", sa.JSON(), nullable=False),
        sa.Column("orders_cursor", sa.String(64), nullable=True),
        sa.Column("connected_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_accounts")),
        sa.UniqueConstraint("marketplace", name=op.f("uq_marketplace_accounts_marketplace")),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_marketplace_accounts_marketplace")),
        sa.CheckConstraint(
            "environment IN ('production', 'sandbox', 'local')",
            name=op.f("ck_marketplace_accounts_environment"),
        ),
        sa.CheckConstraint(
            "state IN ('disconnected', 'connected', 'reconnect_needed')",
            name=op.f("ck_marketplace_accounts_state"),
        ),
        schema=tenant,
    )


def _create_listings(tenant: str | None) -> None:
    op.create_table(
        "marketplace_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("listing_id", sa.String(64), nullable=True),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("price", sa.Numeric(10, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_synced_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_listings")),
        sa.UniqueConstraint(
            "marketplace", "listing_id", name=op.f("uq_marketplace_listings_listing")
        ),
        sa.UniqueConstraint(
            "product_id", "marketplace", name=op.f("uq_marketplace_listings_product")
        ),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_marketplace_listings_marketplace")),
        sa.CheckConstraint(
            "state IN ('draft', 'active', 'inactive', 'sold_out', 'ended', 'deleted')",
            name=op.f("ck_marketplace_listings_state"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            [_products_id(tenant)],
            name=op.f("fk_marketplace_listings_product_id_products"),
            ondelete="SET NULL",
        ),
        schema=tenant,
    )


def _create_orders(tenant: str | None) -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("line_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.String(64), nullable=True),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("buyer", sa.String(200), nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("ordered_at", UTCDateTime(), nullable=True),
        sa.Column("modified_at", UTCDateTime(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("marketplace", "order_id", "line_id", name=op.f("uq_orders_line")),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_orders_marketplace")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_orders_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            [_products_id(tenant)],
            name=op.f("fk_orders_product_id_products"),
            ondelete="SET NULL",
        ),
        schema=tenant,
    )
    op.create_index("ix_orders_product", "orders", ["product_id"], schema=tenant)


def downgrade() -> None:
    """Drop the three tables; refuses while any seller has rows in them."""
    tenants = migration_schemas.current().tenants
    bind = op.get_bind()
    for tenant in tenants:
        for table in TABLES:
            name = migration_schemas.qualify(tenant, table)
            count = bind.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            if count:
                raise MigrationError(
                    f"Cannot downgrade below {revision}: {name} holds {count} row(s) "
                    "that the older schema has no place for; nothing was changed"
                )
    for tenant in tenants:
        op.drop_index("ix_orders_product", table_name="orders", schema=tenant)
        for table in TABLES:
            op.drop_table(table, schema=tenant)
