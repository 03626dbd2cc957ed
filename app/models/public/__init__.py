"""Tables shared by every seller (schema ``public``)."""

from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.public.seller import Seller

__all__ = ["MarketplaceActionType", "Seller"]
