"""The one way tables look here: sortable, whole-row selection, columns fitting their contents."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from cryptobots_desktop.gui.table_model import SORT_ROLE


class RecordTableView(QTableView):
    """A table whose columns fit their contents while it shows.

    Fitting a column asks the model for every cell's size; a hidden table (another page, another tab)
    skips that on each update and fits its columns once when it shows again.
    """

    def showEvent(self, event: QShowEvent) -> None:
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


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
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # fits its contents once shown
    header.setStretchLastSection(True)
    return view


def selected_source_row(view: QTableView) -> int | None:
    """The model row of the selected line, or None."""
    rows = view.selectionModel().selectedRows()
    if not rows:
        return None
    proxy = view.model()
    assert isinstance(proxy, QSortFilterProxyModel)
    return proxy.mapToSource(rows[0]).row()
