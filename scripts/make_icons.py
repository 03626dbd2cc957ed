"""Draw Marketdesk's program icon and write it for every platform.

Run from the project root (no display needed)::

    QT_QPA_PLATFORM=offscreen python scripts/make_icons.py

Writes ``resources/icons/marketdesk.png`` (256 px, Linux and the window), ``marketdesk.ico``
(Windows: 16, 32, 48 and 256 px PNG entries) and ``marketdesk.icns`` (macOS: 128, 256 and
512 px PNG entries). ICO and ICNS are packed here by hand: both formats are a small header
and a directory around PNG images.
"""

from __future__ import annotations

import struct
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"
TEAL = QColor("#0f766e")
CREAM = QColor("#fdf6e3")


def draw(size: int) -> bytes:
    """The icon at ``size`` pixels, as PNG bytes: a cream "M" on a rounded teal square."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    square = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    path = QPainterPath()
    path.addRoundedRect(square, size * 0.2, size * 0.2)
    painter.fillPath(path, TEAL)
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(int(size * 0.6))
    painter.setFont(font)
    painter.setPen(CREAM)
    painter.drawText(square, Qt.AlignmentFlag.AlignCenter, "M")
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG images (allowed since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in sorted(images.items()):
        edge = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns(images: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG images (types ic07/ic08/ic09: 128/256/512 px)."""
    kinds = {128: b"ic07", 256: b"ic08", 512: b"ic09"}
    body = b"".join(
        kinds[size] + struct.pack(">I", 8 + len(png)) + png for size, png in sorted(images.items())
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> None:
    """Write the three icon files."""
    app = QGuiApplication([])
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = {size: draw(size) for size in (16, 32, 48, 128, 256, 512)}
    (OUT / "marketdesk.png").write_bytes(sizes[256])
    (OUT / "marketdesk.ico").write_bytes(ico({s: sizes[s] for s in (16, 32, 48, 256)}))
    (OUT / "marketdesk.icns").write_bytes(icns({s: sizes[s] for s in (128, 256, 512)}))
    for name in ("marketdesk.png", "marketdesk.ico", "marketdesk.icns"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size} bytes)")
    del app


if __name__ == "__main__":
    main()
