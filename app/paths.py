"""Where the program's own files are (a checkout, or the folder of a frozen build), and
where the seller's photos go in the data folder."""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder holding ``migrations/`` and ``resources/``."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else Path(__file__).resolve().parents[1]


def photos_folder(data_dir: Path) -> Path:
    """Where the catalog's photo files are kept in the data folder ``data_dir``."""
    return data_dir / "photos"
