"""The one way tables look here: sortable, whole-row selection, columns fitting their contents until the
person sizes one, and then keeping the widths they chose (saved with the window's settings)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QByteArray, QSortFilterProxyModel
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from cryptobots_desktop.gui.batching import Throttle
from cryptobots_desktop.gui.table_model import SORT_ROLE

FIT_MS = 500


class RecordTableView(QTableView):
    """A table whose columns fit the rows in view: when it shows, then at most every ``FIT_MS`` while its data
    change or it scrolls. Fitting asks the model for the size of every visible cell, so it is not done on
    every change, nor at all while the table is hidden (another page, another tab).

    Once the person drags a column's edge, the table stops fitting: their widths stay (``columns_state``
    is what the window saves, ``restore_columns`` puts it back at the next start)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fit = Throttle(self.fit_columns, FIT_MS, self)
        self._fitting = False
        self.user_sized = False  # the person sized a column: keep their widths
        self.verticalScrollBar().valueChanged.connect(self._changed)  # other rows in view
        self.horizontalHeader().sectionResized.connect(self._on_section_resized)

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
        """Fit every column to its header and the visible rows' contents now, unless the person sized one."""
        self._fit.cancel()
        if self.user_sized:
            return
        self._fitting = True
        try:
            self.resizeColumnsToContents()
        finally:
            self._fitting = False

    def _on_section_resized(self, logical: int, _old: int, _new: int) -> None:
        header = self.horizontalHeader()
        stretched = header.stretchLastSection() and header.visualIndex(logical) == header.count() - 1
        if not self._fitting and not stretched:  # the stretched last one follows the view's width
            self.user_sized = True

    def columns_state(self) -> str | None:
        """The person's column widths and sort order (base64), or None while the table fits its columns."""
        if not self.user_sized:
            return None
        return bytes(self.horizontalHeader().saveState().toBase64().data()).decode("ascii")

    def restore_columns(self, state: str) -> None:
        """Put back what ``columns_state`` gave; a state that no longer fits the table is ignored."""
        self._fitting = True
        try:
            restored = self.horizontalHeader().restoreState(QByteArray.fromBase64(state.encode("ascii")))
        finally:
            self._fitting = False
        if restored and self.horizontalHeader().count() == self.model().columnCount():
            self.user_sized = True

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
