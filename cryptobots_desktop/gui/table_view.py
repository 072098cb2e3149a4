"""The one way tables look here: sortable, whole-row selection, columns fitting their contents."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from cryptobots_desktop.gui.batching import Throttle
from cryptobots_desktop.gui.table_model import SORT_ROLE

FIT_MS = 500


class RecordTableView(QTableView):
    """A table whose columns fit the rows in view: when it shows, then at most every ``FIT_MS`` while its data
    change or it scrolls. Fitting asks the model for the size of every visible cell, so it is not done on
    every change, nor at all while the table is hidden (another page, another tab)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fit = Throttle(self.fit_columns, FIT_MS, self)
        self.verticalScrollBar().valueChanged.connect(self._changed)  # other rows in view

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            signals = (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.layoutChanged)
            for signal in (*signals, model.modelReset):
                signal.connect(self._changed)

    def _changed(self, *_: object) -> None:
        if self.isVisible():
            self._fit.request()

    def fit_columns(self) -> None:
        """Fit every column to its header and the visible rows' contents now."""
        self._fit.cancel()
        self.resizeColumnsToContents()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._fit.cancel()


def make_table(model: QAbstractItemModel, object_name: str, parent: QWidget | None = None) -> QTableView:
    """A sortable table over ``model`` (through a proxy sorting on ``SORT_ROLE``)."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = RecordTableView(parent)
    view.setObjectName(object_name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.verticalHeader().hide()
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # RecordTableView fits the columns
    header.setStretchLastSection(True)
    header.setResizeContentsPrecision(0)  # fit to the rows in view, not to every row of the model
    return view


def selected_source_row(view: QTableView) -> int | None:
    """The model row of the selected line, or None."""
    rows = view.selectionModel().selectedRows()
    if not rows:
        return None
    proxy = view.model()
    assert isinstance(proxy, QSortFilterProxyModel)
    return proxy.mapToSource(rows[0]).row()
