"""Read what a widget looks like from its pixels: background, ink and WCAG contrast."""

from __future__ import annotations

from collections import Counter

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget


def luminance(colour: QColor) -> float:
    """Return WCAG 2 relative luminance (0 black .. 1 white)."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    """Return the WCAG contrast ratio of two colours (1 .. 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def snapshot(widget: QWidget) -> QImage:
    """Render ``widget`` as the user would see it (offscreen works)."""
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def colours(image: QImage, rect: QRect | None = None) -> Counter[int]:
    """Count the RGB values of the pixels in ``rect`` (the whole image by default)."""
    area = (rect or image.rect()).intersected(image.rect())
    if area.isEmpty():
        return Counter()
    rows = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.sizeInBytes() // 4)
    pixels = rows.reshape(image.height(), image.bytesPerLine() // 4)[
        area.top():area.bottom() + 1, area.left():area.right() + 1] & 0xFFFFFF
    values, counts = np.unique(pixels, return_counts=True)
    return Counter(dict(zip(values.tolist(), counts.tolist(), strict=True)))


def background(image: QImage, rect: QRect | None = None) -> QColor:
    """Return the most common colour in ``rect``: the surface text is drawn on."""
    return QColor(colours(image, rect).most_common(1)[0][0])


def best_contrast(image: QImage, rect: QRect | None = None,
                  against: QColor | None = None) -> float:
    """Return the strongest contrast of any pixel in ``rect`` against its background.

    Text is anti-aliased; its stems still reach the full text colour, so the best pixel
    is the text colour as a reader sees it.
    """
    counts = colours(image, rect)
    base = against or QColor(counts.most_common(1)[0][0])
    return max(contrast(QColor(rgb), base) for rgb in counts)
