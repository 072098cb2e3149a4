"""The app's icon, painted (no image plugin needed), with an optional status dot for the tray."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

BLUE = QColor("#1f6feb")
GREEN = QColor("#2da44e")
GREY = QColor("#8c959f")
AMBER = QColor("#d4a72c")
RED = QColor("#cf222e")


def _pixmap(size: int, status: QColor | None) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(BLUE)
    p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 14 * s, 14 * s)
    for x, top, bottom, wick_top, wick_bottom, colour in (
        (12, 30, 50, 24, 54, QColor("white")),
        (28, 20, 42, 12, 48, QColor("#7ee787")),
        (44, 14, 32, 9, 38, QColor("white")),
    ):
        p.setPen(QPen(colour, max(1.0, 2 * s)))
        p.drawLine(int((x + 4) * s), int(wick_top * s), int((x + 4) * s), int(wick_bottom * s))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(QRectF(x * s, top * s, 8 * s, (bottom - top) * s), 2 * s, 2 * s)
    if status is not None:
        p.setBrush(status)
        p.setPen(QPen(QColor("white"), max(1.0, 3 * s)))
        p.drawEllipse(QRectF(38 * s, 38 * s, 24 * s, 24 * s))
    p.end()
    return pm


def app_icon(status: QColor | None = None) -> QIcon:
    """The app icon at the usual sizes; with ``status`` a coloured dot shows the tray state."""
    return _icon(None if status is None else status.name())


@cache
def _icon(status: str | None) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128, 256):
        icon.addPixmap(_pixmap(size, None if status is None else QColor(status)))
    return icon


PAGE_GLYPH = QColor("#6e7781")  # a mid grey, readable on light and dark themes


def _page_pixmap(page: str, size: int, colour: QColor) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 20.0
    pen = QPen(colour, 1.6 * s)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    if page == "Dashboard":  # four tiles
        for x, y in ((2, 2), (11, 2), (2, 11), (11, 11)):
            p.drawRoundedRect(QRectF(x * s, y * s, 7 * s, 7 * s), 1.5 * s, 1.5 * s)
    elif page == "Bots":  # a robot's head with its antenna
        p.drawRoundedRect(QRectF(3 * s, 6 * s, 14 * s, 11 * s), 3 * s, 3 * s)
        p.drawLine(int(10 * s), int(2 * s), int(10 * s), int(6 * s))
        p.setBrush(colour)
        p.drawEllipse(QRectF(6.5 * s, 10 * s, 2 * s, 2 * s))
        p.drawEllipse(QRectF(11.5 * s, 10 * s, 2 * s, 2 * s))
    elif page == "Deals":  # a buy arrow up and a sell arrow down
        p.drawLine(int(6 * s), int(17 * s), int(6 * s), int(3 * s))
        p.drawLine(int(6 * s), int(3 * s), int(3 * s), int(6 * s))
        p.drawLine(int(6 * s), int(3 * s), int(9 * s), int(6 * s))
        p.drawLine(int(14 * s), int(3 * s), int(14 * s), int(17 * s))
        p.drawLine(int(14 * s), int(17 * s), int(11 * s), int(14 * s))
        p.drawLine(int(14 * s), int(17 * s), int(17 * s), int(14 * s))
    elif page == "Accounts":  # a key
        p.drawEllipse(QRectF(2 * s, 6 * s, 8 * s, 8 * s))
        p.drawLine(int(10 * s), int(10 * s), int(18 * s), int(10 * s))
        p.drawLine(int(15 * s), int(10 * s), int(15 * s), int(13 * s))
        p.drawLine(int(18 * s), int(10 * s), int(18 * s), int(13 * s))
    else:  # Activity: a list of log lines
        for y in (4, 8, 12, 16):
            p.drawLine(int(2 * s), int(y * s), int(3 * s), int(y * s))
            p.drawLine(int(6 * s), int(y * s), int(18 * s), int(y * s))
    p.end()
    return pm


@cache
def page_icon(page: str) -> QIcon:
    """The navigation list's icon for ``page`` (its title), painted at 1x and 2x; white when selected."""
    icon = QIcon()
    for size in (20, 40):
        icon.addPixmap(_page_pixmap(page, size, PAGE_GLYPH))
        icon.addPixmap(_page_pixmap(page, size, QColor("white")), QIcon.Mode.Selected)
    return icon
