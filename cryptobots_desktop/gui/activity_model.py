"""The activity log: every event the engine reports, newest last, capped in memory."""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from cryptobots_desktop.engine.events import ActivityLogged, Level

from .formatting import fmt_local_time
from .table_model import HeaderedTableModel

_Index = QModelIndex | QPersistentModelIndex
_COLOURS = {Level.WARNING: QColor("#9a6700"), Level.ERROR: QColor("#cf222e")}


class ActivityModel(HeaderedTableModel[ActivityLogged]):
    HEADERS = ("Time", "Level", "Source", "Message")

    def __init__(self, capacity: int = 5000) -> None:
        super().__init__()
        self._rows: deque[ActivityLogged] = deque()
        self._capacity = capacity

    def append(self, entry: ActivityLogged) -> None:
        if len(self._rows) >= self._capacity:
            self.beginRemoveRows(QModelIndex(), 0, 0)
            self._rows.popleft()
            self.endRemoveRows()
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(entry)
        self.endInsertRows()

    def entry(self, row: int) -> ActivityLogged:
        return self._rows[row]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (fmt_local_time(e.ts), e.level.value, e.source, e.message)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            return _COLOURS.get(e.level)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return e.message
        return None

    @staticmethod
    def as_text(entry: ActivityLogged) -> str:
        return f"{fmt_local_time(entry.ts)}\t{entry.level.value}\t{entry.source}\t{entry.message}"
