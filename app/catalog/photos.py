"""Product photos on disk: ``<photos_dir>/<product id>/<safe unique name>``.

A product's ``photos`` list holds, in order, paths relative to the photos folder (the
files this module stored), or web addresses (``https://...``) kept as they are. Chosen
files are checked first (JPEG, PNG or WebP by extension *and* content, at most 20 MB
each, at most 20 photos per product), then copied under new names that are safe on every
file system and never overwrite anything; a failed copy removes what it already copied.
Removal only ever deletes files inside the product's own folder.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from app.catalog.validation import MAX_PHOTOS, PhotoError

log = logging.getLogger("marketdesk.catalog")

ALLOWED_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MAX_PHOTO_BYTES = 20 * 1024 * 1024
_NAME_STEM_LENGTH = 40
_COPY_CHUNK = 1024 * 1024


def is_url(entry: str) -> bool:
    """True for a web address (kept as it is, never copied)."""
    return entry.lower().startswith(("http://", "https://"))


def is_stored(entry: str, product_id: int) -> bool:
    """True when ``entry`` is a photo stored in product ``product_id``'s own folder."""
    if is_url(entry) or "\\" in entry:
        return False
    parts = PurePosixPath(entry).parts
    return len(parts) == 2 and parts[0] == str(product_id) and parts[1] not in ("..", ".")


def resolve(photos_dir: Path | None, entry: str) -> Path | None:
    """The file an entry names (None for a web address).

    Relative entries are stored photos, under ``photos_dir``; absolute ones are files
    the seller chose and that are not copied yet.
    """
    if is_url(entry):
        return None
    path = Path(entry)
    if path.is_absolute() or photos_dir is None:
        return path
    return photos_dir / path


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def photo_problem(path: Path) -> str | None:
    """What is wrong with a photo file, in words (None when it can be stored)."""
    name = path.name or str(path)
    if path.suffix.lower() not in ALLOWED_EXTENSIONS:
        return f"{name}: only JPEG, PNG or WebP photos (.jpg, .jpeg, .png, .webp)"
    try:
        if not path.is_file():
            return f"{name}: file not found"
        size = path.stat().st_size
        if size > MAX_PHOTO_BYTES:
            megabytes = math.ceil(size * 10 / 1024 / 1024) / 10
            return f"{name}: {megabytes:.1f} MB, more than the 20 MB allowed per photo"
        with path.open("rb") as stream:
            head = stream.read(12)
    except OSError as exc:
        return f"{name}: cannot be read ({exc.strerror or exc})"
    if _kind(head) is None:
        return f"{name}: not a JPEG, PNG or WebP image"
    return None


def check_photos(paths: Iterable[Path], *, already: int = 0) -> None:
    """Raise :class:`PhotoError` listing every unusable file (and a too-long list)."""
    files = list(paths)
    problems = [p for p in (photo_problem(path) for path in files) if p is not None]
    if already + len(files) > MAX_PHOTOS:
        problems.insert(0, f"at most {MAX_PHOTOS} photos per product ({already + len(files)})")
    if problems:
        raise PhotoError("; ".join(problems))


def safe_name(source: Path) -> str:
    """A new file name for ``source``: ASCII stem, random suffix, lower-case extension."""
    stem = unicodedata.normalize("NFKD", source.stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:_NAME_STEM_LENGTH]
    suffix = source.suffix.lower()
    return f"{stem or 'photo'}-{secrets.token_hex(4)}{'.jpg' if suffix == '.jpeg' else suffix}"


def _copy_one(source: Path, folder: Path) -> Path:
    while True:
        target = folder / safe_name(source)
        try:
            out = target.open("xb")  # never overwrite, even if a name repeats
        except FileExistsError:
            continue
        break
    try:
        with out, source.open("rb") as stream:
            shutil.copyfileobj(stream, out, _COPY_CHUNK)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def copy_photos(
    photos_dir: Path, product_id: int, sources: Sequence[Path], *, already: int = 0
) -> list[str]:
    """Copy ``sources`` into ``<photos_dir>/<product_id>/``; the stored relative paths.

    ``already`` is how many photos the product keeps besides these (the 20-photo limit
    counts them). All or nothing: every file is checked before the first copy, and a
    failure part way removes the copies made so far.
    """
    if not sources:
        return []
    check_photos(sources, already=already)
    folder = photos_dir / str(int(product_id))
    copied: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in sources:
            copied.append(_copy_one(source, folder))
    except OSError as exc:
        for path in copied:
            path.unlink(missing_ok=True)
        raise PhotoError(f"Cannot copy photos into {folder}: {exc}") from exc
    log.info("stored %d photo(s) of product %d", len(copied), product_id)
    return [f"{int(product_id)}/{path.name}" for path in copied]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def remove_photos(photos_dir: Path, product_id: int, entries: Iterable[str]) -> int:
    """Delete stored photos of product ``product_id``; how many files were deleted.

    Entries that are not in the product's own folder (web addresses, other files) are
    left alone, as are files already gone.
    """
    folder = photos_dir / str(int(product_id))
    removed = 0
    for entry in entries:
        if not is_stored(entry, product_id):
            continue
        path = photos_dir / entry
        if not _inside(path, folder):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not delete photo %s: %s", path, exc)
            continue
        removed += 1
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    return removed


def remove_product_photos(photos_dir: Path, product_id: int) -> None:
    """Delete the whole photo folder of a deleted product."""
    folder = photos_dir / str(int(product_id))
    if folder.is_dir() and _inside(folder, photos_dir):
        shutil.rmtree(folder, ignore_errors=True)
        log.info("deleted the photos of product %d", product_id)
