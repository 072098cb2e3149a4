"""Deals: open deals with live profit/loss, closed deals with totals; Close at market; Export CSV.

The engine's updates are coalesced: the latest of each deal and each price reaches the tables at most every
``FLUSH_MS`` (and at once when the page shows), in one change per table, however many came in between.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cryptobots_desktop.engine.events import DealUpdated, ReplayProgress, TickerUpdated
from cryptobots_desktop.gui.batching import Throttle
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
        self._deals: dict[tuple[str, int], DealUpdated] = {}  # the latest of each deal, not yet shown
        self._prices: dict[tuple[str, str], Decimal] = {}  # the latest (account, pair) prices, not shown yet
        self._throttle = Throttle(self.flush, parent=self)
        self._update_totals()

    def on_deal(self, event: DealUpdated) -> None:
        self._deals[(event.record.bot_id, event.record.deal_no)] = event
        self._throttle.request()

    def on_ticker(self, event: TickerUpdated) -> None:
        t = event.ticker
        self._prices[(event.account_id, t.symbol)] = t.last
        self._throttle.request()

    def flush(self) -> None:
        """Show the deals and prices received since the last flush: one change per table."""
        self._throttle.cancel()
        deals, self._deals = self._deals, {}
        prices, self._prices = self._prices, {}
        moved = {s: p for s, p in prices.items() if self.open_model.prices.get(s) != p}
        if not deals and not moved:
            return
        active = [e for e in deals.values() if e.record.is_active]
        done = [e for e in deals.values() if not e.record.is_active]
        self.closed_model.remove_many((e.record.bot_id, e.record.deal_no) for e in active)
        self.open_model.remove_many((e.record.bot_id, e.record.deal_no) for e in done)
        self.open_model.prices.update(moved)
        self.open_model.upsert_many(active)
        self.closed_model.upsert_many(done)
        if moved:
            self.open_model.refresh_prices()  # every open deal's P/L moved with its pair
        self._update_totals()
        self._update_close_button()

    def showEvent(self, event: QShowEvent) -> None:
        self.flush()
        super().showEvent(event)

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
