"""The bridge's exception tree.

Errors a Vinted job can meet on the way to the plugin are also job errors of
:mod:`app.marketplace.errors`, so the processor classifies them without knowing the
bridge: a plugin that is not connected parks the job without spending a retry; a lost
connection or a call that ran out of time is retried.
"""

from __future__ import annotations

from typing import Any

from app.marketplace.errors import PluginUnavailableError, RetryableJobError


class BridgeError(Exception):
    """Anything that went wrong in the plugin bridge."""


class BridgeStartError(BridgeError):
    """The bridge could not listen (port taken, bad address)."""


class ProtocolError(BridgeError, ValueError):
    """A frame broke the protocol; ``code`` is what the error frame says."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PluginNotConnectedError(BridgeError, PluginUnavailableError):
    """No plugin is paired right now; the job waits without spending a retry."""

    def __init__(self) -> None:
        super().__init__(
            "The Marketdesk browser plugin is not connected: open your browser with the "
            "plugin installed and paired (Settings shows the pairing token)",
            retry_after=30.0,
            consumes_retry=False,
        )


class PluginDisconnectedError(BridgeError, RetryableJobError):
    """The plugin went away while a call waited for its answer."""

    def __init__(self, reason: str = "the connection was lost") -> None:
        super().__init__(f"Plugin disconnected during the call: {reason}", retry_after=10.0)


class PluginTimeoutError(BridgeError, RetryableJobError):
    """The plugin did not answer a call in time."""

    def __init__(self, action: str, seconds: float) -> None:
        super().__init__(f"The browser plugin did not answer {action} within {seconds:g} s")
        self.action = action


class PluginCallError(BridgeError):
    """The plugin answered a call with an error (``code`` from the protocol's table)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.fields = fields or {}
