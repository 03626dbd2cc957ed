"""Exception tree of the account settings (the API clients have their own, in restapi)."""

from __future__ import annotations

from app.marketplace.errors import AuthRequiredError, MarketplaceError


class AccountError(MarketplaceError, ValueError):
    """Account settings cannot be saved as given (a message names the field)."""


class AccountNotConfiguredError(AuthRequiredError):
    """The marketplace's app keys were never entered: jobs wait until the seller does."""
