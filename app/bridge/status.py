"""What the bridge is doing, as the window, the worker and the CLI see it.

Apart from :mod:`app.bridge.server` so that the window can show a bridge that has not
started yet without loading the WebSocket library.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.bridge.protocol import VintedSession


@dataclass(frozen=True)
class BridgeStatus:
    """A snapshot for the window and the CLI."""

    state: str
    port: int
    plugin_version: str | None = None
    browser: str | None = None
    vinted: VintedSession | None = None
