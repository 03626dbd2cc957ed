"""The catalogue of actions each marketplace supports, with their run-time limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PUBLIC, Base, UTCDateTime, utcnow


class MarketplaceActionType(Base):
    """One action a marketplace supports (``publish`` on ``ebay``, ...).

    ``priority`` (1 = most urgent), ``rate_limit_ms`` (minimum spacing between two starts
    of this action), ``max_retries`` and ``timeout_seconds`` are applied by the runner.
    """

    __tablename__ = "marketplace_action_types"
    __table_args__ = (
        UniqueConstraint(
            "marketplace", "code", name="uq_marketplace_action_types_marketplace_code"
        ),
        {"schema": PUBLIC},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    rate_limit_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=1000)
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    timeout_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def handler_key(self) -> str:
        """The registry key of this action's handler, ``{code}_{marketplace}``."""
        return f"{self.code}_{self.marketplace}"

    def __repr__(self) -> str:
        return f"<MarketplaceActionType {self.marketplace}/{self.code}>"
