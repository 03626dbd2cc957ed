"""Marketplace accounts: app keys, OAuth connections, clients for the job handlers."""

from app.accounts.errors import AccountError, AccountNotConfiguredError
from app.accounts.manager import AccountManager, ConnectionStatus

__all__ = ["AccountError", "AccountManager", "AccountNotConfiguredError", "ConnectionStatus"]
