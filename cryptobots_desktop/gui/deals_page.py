"""Deals: open deals with live profit/loss, closed deals with totals; Close at market; Export CSV."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cryptobots_desktop.engine.events import DealUpdated, ReplayProgress, TickerUpdated
from cryptobots_desktop.gui.deals_models import ClosedDealsModel, Decimals, OpenDealsModel
from cryptobots_desktop.gui.formatting import fmt_signed
from cryptobots_desktop.gui.table_view import make_table, selected_source_row


class DealsPage(QWidget):
    closeDealRequested = Signal(object)  # DealUpdated
    exportRequested = Signal()

    def __init__(self, price_decimals: Decimals, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_model = OpenDealsModel(price_decimals)
        self.closed_model = ClosedDealsModel()
        self.open_view = make_table(self.open_model, "openDealsTable", self)
        self.closed_view = make_table(self.closed_model, "closedDealsTable", self)
        self.open_total = QLabel("")
        self.open_total.setObjectName("openDealsTotal")
        self.closed_total = QLabel("")
        self.closed_total.setObjectName("closedDealsTotal")
        self.close_button = QPushButton("Close at market…")
        self.close_button.setObjectName("closeDealButton")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self._close_selected)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("exportDealsButton")
        self.export_button.clicked.connect(self.exportRequested.emit)

        open_tab = QWidget()
        o = QVBoxLayout(open_tab)
        bar = QHBoxLayout()
        bar.addWidget(self.open_total)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        o.addLayout(bar)
        o.addWidget(self.open_view)
        closed_tab = QWidget()
        c = QVBoxLayout(closed_tab)
        bar = QHBoxLayout()
        bar.addWidget(self.closed_total)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        c.addLayout(bar)
        c.addWidget(self.closed_view)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("dealsTabs")
        self.tabs.addTab(open_tab, "Open")
        self.tabs.addTab(closed_tab, "Closed")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.open_view.selectionModel().selectionChanged.connect(self._update_close_button)
        self._update_totals()

    def on_deal(self, event: DealUpdated) -> None:
        key = (event.record.bot_id, event.record.deal_no)
        if event.record.is_active:
            self.closed_model.remove(key)
            self.open_model.upsert(event)
        else:
            self.open_model.remove(key)
            self.closed_model.upsert(event)
        self._update_totals()
        self._update_close_button()

    def on_ticker(self, event: TickerUpdated) -> None:
        t = event.ticker
        if self.open_model.prices.get(t.symbol) != t.last:
            self.open_model.prices[t.symbol] = t.last
            self.open_model.refresh_all()
            self._update_totals()

    def on_replay(self, event: ReplayProgress) -> None:
        self.open_model.now_ms = event.now_ms

    def _update_totals(self) -> None:
        n_open, n_closed = self.open_model.rowCount(), self.closed_model.rowCount()
        self.open_total.setText(
            f"{n_open} open deal(s), profit/loss now {fmt_signed(self.open_model.total())} USDT"
        )
        self.closed_total.setText(
            f"{n_closed} closed deal(s), realised profit {fmt_signed(self.closed_model.total())} USDT"
        )
        self.tabs.setTabText(0, f"Open ({n_open})")
        self.tabs.setTabText(1, f"Closed ({n_closed})")

    def selected_open_deal(self) -> DealUpdated | None:
        row = selected_source_row(self.open_view)
        return None if row is None else self.open_model.row_at(row)

    def _update_close_button(self, *_: object) -> None:
        deal = self.selected_open_deal()
        self.close_button.setEnabled(deal is not None and deal.record.phase == "open")

    def _close_selected(self) -> None:
        deal = self.selected_open_deal()
        if deal is not None:
            self.closeDealRequested.emit(deal)
