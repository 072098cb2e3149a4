"""The price chart: candlesticks of one pair (pyqtgraph), following the replay or the live market."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPicture
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cryptobots_desktop.core.market import Candle

from .chart_marks import ChartMarks
from .formatting import fmt_amount

UP = QColor("#2da44e")
DOWN = QColor("#cf222e")
ENTRY = QColor("#8250df")

# how each kind of horizontal mark is drawn: pen colour, style, width, and its label's text (None: no label)
_LINE_STYLES: dict[str, tuple[QColor, Qt.PenStyle, float, str | None]] = {
    "entries": (ENTRY, Qt.PenStyle.SolidLine, 1.5, "Avg entry"),
    "take_profits": (UP, Qt.PenStyle.DashLine, 1.5, "Take profit"),
    "resting_buys": (UP, Qt.PenStyle.DotLine, 1.0, None),
    "resting_sells": (DOWN, Qt.PenStyle.DotLine, 1.0, None),
}
MAX_LINES = 60
"""At most this many horizontal marks of one kind (a wide grid has many levels; more would be noise)."""
MAX_LABELLED = 3
"""Lines of one kind are drawn one by one with their price labelled while there are at most this many;
more (many bots on one pair) are drawn unlabelled as one item: their labels would pile up unreadably."""


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


class HorizontalLines(pg.GraphicsObject):  # type: ignore[misc]
    """Many unlabelled horizontal lines of one style, drawn across the view in one item and one paint
    (as separate ``InfiniteLine`` items, 150 of them cost ~20 ms a repaint: a visible freeze)."""

    def __init__(self, pen: QPen) -> None:
        super().__init__()
        self._pen = QPen(pen)
        self._pen.setCosmetic(True)
        self.prices: tuple[float, ...] = ()

    def set_prices(self, prices: Sequence[float]) -> None:
        if tuple(prices) != self.prices:
            self.prepareGeometryChange()
            self.prices = tuple(prices)
            self.update()

    def viewRangeChanged(self) -> None:  # pyqtgraph's hook: the lines span the new view
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        view = self.viewRect()
        if view is None or not self.prices:
            return QRectF()
        low, high = min(self.prices), max(self.prices)
        return QRectF(view.left(), low, view.width(), high - low).normalized().adjusted(0, -1e-9, 0, 1e-9)

    def paint(self, painter: QPainter, *args: object) -> None:
        view = self.viewRect()
        if view is None:
            return
        painter.setPen(self._pen)
        left, right = view.left(), view.right()
        bottom, top = sorted((view.top(), view.bottom()))
        for y in self.prices:
            if bottom <= y <= top:
                painter.drawLine(QPointF(left, y), QPointF(right, y))


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
        # a kind's lines: labelled InfiniteLines while there are at most MAX_LABELLED, else one item
        self._lines: dict[str, list[pg.InfiniteLine]] = {kind: [] for kind in _LINE_STYLES}
        self._many: dict[str, HorizontalLines] = {}
        for kind, (colour, style, width, _label) in _LINE_STYLES.items():
            many = HorizontalLines(pg.mkPen(colour, width=width, style=style))
            many.setZValue(-1)
            self.plot.addItem(many, ignoreBounds=True)
            self._many[kind] = many
        self.buy_points = pg.ScatterPlotItem(symbol="t1", size=11, brush=UP, pen=pg.mkPen("w", width=0.8))
        self.sell_points = pg.ScatterPlotItem(symbol="t", size=11, brush=DOWN, pen=pg.mkPen("w", width=0.8))
        for points in (self.buy_points, self.sell_points):
            points.setZValue(5)
            self.plot.addItem(points)
        self._marks = ChartMarks()
        self._price_decimals = 2
        self._width_s = 60.0
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
        self._price_decimals = price_decimals
        self._width_s = width_s
        self.candles_item.set_candles(self._candles, width_s)
        if not self._candles:
            return
        self.set_last_price(self._candles[-1].close)
        self._fit()

    def set_last_price(self, price: Decimal) -> None:
        """Move the last-price line to ``price`` (the ticker's or the forming candle's), labelled as the
        price above the chart is (rounded half up to the pair's decimals, not through a float)."""
        self.last_line.label.setFormat(fmt_amount(price, self._price_decimals))
        self.last_line.setValue(float(price))

    def _fit(self) -> None:
        """Show every candle, and the open deals' entries and take-profits with them."""
        if not self._candles:
            return
        marked = [float(p) for p in (*self._marks.entries, *self._marks.take_profits)]
        lows = [float(c.low) for c in self._candles] + marked
        highs = [float(c.high) for c in self._candles] + marked
        pad = (max(highs) - min(lows)) * 0.08 or max(highs) * 0.001
        last_s = self._candles[-1].ts_ms / 1000
        self.plot.setXRange(self._candles[0].ts_ms / 1000, last_s + self._width_s * 12, padding=0)
        self.plot.setYRange(min(lows) - pad, max(highs) + pad, padding=0)

    def set_marks(self, marks: ChartMarks, price_decimals: int | None = None) -> None:
        """Draw the open deals' lines (average entry, take-profit, resting orders) and the fills."""
        if price_decimals is not None:
            self._price_decimals = price_decimals
        changed_range = (marks.entries, marks.take_profits) != (self._marks.entries, self._marks.take_profits)
        self._marks = marks
        for kind, (colour, style, width, label) in _LINE_STYLES.items():
            exact: Sequence[Decimal] = getattr(marks, kind)[:MAX_LINES]
            prices = [float(p) for p in exact]
            labelled = len(prices) <= MAX_LABELLED  # few: each its own line with its price; many: one item
            self._many[kind].set_prices(() if labelled else prices)
            singles = exact if labelled else []
            pool = self._lines[kind]
            while len(pool) < len(singles):
                line = pg.InfiniteLine(
                    angle=0,
                    movable=False,
                    pen=pg.mkPen(colour, width=width, style=style),
                    label=label,
                    labelOpts={"position": 0.02, "color": colour, "anchors": [(0, 1), (0, 1)]},
                )
                line.setZValue(-1 if label is None else 1)
                self.plot.addItem(line)
                pool.append(line)
            for i, line in enumerate(pool):
                if i < len(singles):
                    line.setValue(float(singles[i]))
                    if label is not None:  # the price as the deals table says it (not rounded via a float)
                        line.label.setFormat(f"{label} {fmt_amount(singles[i], self._price_decimals)}")
                    line.show()
                else:
                    line.hide()
        self.buy_points.setData([t / 1000 for t, _ in marks.buys], [float(p) for _, p in marks.buys])
        self.sell_points.setData([t / 1000 for t, _ in marks.sells], [float(p) for _, p in marks.sells])
        if changed_range:
            self._fit()

    @property
    def marks(self) -> ChartMarks:
        return self._marks

    def visible_lines(self, kind: str) -> list[float]:
        """The prices of the shown horizontal marks of ``kind`` (a ``ChartMarks`` field name)."""
        singles = [line.value() for line in self._lines[kind] if line.isVisible()]
        return singles + list(self._many[kind].prices)

    @property
    def candles(self) -> tuple[Candle, ...]:
        return self._candles
