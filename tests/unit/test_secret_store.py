"""The seller's secret store is chosen on first use: the keyring when there is one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import keyring
from keyring.backends import fail

from app.secret_store import (
    FileSecretStore,
    KeyringSecretStore,
    SystemSecretStore,
    open_secret_store,
)
from tests.support.keyring import MemoryKeyring

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_keyring_is_used_when_there_is_one(
    tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    store = open_secret_store(tmp_path)
    store.set("bridge/token", "s3cret")
    assert keyring_backend.passwords == {("Marketdesk", "bridge/token"): "s3cret"}
    assert store.secure and "system keyring" in store.description
    assert store.get("bridge/token") == "s3cret"
    store.delete("bridge/token")
    assert store.get("bridge/token") is None
    assert not (tmp_path / "secrets.json").exists()
    assert isinstance(store, SystemSecretStore) and isinstance(store.store, KeyringSecretStore)


def test_without_a_keyring_secrets_go_to_the_private_file(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())  # the autouse fixture puts the test keyring back
    store = open_secret_store(tmp_path)
    assert not store.secure and "no system keyring" in store.description
    store.set("a", "1")
    assert store.get("a") == "1"
    assert isinstance(store, SystemSecretStore) and isinstance(store.store, FileSecretStore)
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600


def test_the_choice_is_made_once(tmp_path: Path, keyring_backend: MemoryKeyring) -> None:
    store = open_secret_store(tmp_path)
    store.set("a", "1")
    keyring.set_keyring(fail.Keyring())  # a keyring that went away later is not looked for
    assert store.get("a") == "1" and store.secure


def test_opening_the_store_does_not_load_keyring(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.secret_store import open_secret_store\n"
        f"store = open_secret_store(Path({str(tmp_path)!r}))\n"
        "print('keyring' in sys.modules)\n"
        "store.set('a', '1')\n"
        "print('keyring' in sys.modules, store.get('a'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["False", "True", "1"], done.stderr
    assert (tmp_path / "secrets.json").exists()
