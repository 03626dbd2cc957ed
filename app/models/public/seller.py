"""The sellers sharing one PostgreSQL database (a SQLite file holds exactly one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PUBLIC, Base, UTCDateTime, utcnow

NAME_MAX_LENGTH = 100


class Seller(Base):
    """One seller of the team; seller ``id`` keeps its jobs and catalog in ``user_<id>``.

    Rows are added by :meth:`app.db.Database.add_seller`, which creates the seller's schema
    in the same transaction, and by the migration that created the table (one row per
    seller schema found).
    """

    __tablename__ = "sellers"
    __table_args__ = ({"schema": PUBLIC},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Seller {self.id} {self.name!r}>"
