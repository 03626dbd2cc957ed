"""Build the Marketdesk program with PyInstaller and pack it for this platform.

Run from the project root (the ``build`` extra installs PyInstaller)::

    python scripts/build.py [--dist DIR] [--work DIR]

Produces ``<dist>/Marketdesk/`` (one-folder build from ``build.spec``) and an archive next
to it: ``Marketdesk-<version>-<os>-<arch>.tar.gz`` on Linux and macOS, ``.zip`` on Windows.
Prints the build time, the folder's size and the archive's size.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "Marketdesk"


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (links counted once, as themselves)."""
    return sum(
        path.lstat().st_size for path in folder.rglob("*") if path.is_file() or path.is_symlink()
    )


def build(dist: Path, work: Path) -> Path:
    """Run PyInstaller on build.spec; the built folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    return dist / NAME


def pack(folder: Path) -> Path:
    """The build as one archive beside it."""
    sys.path.insert(0, str(ROOT))
    from app import __version__

    system = platform.system().lower()
    base = folder.parent / f"{NAME}-{__version__}-{system}-{platform.machine().lower()}"
    kind = "zip" if system == "windows" else "gztar"
    return Path(shutil.make_archive(str(base), kind, folder.parent, folder.name))


def main() -> None:
    """Build, pack, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build")
    args = parser.parse_args()
    start = time.monotonic()
    folder = build(args.dist.resolve(), args.work.resolve())
    built = time.monotonic() - start
    archive = pack(folder)
    print(f"built {folder} in {built:.0f} s: {folder_size(folder) / 1e6:.0f} MB")
    print(f"packed {archive}: {archive.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
