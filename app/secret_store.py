"""Where tokens and app secrets are kept: the OS keyring, or a private file without one.

OAuth tokens, the eBay client secret, the Etsy shared secret and the plugin pairing token
never go into the database. :func:`open_secret_store` returns a store over the OS
keyring (Secret Service, macOS Keychain, Windows Credential Locker) when the ``keyring``
package finds one; where none exists (a headless Linux box) it falls back to a JSON file
readable only by the user in the data directory and says so (``secure`` is False and
``description`` names the file), so the window can tell the seller.

Every call is blocking (D-Bus, file I/O): async code calls the store through
``asyncio.to_thread``. Finding the keyring takes a while (``keyring`` reads its
backends' entry points, then asks each one), so :func:`open_secret_store` returns a
store that looks on its first use, off the window's thread like every call, instead of
while the program starts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger("marketdesk.secrets")

SERVICE = "Marketdesk"
FALLBACK_FILE = "secrets.json"


class SecretStoreError(Exception):
    """A secret could not be read or written."""


class SecretStore(ABC):
    """Named secrets (``get``/``set``/``delete``) in one place."""

    #: False when secrets sit in a plain (user-only) file instead of an OS keyring.
    secure: bool = True

    @property
    @abstractmethod
    def description(self) -> str:
        """Where secrets are kept, in words for the seller."""

    @abstractmethod
    def get(self, name: str) -> str | None:
        """The secret called ``name``, or None."""

    @abstractmethod
    def set(self, name: str, value: str) -> None:
        """Store ``value`` as ``name`` (replacing an older value)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Forget ``name`` (no error when it is not there)."""


class KeyringSecretStore(SecretStore):
    """Secrets in the OS keyring under the service name ``Marketdesk``."""

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        import keyring

        self.backend = backend or keyring.get_keyring()
        self.service = service

    @property
    def description(self) -> str:
        return f"the system keyring ({type(self.backend).__name__})"

    def get(self, name: str) -> str | None:
        import keyring.errors

        try:
            return self.backend.get_password(self.service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"Could not read {name} from the keyring: {exc}") from exc

    def set(self, name: str, value: str) -> None:
        import keyring.errors

        try:
            self.backend.set_password(self.service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"Could not save {name} in the keyring: {exc}") from exc

    def delete(self, name: str) -> None:
        import keyring.errors

        try:
            self.backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"Could not delete {name} from the keyring: {exc}") from exc


class FileSecretStore(SecretStore):
    """Fallback without a keyring: a JSON file with mode 0600, replaced atomically."""

    secure = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"{self.path} (no system keyring was found; the file is readable only by you)"

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretStoreError(f"Could not read {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SecretStoreError(f"{self.path} is damaged (not JSON): {exc}") from exc
        if not isinstance(data, dict):
            raise SecretStoreError(f"{self.path} is damaged (not a JSON object)")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise SecretStoreError(f"Could not write {self.path}: {exc}") from exc

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        with self._lock:
            data = self._read()
            data[name] = value
            self._write(data)

    def delete(self, name: str) -> None:
        with self._lock:
            data = self._read()
            if data.pop(name, None) is not None:
                self._write(data)


def keyring_available() -> bool:
    """True when ``keyring`` found a real backend (not the "fail" or "null" ones)."""
    import keyring

    chosen = keyring.get_keyring()
    module = type(chosen).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    try:
        return float(chosen.priority) > 0
    except Exception:  # a backend that cannot even say its priority
        return False


class SystemSecretStore(SecretStore):
    """The OS keyring when there is one, else the private file; decided on first use."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._store: SecretStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> SecretStore:
        """The keyring's store or the file's (looked for once, by the first caller)."""
        with self._lock:
            if self._store is None:
                self._store = choose_secret_store(self.data_dir)
            return self._store

    @property
    def secure(self) -> bool:  # type: ignore[override]  # known once the store is chosen
        """False when the secrets sit in the private file."""
        return self.store.secure

    @property
    def description(self) -> str:
        return self.store.description

    def get(self, name: str) -> str | None:
        return self.store.get(name)

    def set(self, name: str, value: str) -> None:
        self.store.set(name, value)

    def delete(self, name: str) -> None:
        self.store.delete(name)


def open_secret_store(data_dir: Path) -> SecretStore:
    """The seller's secret store: the OS keyring or the file in ``data_dir``, found on
    first use (see :class:`SystemSecretStore`)."""
    return SystemSecretStore(data_dir)


def choose_secret_store(data_dir: Path) -> SecretStore:
    """The OS keyring when there is one, else the private file in ``data_dir`` (blocking)."""
    if keyring_available():
        return KeyringSecretStore()
    store = FileSecretStore(data_dir / FALLBACK_FILE)
    log.warning("no system keyring found: secrets are kept in %s", store.path)
    return store
