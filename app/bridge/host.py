"""The bridge as the program runs it: settings, token, start/stop, jobs resumed on login.

:class:`BridgeHost` is what the window and the headless worker hold. Its
:attr:`server` is there whenever asked for (the processor's plugin transport; a call
before the bridge listens says "plugin not connected"), made with the WebSocket library
on first use; :meth:`start` reads the pairing token from the secret store and listens on
the configured port. When the plugin reports that
the seller logged in to Vinted, Vinted jobs paused for "logged out" are queued again.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from app.bridge.config import (
    BridgeSettings,
    pairing_token,
    regenerate_token,
    write_plugin_copy,
    write_provision,
)
from app.bridge.errors import BridgeStartError
from app.bridge.status import BridgeStatus
from app.events import BridgeStateChanged, Event
from app.secret_store import SecretStore, SecretStoreError

if TYPE_CHECKING:
    from app.bridge.server import BridgeServer
    from app.db import Database

log = logging.getLogger("marketdesk.bridge")

PLUGIN_FOLDER = "browser-plugin"


class BridgeHost:
    """The plugin bridge of one running Marketdesk."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        secrets: SecretStore,
        user_id: int = 1,
        *,
        port: int | None = None,
    ) -> None:
        """``port`` overrides the saved port (0: any free port, for tests)."""
        self.db = db
        self.data_dir = data_dir
        self.secrets = secrets
        self.user_id = user_id
        self.settings = BridgeSettings.load(data_dir)
        self._port = self.settings.port if port is None else port
        self._server: BridgeServer | None = None
        self.token = ""
        #: Why the bridge is not listening (port taken...), for the window; None when fine.
        self.problem: str | None = None
        self._logged_in = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns = asyncio.Lock()
        self._unsubscribe = db.events.subscribe(self._on_event)

    @property
    def server(self) -> BridgeServer:
        """The WebSocket server (made on first use; listening after :meth:`start`)."""
        if self._server is None:
            from app.bridge.server import BridgeServer

            self._server = BridgeServer(
                self.token,
                port=self._port,
                origins=self.settings.origins,
                events=self.db.events,
                user_id=self.user_id,
            )
        return self._server

    async def start(self) -> bool:
        """Listen for the plugin; False (and :attr:`problem` says why) when it cannot.

        Starting, a new port and a new token take turns (the Settings page can ask for
        one while the window is still starting the bridge).
        """
        async with self._turns:
            return await self._start()

    async def _start(self) -> bool:
        if self._server is not None and self._server.listening:
            return True
        # the WebSocket library is imported off the window's thread the first time
        await asyncio.to_thread(importlib.import_module, "app.bridge.server")
        try:
            self.token = await asyncio.to_thread(pairing_token, self.secrets)
            await self.server.set_token(self.token)
            await self.server.start()
        except (BridgeStartError, SecretStoreError) as exc:
            self.problem = (
                str(exc)
                if isinstance(exc, BridgeStartError)
                else f"The pairing token cannot be read from {self.secrets.description}: {exc}"
            )
            log.error("%s", self.problem)
            self.db.events.publish(
                BridgeStateChanged(
                    "stopped", self.server.port, message=self.problem, user_id=self.user_id
                )
            )
            return False
        self.problem = None
        return True

    async def stop(self) -> None:
        """Stop listening (the plugin reconnects when the program runs again)."""
        async with self._turns:
            if self._server is not None:
                await self._server.stop()
        for task in list(self._tasks):
            await task

    async def close(self) -> None:
        """Stop and stop following events (program exit)."""
        await self.stop()
        self._unsubscribe()

    def status(self) -> BridgeStatus:
        """What the bridge is doing now."""
        if self._server is None:
            return BridgeStatus("stopped", self._port)
        return self._server.status()

    async def regenerate_token(self) -> str:
        """A new pairing token; the paired plugin is closed and must be given the new one."""
        async with self._turns:
            return await self._regenerate_token()

    async def _regenerate_token(self) -> str:
        self.token = await asyncio.to_thread(regenerate_token, self.secrets)
        await self.server.set_token(self.token)
        folder = self.data_dir / PLUGIN_FOLDER
        if (folder / "provision.json").exists():  # the pre-paired copy: no stale token left
            await asyncio.to_thread(
                write_provision, folder, self.server.port or self.settings.port, self.token
            )
        return self.token

    async def set_port(self, port: int) -> bool:
        """Listen on another port from now on (saved when it works).

        When the new port cannot be used the bridge goes back to the old one and
        :attr:`problem` says why; False then.
        """
        async with self._turns:
            return await self._set_port(port)

    async def _set_port(self, port: int) -> bool:
        old = self.server.port
        await self.server.stop()
        self.server.port = port
        if await self._start():
            self.settings = BridgeSettings(port, self.settings.extra_origins)
            await asyncio.to_thread(self.settings.save, self.data_dir)
            return True
        problem = self.problem
        self.server.port = old
        await self._start()
        self.problem = problem
        return False

    async def write_plugin(self, destination: Path | None = None) -> Path:
        """A pre-paired copy of the plugin for the seller to load in the browser."""
        folder = destination or self.data_dir / PLUGIN_FOLDER
        token = self.token or await asyncio.to_thread(pairing_token, self.secrets)
        return await asyncio.to_thread(
            write_plugin_copy, folder, self.server.port or self.settings.port, token
        )

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, BridgeStateChanged) or event.user_id != self.user_id:
            return
        logged_in = bool(event.state == "connected" and event.vinted_logged_in)
        if logged_in and not self._logged_in:
            task = asyncio.get_running_loop().create_task(self._resume_vinted())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._logged_in = logged_in

    async def _resume_vinted(self) -> None:
        from app.marketplace.marketplace_job_service import MarketplaceJobService

        service = MarketplaceJobService(self.db, self.user_id)
        resumed = await self.db.run(service.resume_paused_by_errors, "vinted")
        if resumed:
            log.info("Vinted login seen: %d paused job(s) queued again", len(resumed))
