"""A small base for the read-only tables: rows of records keyed by id, updated in place, sortable."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole
GREEN, RED = QColor("#1a7f37"), QColor("#cf222e")


class HeaderedTableModel(QAbstractTableModel, Generic[R]):
    """Rows in ``self._rows``, columns named by ``HEADERS``: the Qt boilerplate every table shares."""

    HEADERS: Sequence[str] = ()

    def __init__(self) -> None:
        super().__init__()
        self._rows: Any = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class RecordTableModel(HeaderedTableModel[R]):
    """Subclasses give ``HEADERS``, ``key(row)``, ``display(row, col)`` and optionally ``sort_value``,
    ``colour`` and ``align_right``."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[R] = []
        self._index: dict[Hashable, int] = {}

    # subclass hooks
    def key(self, row: R) -> Hashable:
        raise NotImplementedError

    def display(self, row: R, col: int) -> str:
        raise NotImplementedError

    def sort_value(self, row: R, col: int) -> Any:
        return self.display(row, col)

    def colour(self, row: R, col: int) -> QColor | None:
        return None

    def align_right(self, col: int) -> bool:
        return False

    # rows
    def upsert(self, row: R) -> None:
        k = self.key(row)
        i = self._index.get(k)
        if i is None:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n)
            self._rows.append(row)
            self._index[k] = n
            self.endInsertRows()
        else:
            self._rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def remove(self, key: Hashable) -> None:
        i = self._index.get(key)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self._rows[i]
        self._index = {self.key(r): n for n, r in enumerate(self._rows)}
        self.endRemoveRows()

    def refresh_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.HEADERS) - 1))

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, i: int) -> R:
        return self._rows[i]

    # Qt
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, col)
        if role == SORT_ROLE:
            return self.sort_value(row, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.colour(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and self.align_right(col):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def pnl_colour(value: Any) -> QColor | None:
    if value is None or value == 0:
        return None
    return GREEN if value > 0 else RED
