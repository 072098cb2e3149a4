"""The price chart: candlesticks of one pair (pyqtgraph), following the replay or the live market."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPicture
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cryptobots_desktop.core.market import Candle

UP = QColor("#2da44e")
DOWN = QColor("#cf222e")


class CandlestickItem(pg.GraphicsObject):  # type: ignore[misc]
    """Draws candles into a cached QPicture; x is the candle's open time in seconds."""

    def __init__(self) -> None:
        super().__init__()
        self._picture = QPicture()
        self._bounds = QRectF()

    def set_candles(self, candles: Sequence[Candle], width_s: float) -> None:
        picture = QPicture()
        p = QPainter(picture)
        half = width_s * 0.35
        lo = hi = None
        for c in candles:
            x = c.ts_ms / 1000 + width_s / 2
            o, h, low, cl = float(c.open), float(c.high), float(c.low), float(c.close)
            colour = UP if cl >= o else DOWN
            pen = QPen(colour)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawLine(QPointF(x, low), QPointF(x, h))
            p.setBrush(colour)
            top, bottom = max(o, cl), min(o, cl)
            if top == bottom:
                p.drawLine(QPointF(x - half, top), QPointF(x + half, top))
            else:
                p.drawRect(QRectF(x - half, bottom, 2 * half, top - bottom))
            lo = low if lo is None else min(lo, low)
            hi = h if hi is None else max(hi, h)
        p.end()
        self.prepareGeometryChange()
        self._picture = picture
        if candles and lo is not None and hi is not None:
            x0 = candles[0].ts_ms / 1000
            self._bounds = QRectF(x0, lo, candles[-1].ts_ms / 1000 + width_s - x0, hi - lo)
        else:
            self._bounds = QRectF()
        self.update()

    def paint(self, painter: QPainter, *args: object) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)


class CandleChart(QWidget):
    """A candlestick chart with a UTC time axis and a line at the last price."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.plot.setObjectName("priceChart")
        self._follow_theme()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        # no third tick level on the price axis: its grid lines are drawn at ~1 % opacity (invisible) yet
        # cost about half of each repaint of the chart
        self.plot.getAxis("right").setStyle(showValues=True, maxTickLevel=1)
        self.plot.showAxis("right")
        self.plot.hideAxis("left")
        self.candles_item = CandlestickItem()
        self.plot.addItem(self.candles_item)
        self.last_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen("#1f6feb", style=pg.QtCore.Qt.PenStyle.DashLine),
            label="{value:,.2f}",
            labelOpts={"position": 0.995, "color": "#ffffff", "fill": "#1f6feb", "anchors": [(1, 0.5)] * 2},
        )
        self.plot.addItem(self.last_line)
        self._candles: tuple[Candle, ...] = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def _follow_theme(self) -> None:
        """Background and axes in the OS theme's colours (light or dark), not pyqtgraph's fixed black."""
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for name in ("bottom", "right"):
            axis = self.plot.getAxis(name)
            axis.setTextPen(text)
            axis.setPen(palette.color(QPalette.ColorRole.Mid))

    def set_candles(self, candles: Sequence[Candle], price_decimals: int = 2, width_s: float = 60.0) -> None:
        self._candles = tuple(candles)
        self.candles_item.set_candles(self._candles, width_s)
        if not self._candles:
            return
        last = self._candles[-1]
        self.last_line.label.setFormat(f"{{value:,.{price_decimals}f}}")
        self.last_line.setValue(float(last.close))
        lows = [float(c.low) for c in self._candles]
        highs = [float(c.high) for c in self._candles]
        pad = (max(highs) - min(lows)) * 0.08 or max(highs) * 0.001
        self.plot.setXRange(self._candles[0].ts_ms / 1000, last.ts_ms / 1000 + width_s * 12, padding=0)
        self.plot.setYRange(min(lows) - pad, max(highs) + pad, padding=0)

    @property
    def candles(self) -> tuple[Candle, ...]:
        return self._candles
