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


_DEUTERANOPIA = (
    (0.367322, 0.860646, -0.227968),
    (0.280085, 0.672501, 0.047413),
    (-0.011820, 0.042940, 0.968881),
)
"""Machado, Oliveira and Fernandes (2009), deuteranopia at full severity, linear RGB."""


def _to_linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _to_srgb(channel: float) -> float:
    channel = min(1.0, max(0.0, channel))
    return channel * 12.92 if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def as_deuteranope_sees(colour: QColor) -> QColor:
    """Return ``colour`` as a person with deuteranopia sees it (Machado 2009 simulation)."""
    rgb = [_to_linear(c) for c in (colour.redF(), colour.greenF(), colour.blueF())]
    out = [_to_srgb(sum(m * c for m, c in zip(row, rgb, strict=True))) for row in _DEUTERANOPIA]
    return QColor.fromRgbF(*out)


def delta_e(a: QColor, b: QColor) -> float:
    """Return the CIE76 colour difference of two sRGB colours (about 2.3 is just noticeable)."""

    def lab(colour: QColor) -> tuple[float, float, float]:
        r, g, b_ = (_to_linear(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
        x = (0.4124 * r + 0.3576 * g + 0.1805 * b_) / 0.95047
        y = 0.2126 * r + 0.7152 * g + 0.0722 * b_
        z = (0.0193 * r + 0.1192 * g + 0.9505 * b_) / 1.08883

        def f(t: float) -> float:
            return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

        return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))

    la, lb = lab(a), lab(b)
    return float(sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5)
