"""``marketdesk bridge ...``: the plugin bridge's port, pairing token and plugin folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.bridge.config import (
    PLUGIN_ID,
    BridgeSettings,
    check_port,
    pairing_token,
    regenerate_token,
    write_plugin_copy,
)
from app.bridge.host import PLUGIN_FOLDER
from app.secret_store import SecretStore


def port_number(text: str) -> int:
    """A port the bridge may use, for argparse."""
    try:
        return check_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """The ``bridge`` sub-command."""
    bridge = sub.add_parser("bridge", help="the browser plugin's bridge: port, token, plugin")
    actions = bridge.add_subparsers(
        dest="bridge_command", metavar="ACTION", parser_class=parser_class, required=True
    )
    actions.add_parser("show", help="port, pairing token and how to install the plugin")
    actions.add_parser("regenerate", help="make a new pairing token (re-pair the plugin)")
    port = actions.add_parser("port", help="listen on another port from the next start")
    port.add_argument("port", type=port_number)
    plugin = actions.add_parser("plugin", help="write a pre-paired copy of the plugin")
    plugin.add_argument("folder", nargs="?", type=Path, help="where (default: data folder)")


def run(secrets: SecretStore, data_dir: Path, args: argparse.Namespace) -> int:
    """Run one ``bridge`` action."""
    settings = BridgeSettings.load(data_dir)
    command = args.bridge_command
    if command == "port":
        BridgeSettings(args.port, settings.extra_origins).save(data_dir)
        print(f"The bridge will listen on 127.0.0.1:{args.port} from the next start.")
        return 0
    if command == "regenerate":
        print(f"New pairing token: {regenerate_token(secrets)}")
        print("Enter it in the plugin's options (or write the plugin folder again).")
        return 0
    token = pairing_token(secrets)
    if command == "plugin":
        folder = write_plugin_copy(args.folder or data_dir / PLUGIN_FOLDER, settings.port, token)
        print(f"Pre-paired plugin written to {folder}")
        print("Load it in Chrome/Chromium: chrome://extensions > Developer mode > Load unpacked.")
        return 0
    print(f"Bridge:        ws://127.0.0.1:{settings.port}/")
    print(f"Pairing token: {token}")
    print(f"Plugin id:     {PLUGIN_ID}")
    print(f"Allowed:       {', '.join(sorted(settings.origins))}")
    print("Install: 'marketdesk bridge plugin' writes a pre-paired plugin folder to load in")
    print("chrome://extensions (Developer mode > Load unpacked).")
    return 0
