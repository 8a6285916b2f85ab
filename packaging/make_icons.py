"""Draw the app icon with Qt (offscreen) and write the PNG, ICO and ICNS files.

Run from the repository root after changing the design; the outputs are committed::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

Writes ``packaging/assets/icon.png`` (1024 px master), ``icon.ico`` (Windows, PNG
entries 16-256 px), ``icon.icns`` (macOS, PNG entries 16-1024 px) and
``resources/icons/app.png`` (256 px, for a window icon at run time). ICO and ICNS are
simple containers of PNG images, written here with the standard library so no Pillow or
``iconutil`` is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "packaging" / "assets"
RESOURCE_ICON = ROOT / "resources" / "icons" / "app.png"

BACKGROUND = QColor("#1d2330")
GLYPH = QColor("#ffffff")
ACCENT = QColor("#4cc38a")

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types whose payload is a PNG of the given pixel size.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def draw(size: int) -> QImage:
    """Return the icon drawn at ``size`` x ``size`` pixels (transparent corners)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 256.0, size / 256.0)  # design on a 256-unit grid

    # Dark rounded square (macOS-style margins so it sits well next to other icons).
    background = QPainterPath()
    background.addRoundedRect(QRectF(12, 12, 232, 232), 52, 52)
    painter.fillPath(background, BACKGROUND)

    # Microphone: capsule, U-shaped holder, stem and foot.
    capsule = QPainterPath()
    capsule.addRoundedRect(QRectF(74, 44, 52, 104), 26, 26)
    painter.fillPath(capsule, GLYPH)
    pen = QPen(GLYPH, 13, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawArc(QRectF(56, 70, 88, 100), 180 * 16, 180 * 16)
    painter.drawLine(100, 170, 100, 200)
    painter.drawLine(78, 204, 122, 204)

    # Level bars to the right (battery/RF meters), the last one in the accent colour.
    painter.setPen(Qt.PenStyle.NoPen)
    for i, height in enumerate((40, 68, 96)):
        bar = QPainterPath()
        bar.addRoundedRect(QRectF(160 + i * 22, 204 - height, 14, height), 5, 5)
        painter.fillPath(bar, ACCENT if i == 2 else GLYPH)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """Return ``image`` encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 accepts a str format at run time; its stubs say bytes (which it rejects).
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise RuntimeError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Return an ICO file holding one PNG entry per size (Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    directory = b""
    payload = b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        payload += data
        offset += len(data)
    return header + directory + payload


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """Return an ICNS file holding PNG elements for every type in :data:`ICNS_TYPES`."""
    body = b""
    for kind, size in ICNS_TYPES:
        data = pngs[size]
        body += kind + struct.pack(">I", len(data) + 8) + data
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    """Draw every size and write the icon files."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    sizes = sorted({*ICO_SIZES, *(size for _, size in ICNS_TYPES)})
    pngs = {size: png_bytes(draw(size)) for size in sizes}
    ASSETS.mkdir(parents=True, exist_ok=True)
    RESOURCE_ICON.parent.mkdir(parents=True, exist_ok=True)
    (ASSETS / "icon.png").write_bytes(pngs[1024])
    (ASSETS / "icon.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (ASSETS / "icon.icns").write_bytes(icns_bytes(pngs))
    RESOURCE_ICON.write_bytes(pngs[256])
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
