"""Looking up action types: which actions a marketplace has, and their run-time limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.marketplace.errors import InvalidJobRequestError
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES

# Actions that work on one catalog product; the others act on the whole account.
PRODUCT_ACTIONS = frozenset({"publish", "update", "delete", "link_product"})


@dataclass(frozen=True)
class ActionInfo:
    """An immutable snapshot of an action type row, safe to share between tasks."""

    id: int
    marketplace: str
    code: str
    name: str
    priority: int
    rate_limit_ms: int
    max_retries: int
    timeout_seconds: int

    @property
    def handler_key(self) -> str:
        """The registry key ``{code}_{marketplace}``."""
        return f"{self.code}_{self.marketplace}"

    @property
    def needs_product(self) -> bool:
        """True for actions on one product (publish, update, delete, link_product)."""
        return self.code in PRODUCT_ACTIONS

    @classmethod
    def from_row(cls, row: MarketplaceActionType) -> ActionInfo:
        """Snapshot an ORM row."""
        return cls(
            id=row.id,
            marketplace=row.marketplace,
            code=row.code,
            name=row.name,
            priority=row.priority,
            rate_limit_ms=row.rate_limit_ms,
            max_retries=row.max_retries,
            timeout_seconds=row.timeout_seconds,
        )


def check_marketplace(marketplace: str) -> str:
    """Return the normalised marketplace name or raise a clear error."""
    value = marketplace.strip().lower() if isinstance(marketplace, str) else marketplace
    if value not in MARKETPLACE_VALUES:
        raise InvalidJobRequestError(
            f"Unknown marketplace: {marketplace} (expected one of {', '.join(MARKETPLACE_VALUES)})"
        )
    return str(value)


def load_action_types(session: Session) -> dict[int, ActionInfo]:
    """Every action type by id."""
    rows = session.scalars(select(MarketplaceActionType)).all()
    return {row.id: ActionInfo.from_row(row) for row in rows}


def find_action_type(session: Session, marketplace: str, code: str) -> ActionInfo:
    """The action type ``code`` of ``marketplace``, or the seeds' ValueError."""
    row = session.scalars(
        select(MarketplaceActionType).where(
            MarketplaceActionType.marketplace == marketplace, MarketplaceActionType.code == code
        )
    ).first()
    if row is None:
        raise InvalidJobRequestError(f"Invalid action code: {code} for marketplace: {marketplace}")
    return ActionInfo.from_row(row)
