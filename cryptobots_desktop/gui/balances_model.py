"""The balances table: asset, free, in orders, total and value in the quote currency."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from cryptobots_desktop.core.balances import Valuation, ValuedBalance

from .formatting import fmt_amount
from .table_model import SORT_ROLE, HeaderedTableModel

_Index = QModelIndex | QPersistentModelIndex


class BalancesModel(HeaderedTableModel[ValuedBalance]):
    """Rows of a ``Valuation``; ``decimals_of(asset)`` says how many decimals an amount of it shows."""

    def __init__(self, decimals_of: Callable[[str], int], quote: str = "USDT") -> None:
        super().__init__()
        self._rows: list[ValuedBalance] = []
        self._decimals_of = decimals_of
        self._quote = quote
        self.HEADERS = ("Asset", "Free", "In orders", "Total", f"Value ({quote})")

    def set_decimals(self, decimals_of: Callable[[str], int]) -> None:
        self.beginResetModel()
        self._decimals_of = decimals_of
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def update(self, valuation: Valuation) -> None:
        rows = list(valuation.rows)
        if [r.balance.asset for r in rows] == [r.balance.asset for r in self._rows]:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def _values(self, row: ValuedBalance) -> tuple[str, Decimal, Decimal, Decimal, Decimal | None]:
        b = row.balance
        return b.asset, b.free, b.used, b.total, row.value

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        value = self._values(row)[index.column()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return value
            if value is None:
                return "no price"
            decimals = 2 if col == 4 else self._decimals_of(row.balance.asset)
            return fmt_amount(value, decimals)  # type: ignore[arg-type]
        if role == SORT_ROLE:
            return value if col == 0 else float(value or 0)  # type: ignore[arg-type]
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def asset_at(self, row: int) -> str:
        return self._rows[row].balance.asset
