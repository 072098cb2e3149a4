"""The new-bot dialog's "Also on": more pairs to start the same DCA settings on, one bot per pair.

A short list of the account's other pairs with check boxes (Space ticks the current one; typing a pair's
first letters goes to it), and a filter over it when the account has many pairs. The pair the dialog
previews is left out of the list; choosing a ticked pair for the preview swaps the two, so the set of
bots stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .form_widgets import wrapping

TOOLTIP = (
    "Start the same settings on these pairs too: each pair gets its own bot with these settings, "
    "checked at its own price against its own exchange rules. Space ticks a pair."
)
GRID_TOOLTIP = (
    "A grid's levels are prices of one pair, so a grid bot trades only the pair above. "
    "Choose DCA to start the same settings on several pairs."
)
FILTER_FROM = 12  # pairs in the list from which a filter is offered above it
VISIBLE_ROWS = 4


def and_list(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def unbroken(text: str) -> str:
    """``text`` kept on one line when a label wraps: no-break spaces, and a word joiner after each slash
    (a line may otherwise break after the slash of a pair)."""
    return text.replace(" ", "\u00a0").replace("/", "/\u2060")


class AlsoOnPairs(QWidget):
    """The other pairs to start the bot on; ``changed`` fires when the ticked pairs change."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alsoOn")
        self._main = ""
        self._filling = False
        self._blocked = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("alsoOnFilter")
        self.filter_edit.setPlaceholderText("Filter pairs")
        self.filter_edit.setAccessibleName("Filter the pairs of Also on")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaxLength(20)
        self.filter_edit.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter_edit)
        self.list = QListWidget()
        self.list.setObjectName("alsoOnPairs")
        self.list.setAccessibleName("Also on")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.itemChanged.connect(self._on_item_changed)
        width = self.fontMetrics().horizontalAdvance("0") * 22
        self.list.setFixedWidth(width)
        self.filter_edit.setFixedWidth(width)
        layout.addWidget(self.list)
        self.names_label: QLabel = wrapping("botsToStart", 40)
        self.names_label.hide()
        layout.addWidget(self.names_label)
        self._set_tips(TOOLTIP)

    # -- the pairs ------------------------------------------------------------------------------------
    def set_pairs(self, pairs: Sequence[str], main: str) -> None:
        """The account's pairs (the dialog's pair combo's order); ticks on pairs still offered are kept."""
        ticked = set(self.chosen())
        self._filling = True
        self.list.clear()
        for pair in pairs:
            item = QListWidgetItem(pair)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
            )
            item.setCheckState(Qt.CheckState.Checked if pair in ticked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self._filling = False
        many = len(pairs) > FILTER_FROM
        self.filter_edit.setVisible(many)
        if not many:
            self.filter_edit.clear()
        self._main = ""
        self.set_main(main)
        self._fit_height()

    def set_main(self, pair: str) -> None:
        """The pair the dialog previews is not offered here; if it was ticked, the previous one is instead."""
        previous, self._main = self._main, pair
        item, before = self.item(pair), self.item(previous)
        if item is not None and item.checkState() == Qt.CheckState.Checked:
            self._filling = True
            item.setCheckState(Qt.CheckState.Unchecked)
            if before is not None:
                before.setCheckState(Qt.CheckState.Checked)
            self._filling = False
        self._apply_filter()
        self.changed.emit()

    def item(self, pair: str) -> QListWidgetItem | None:
        found = self.list.findItems(pair, Qt.MatchFlag.MatchExactly) if pair else []
        return found[0] if found else None

    def offered(self) -> list[str]:
        """The pairs one may tick (all but the previewed one)."""
        return [p for i in range(self.list.count()) if (p := self.list.item(i).text()) != self._main]

    def chosen(self) -> list[str]:
        """The ticked pairs, in the list's order (never the previewed pair); none while blocked."""
        if self._blocked:
            return []
        return [
            item.text()
            for i in range(self.list.count())
            if (item := self.list.item(i)).checkState() == Qt.CheckState.Checked and item.text() != self._main
        ]

    def set_chosen(self, pairs: Sequence[str]) -> None:
        """Tick exactly ``pairs`` (those offered)."""
        wanted = set(pairs)
        self._filling = True
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.text() in wanted and item.text() != self._main
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._filling = False
        self.changed.emit()

    # -- grid -----------------------------------------------------------------------------------------
    def set_blocked(self, why: str) -> None:
        """Off (ticks kept for later) with ``why`` in the tooltip; "" turns it back on."""
        if why == self._blocked:
            return
        self._blocked = why
        self.list.setEnabled(not why)
        self.filter_edit.setEnabled(not why)
        self._set_tips(why or TOOLTIP)
        self.changed.emit()

    @property
    def blocked(self) -> str:
        return self._blocked

    # -- inside ---------------------------------------------------------------------------------------
    def _set_tips(self, text: str) -> None:
        for widget in (self, self.list):
            widget.setToolTip(text)
        self.list.setAccessibleDescription(text)

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        if not self._filling:
            self.changed.emit()

    def _apply_filter(self) -> None:
        needle = self.filter_edit.text().strip().upper()
        for i in range(self.list.count()):
            item = self.list.item(i)
            text = item.text()
            shown = text != self._main and (
                not needle or needle in text.upper() or needle in text.upper().replace("/", "")
            )
            item.setHidden(not shown)

    def _fit_height(self) -> None:
        rows = max(1, min(VISIBLE_ROWS, len(self.offered())))
        row = self.list.sizeHintForRow(0) if self.list.count() else self.fontMetrics().height() + 4
        self.list.setFixedHeight(rows * row + 2 * self.list.frameWidth() + 2)
