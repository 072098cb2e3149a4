"""The grid levels preview table: one row per level, highest first, with the order it starts with."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.grid import GridLevel

from .ladder_model import fmt_decimal, quote_decimals

_Index = QModelIndex | QPersistentModelIndex

SIDE_TEXT = {OrderSide.BUY: "Buy", OrderSide.SELL: "Sell", None: "— (empty)"}


class LevelsModel(QAbstractTableModel):
    """The levels of a ``GridPreview``, highest price first, as an order book reads."""

    COLUMNS = ("Level", "Price", "Order at the start", "Amount", "Value")
    TOOLTIPS = (
        "Levels are numbered from the lowest price.",
        "The level's price, rounded to the pair's price tick.",
        "At the current price: a buy below it, a sell above it; the level nearest the price stays empty.",
        "How much of the base asset the level's order trades.",
        "What the level's order is worth in the quote currency (amount × price).",
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[GridLevel, ...] = ()
        self._market: Market | None = None

    @property
    def market(self) -> Market | None:
        return self._market

    @property
    def levels(self) -> tuple[GridLevel, ...]:
        return self._rows

    def set_levels(self, levels: tuple[GridLevel, ...], market: Market | None) -> None:
        """Show ``levels`` (lowest first, as the preview has them) at ``market``."""
        self.beginResetModel()
        self._rows = tuple(reversed(levels)) if market is not None else ()
        self._market = market
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            title, market = self.COLUMNS[section], self._market
            if market is None or section in (0, 2):
                return title
            return f"{title} ({market.base if section == 3 else market.quote})"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TOOLTIPS[section]
        return None

    def _text(self, level: GridLevel, col: int, market: Market) -> str:
        if col == 0:
            return str(level.index)
        if col == 1:
            return fmt_decimal(level.price, market.price_decimals)
        if col == 2:
            return SIDE_TEXT[level.side]
        if col == 3:
            return fmt_decimal(level.amount, market.amount_decimals)
        return fmt_decimal(level.value, quote_decimals(market))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        market = self._market
        if not index.isValid() or market is None:
            return None
        level, col = self._rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(level, col, market)
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 2 and level.side is None:
            return "The level nearest the current price holds no order at the start."
        return None
