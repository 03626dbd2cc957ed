"""The bridge's settings: port, allowed origins, the pairing token, a pre-filled plugin.

The port and any extra allowed origins (a Firefox build of the plugin, say) live in
``<data dir>/bridge.json``; ``MARKETDESK_BRIDGE_PORT`` overrides the port. The pairing
token is a secret: it is generated once, kept in the secret store (OS keyring), shown to
the seller and regenerable. :func:`write_plugin_copy` writes a copy of the plugin with
``provision.json`` holding the port and token, so that loading it in the browser pairs
it without typing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from app.bridge.errors import BridgeError
from app.bridge.protocol import new_pairing_token
from app.paths import app_root
from app.secret_store import SecretStore

log = logging.getLogger("marketdesk.bridge")

DEFAULT_PORT = 47615
PORT_ENV = "MARKETDESK_BRIDGE_PORT"
SETTINGS_FILE = "bridge.json"
TOKEN_SECRET = "bridge/pairing_token"
#: The plugin's id, fixed by the ``key`` in its manifest (see resources/plugin/README.md).
PLUGIN_ID = "nggbgmffnjkfbingpahkmffmcokechho"
PLUGIN_ORIGIN = f"chrome-extension://{PLUGIN_ID}"
_ORIGIN = re.compile(r"^(chrome-extension|moz-extension)://[A-Za-z0-9._-]+$")
#: Host permissions a test copy of the plugin needs to act on a fake Vinted on loopback.
LOOPBACK_HOSTS = ("http://127.0.0.1/*", "http://localhost/*")
PLUGIN_SUBFOLDER = "marketdesk-plugin"


class BridgeConfigError(BridgeError, ValueError):
    """A bridge setting is not usable; the message says which and why."""


def check_port(value: object) -> int:
    """``value`` as a port the bridge may listen on (1024-65535)."""
    try:
        port = int(str(value).strip())
    except ValueError:
        raise BridgeConfigError(f"Bridge port must be a number, not {value!r}") from None
    if not 1024 <= port <= 65535:
        raise BridgeConfigError(f"Bridge port must be between 1024 and 65535, not {port}")
    return port


def check_origin(value: str) -> str:
    """``value`` as an exact extension origin (``chrome-extension://<id>``, no path)."""
    origin = value.strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise BridgeConfigError(
            f"{value!r} is not an origin like chrome-extension://<id> or moz-extension://<id>"
        )
    return origin


@dataclass(frozen=True)
class BridgeSettings:
    """Where the bridge listens and which extension origins it admits."""

    port: int = DEFAULT_PORT
    extra_origins: tuple[str, ...] = field(default_factory=tuple)

    @property
    def origins(self) -> frozenset[str]:
        """Every admitted origin: the plugin's own plus the seller's additions."""
        return frozenset((PLUGIN_ORIGIN, *self.extra_origins))

    @classmethod
    def load(cls, data_dir: Path) -> BridgeSettings:
        """The saved settings (defaults when none), with the environment's port override."""
        path = data_dir / SETTINGS_FILE
        port = DEFAULT_PORT
        origins: tuple[str, ...] = ()
        if path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                port = check_port(saved.get("port", DEFAULT_PORT))
                origins = tuple(check_origin(o) for o in saved.get("extra_origins", ()))
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                raise BridgeConfigError(f"{path} is not readable bridge settings: {exc}") from exc
        if os.environ.get(PORT_ENV):
            port = check_port(os.environ[PORT_ENV])
        return cls(port, origins)

    def save(self, data_dir: Path) -> None:
        """Write the settings to the data directory."""
        data_dir.mkdir(parents=True, exist_ok=True)
        body = {"port": self.port, "extra_origins": list(self.extra_origins)}
        (data_dir / SETTINGS_FILE).write_text(json.dumps(body, indent=2), encoding="utf-8")


def pairing_token(secrets: SecretStore) -> str:
    """The pairing token, made and stored on first use (blocking: call off the loop)."""
    token = secrets.get(TOKEN_SECRET)
    if not token:
        token = new_pairing_token()
        secrets.set(TOKEN_SECRET, token)
        log.info("made a new plugin pairing token")
    return token


def regenerate_token(secrets: SecretStore) -> str:
    """Replace the pairing token; a plugin paired with the old one must be given the new."""
    token = new_pairing_token()
    secrets.set(TOKEN_SECRET, token)
    log.info("plugin pairing token regenerated")
    return token


def plugin_source_dir() -> Path:
    """The plugin shipped with the program (``resources/plugin``)."""
    return app_root() / "resources" / "plugin"


def is_plugin_folder(folder: Path) -> bool:
    """True when ``folder`` holds a copy of this plugin (its manifest carries our key)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        shipped = json.loads((plugin_source_dir() / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("key") == shipped.get("key")


def plugin_destination(folder: Path) -> Path:
    """Where a plugin copy asked for in ``folder`` goes: the folder itself when it is
    missing, empty or an older copy; else a ``marketdesk-plugin`` folder inside it (so
    that a folder of the seller's files is never replaced)."""
    if not folder.exists() or is_plugin_folder(folder):
        return folder
    if folder.is_dir() and not any(folder.iterdir()):
        return folder
    inner = folder / PLUGIN_SUBFOLDER
    if inner.exists() and not is_plugin_folder(inner) and any(inner.iterdir()):
        raise BridgeConfigError(f"{inner} exists and is not a Marketdesk plugin folder")
    return inner


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read (created so from the start)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)


def write_provision(
    folder: Path,
    port: int,
    token: str,
    vinted_origin: str | None = None,
    *,
    min_pace_ms: int | None = None,
) -> None:
    """(Re)write the ``provision.json`` of a plugin copy (port, token, test settings)."""
    provision: dict[str, object] = {"bridgePort": port, "pairingToken": token}
    if vinted_origin:
        provision["vintedOrigin"] = vinted_origin
    if min_pace_ms is not None:
        provision["minPaceMs"] = min_pace_ms
    _write_private(folder / "provision.json", json.dumps(provision, indent=2))


def write_plugin_copy(
    destination: Path,
    port: int,
    token: str,
    vinted_origin: str | None = None,
    *,
    min_pace_ms: int | None = None,
) -> Path:
    """A copy of the plugin that pairs itself: ``provision.json`` holds port and token.

    Returns the folder written (see :func:`plugin_destination`: an existing folder is
    replaced only when it is empty or an older copy of the plugin). ``vinted_origin`` and
    ``min_pace_ms`` are for the tests: a loopback Vinted (the copy's manifest then gets
    the loopback host permissions the shipped plugin lacks) and a faster pace.
    """
    source = plugin_source_dir()
    if not (source / "manifest.json").exists():
        raise BridgeError(f"The plugin is missing from this installation ({source})")
    folder = plugin_destination(destination)
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("tests", "package.json"))
    if vinted_origin and vinted_origin.startswith(("http://127.0.0.1", "http://localhost")):
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        hosts = manifest.setdefault("host_permissions", [])
        hosts.extend(host for host in LOOPBACK_HOSTS if host not in hosts)
        manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    write_provision(folder, port, token, vinted_origin, min_pace_ms=min_pace_ms)
    return folder
