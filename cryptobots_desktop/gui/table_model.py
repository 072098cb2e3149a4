"""A small base for the read-only tables: rows of records keyed by id, updated in place, sortable."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
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
        self.upsert_many((row,))

    def upsert_many(self, rows: Iterable[R]) -> None:
        """Add or replace rows by key: one insertion for the new ones, one change range for the others."""
        changed: list[int] = []
        new: dict[Hashable, R] = {}
        for row in rows:
            k = self.key(row)
            i = self._index.get(k)
            if i is None:
                new[k] = row
            else:
                self._rows[i] = row
                changed.append(i)
        if changed:
            last = len(self.HEADERS) - 1
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), last))
        if new:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n + len(new) - 1)
            for k, row in new.items():
                self._index[k] = len(self._rows)
                self._rows.append(row)
            self.endInsertRows()

    def remove(self, key: Hashable) -> None:
        self.remove_many((key,))

    def remove_many(self, keys: Iterable[Hashable]) -> None:
        """Remove the rows of ``keys`` (unknown keys are ignored)."""
        gone = sorted({i for k in keys if (i := self._index.get(k)) is not None}, reverse=True)
        if not gone:
            return
        for i in gone:  # from the bottom up, so the rows still to remove keep their places
            self.beginRemoveRows(QModelIndex(), i, i)
            del self._rows[i]
            self.endRemoveRows()
        self._index = {self.key(r): n for n, r in enumerate(self._rows)}

    def refresh_all(self) -> None:
        self.refresh_columns(0, len(self.HEADERS) - 1)

    def refresh_columns(self, first: int, last: int) -> None:
        """Every row's columns ``first`` to ``last`` changed (one change range)."""
        if self._rows:
            self.dataChanged.emit(self.index(0, first), self.index(len(self._rows) - 1, last))

    def get(self, key: Hashable) -> R | None:
        """The row of ``key``, or None."""
        i = self._index.get(key)
        return None if i is None else self._rows[i]

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
