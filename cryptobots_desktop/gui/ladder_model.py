"""The DCA ladder preview table: one row per order of a deal, and where the deal stands if filled to it."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import DcaRow
from cryptobots_desktop.core.strategies.validation import fmt_number

from .formatting import fmt_amount, fmt_pct

_Index = QModelIndex | QPersistentModelIndex

# Quote currencies whose amounts read in cents, whatever the pair's price tick (XRP/USDT ticks 0.0001).
FIAT_LIKE = frozenset({"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USD", "EUR", "GBP", "TRY", "BRL"})


def quote_decimals(market: Market) -> int:
    """How many decimals an amount of ``market``'s quote currency shows (2 for USDT, the tick's for BTC)."""
    return 2 if market.quote in FIAT_LIKE else max(2, market.price_decimals)


def fmt_decimal(value: Decimal, decimals: int) -> str:
    """:func:`fmt_amount` that never fails on a huge value (a typo like 10^30 must not crash the view)."""
    with localcontext() as ctx:
        ctx.prec = 1000
        return fmt_amount(value, decimals)


def fmt_money(value: Decimal, currency: str, decimals: int) -> str:
    return f"{fmt_decimal(value, decimals)} {currency}"


def fmt_deviation(deviation_pct: Decimal) -> str:
    """A deviation below the base order's price, with its sign: ``-2.20 %`` (``0.00 %`` for the base)."""
    with localcontext() as ctx:
        ctx.prec = 1000
        return fmt_pct(-deviation_pct)


class LadderModel(QAbstractTableModel):
    """The rows of a ``DcaPreview``; money with the market's precision, the currency in the headers."""

    COLUMNS = ("Order", "Deviation", "Price", "Size", "Amount", "Average entry", "Take profit at")
    TOOLTIPS = (
        "The base order buys at once; each safety order is a limit buy that waits below it.",
        "How far below the base order's price the order buys.",
        "The order's limit price, rounded down to the pair's price tick.",
        "How much of the quote currency the order spends (its configured size).",
        "How much of the base currency it buys, cut to the pair's lot step.",
        "The deal's average entry price if every order up to this one has filled (fees included).",
        "The take-profit sell's price once the deal is filled up to this order.",
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[DcaRow, ...] = ()
        self._market: Market | None = None

    @property
    def market(self) -> Market | None:
        return self._market

    def set_rows(self, rows: tuple[DcaRow, ...], market: Market | None) -> None:
        """Show ``rows`` of a ladder at ``market`` (no rows without a market)."""
        self.beginResetModel()
        self._rows = rows if market is not None else ()
        self._market = market
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows((), None)

    def row(self, index: int) -> DcaRow:
        return self._rows[index]

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
            title = self.COLUMNS[section]
            market = self._market
            if market is None or section < 2:
                return title
            return f"{title} ({market.base if section == 4 else market.quote})"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TOOLTIPS[section]
        return None

    def _text(self, row: DcaRow, col: int, market: Market) -> str:
        price_decimals = market.price_decimals
        if col == 0:
            return row.label
        if col == 1:
            return fmt_deviation(row.deviation_pct)
        if col == 2:
            return fmt_decimal(row.price, price_decimals)
        if col == 3:
            return fmt_decimal(row.size, quote_decimals(market))
        if col == 4:
            return fmt_decimal(row.amount, market.amount_decimals)
        value = row.average_entry if col == 5 else row.take_profit_price
        return "—" if value is None else fmt_decimal(value, price_decimals)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        market = self._market
        if not index.isValid() or market is None:
            return None
        row, col = self._rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(row, col, market)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and row.cost != row.size:
            spent = fmt_money(row.cost, market.quote, max(quote_decimals(market), market.price_decimals))
            step = f"{fmt_number(market.amount_step)} {market.base}"
            return f"Spends {spent}: the amount is cut to the lot step of {step}."
        return None
