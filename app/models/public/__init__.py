"""Tables shared by every seller (schema ``public``)."""

from app.models.public.marketplace_action_type import MarketplaceActionType

__all__ = ["MarketplaceActionType"]
