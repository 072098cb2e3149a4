"""Dashboard: one account at a time (paper or a connected live one): its portfolio value and change, the
price chart of a chosen pair with the bots' marks on it (average entries, take-profits, resting orders,
fills), and its balances."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.engine.events import (
    CandlesUpdated,
    DealUpdated,
    OrderUpdated,
    PortfolioUpdated,
    TickerUpdated,
)

from .balances_model import BalancesModel
from .batching import Throttle
from .candle_chart import CandleChart
from .chart_marks import ChartMarkBook
from .formatting import fmt_amount, fmt_money, fmt_pct, fmt_signed
from .table_model import SORT_ROLE

GREEN, RED, NEUTRAL = "#1a7f37", "#cf222e", "palette(text)"
PAPER, PAPER_LABEL = "paper", "Paper trading"


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: palette(mid); font-weight: 600;")
    return label


class DashboardPage(QWidget):
    """What a trader looks at first."""

    pairChanged = Signal(str)
    accountChanged = Signal(str)  # the account id now shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._price_decimals: Callable[[str], int] = lambda _pair: 2
        self.account_id = PAPER  # the account whose prices, chart and balances the dashboard shows
        self.mark_book = ChartMarkBook()
        self._marks_throttle = Throttle(self._draw_marks, parent=self)

        self.account_combo = QComboBox()
        self.account_combo.setObjectName("dashboardAccount")
        self.account_combo.setToolTip("Whose balances, prices and deals the dashboard shows")
        self.account_combo.addItem(PAPER_LABEL, PAPER)
        self.account_combo.currentIndexChanged.connect(self._on_account_picked)
        self.account_note = QLabel("")
        self.account_note.setObjectName("accountNote")

        self.value_label = QLabel("—")
        self.value_label.setObjectName("portfolioValue")
        self.value_label.setStyleSheet("font-size: 22pt; font-weight: 600;")
        self.change_label = QLabel("")
        self.change_label.setObjectName("portfolioChange")
        self.change_label.setStyleSheet("font-size: 12pt;")
        summary = QFrame()
        summary.setFrameShape(QFrame.Shape.StyledPanel)
        s = QVBoxLayout(summary)
        top = QHBoxLayout()
        top.addWidget(_heading("Portfolio value"))
        top.addStretch(1)
        top.addWidget(self.account_note)
        top.addWidget(self.account_combo)
        s.addLayout(top)
        row = QHBoxLayout()
        row.addWidget(self.value_label)
        row.addSpacing(16)
        row.addWidget(self.change_label, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        s.addLayout(row)

        self.pair_combo = QComboBox()
        self.pair_combo.setObjectName("pairPicker")
        self.pair_combo.setMinimumContentsLength(10)
        self.pair_combo.currentTextChanged.connect(self._on_pair_picked)
        self.price_label = QLabel("")
        self.price_label.setObjectName("lastPrice")
        self.price_label.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.chart = CandleChart()
        chart_box = QWidget()
        c = QVBoxLayout(chart_box)
        c.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(_heading("Price"))
        bar.addWidget(self.pair_combo)
        bar.addWidget(self.price_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("1-minute candles, UTC"))
        c.addLayout(bar)
        c.addWidget(self.chart, 1)

        self.balances_model = BalancesModel(lambda _asset: 8)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.balances_model)
        proxy.setSortRole(SORT_ROLE)
        self.balances_view = QTableView()
        self.balances_view.setObjectName("balancesTable")
        self.balances_view.setModel(proxy)
        self.balances_view.setSortingEnabled(True)
        self.balances_view.sortByColumn(4, Qt.SortOrder.DescendingOrder)
        self.balances_view.verticalHeader().hide()
        self.balances_view.setAlternatingRowColors(True)
        self.balances_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.balances_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        row_height = self.balances_view.verticalHeader().defaultSectionSize()
        header_height = self.balances_view.horizontalHeader().sizeHint().height()
        self.balances_view.setMinimumHeight(header_height + 4 * row_height)  # four assets without scrolling
        balances_box = QWidget()
        b = QVBoxLayout(balances_box)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(_heading("Balances"))
        b.addWidget(self.balances_view)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(chart_box)
        splitter.addWidget(balances_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(splitter, 1)

    # -- set-up ---------------------------------------------------------------------------------------
    def set_accounts(self, accounts: Sequence[tuple[str, str]]) -> None:
        """The connected live accounts (id, name) offered beside paper; if the one shown went away, paper."""
        wanted = [(PAPER, PAPER_LABEL), *((i, f"{label} (live)") for i, label in accounts)]
        have = [
            (self.account_combo.itemData(i), self.account_combo.itemText(i))
            for i in range(self.account_combo.count())
        ]
        if wanted == have:
            return
        shown = self.account_id
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        for account_id, label in wanted:
            self.account_combo.addItem(label, account_id)
        ids = [i for i, _ in wanted]
        self.account_combo.setCurrentIndex(ids.index(shown) if shown in ids else 0)
        self.account_combo.blockSignals(False)
        if shown not in ids:
            self._on_account_picked(0)

    def _on_account_picked(self, index: int) -> None:
        account_id = self.account_combo.itemData(index)
        if account_id is None or account_id == self.account_id:
            return
        self.account_id = account_id
        live = account_id != PAPER
        self.account_note.setText("Real funds" if live else "")
        self.account_note.setStyleSheet(f"color: {RED}; font-weight: 600;" if live else "")
        self.value_label.setText("—")
        self.change_label.setText("")
        self.price_label.setText("")
        self.balances_model.clear()
        self.chart.set_candles(())
        self._draw_marks()
        self.accountChanged.emit(account_id)

    def set_pairs(self, pairs: Sequence[str], current: str) -> None:
        self.pair_combo.blockSignals(True)
        self.pair_combo.clear()
        self.pair_combo.addItems(list(pairs))
        self.pair_combo.setCurrentText(current)
        self.pair_combo.blockSignals(False)
        self.chart.set_candles(())
        self._draw_marks()

    def set_precision(
        self, price_decimals: Callable[[str], int], amount_decimals: Callable[[str], int]
    ) -> None:
        self._price_decimals = price_decimals
        self.balances_model.set_decimals(amount_decimals)

    @property
    def pair(self) -> str:
        return self.pair_combo.currentText()

    def _on_pair_picked(self, pair: str) -> None:
        if pair:
            self.price_label.setText("")
            self._draw_marks()
            self.pairChanged.emit(pair)

    def _draw_marks(self) -> None:
        self._marks_throttle.cancel()
        marks = self.mark_book.marks(self.account_id, self.pair)
        self.chart.set_marks(marks, self._price_decimals(self.pair))

    # -- engine events --------------------------------------------------------------------------------
    def on_portfolio(self, event: PortfolioUpdated) -> None:
        if event.account_id != self.account_id:
            return
        v = event.valuation
        self.value_label.setText(fmt_money(v.total, v.quote))
        if v.unpriced:
            self.value_label.setToolTip(f"Not counted (no {v.quote} price): {', '.join(v.unpriced)}")
        else:
            self.value_label.setToolTip("")
        if event.change is None:  # a live account: nothing to compare with
            self.change_label.setText("")
        else:
            text = f"{fmt_signed(event.change)} {v.quote}"
            if event.change_pct is not None:
                text += f" ({fmt_pct(event.change_pct)})"
            colour = GREEN if event.change > 0 else RED if event.change < 0 else NEUTRAL
            self.change_label.setText(text + " since start")
            self.change_label.setStyleSheet(f"font-size: 12pt; color: {colour};")
        self.balances_model.update(v)

    def on_ticker(self, event: TickerUpdated) -> None:
        if event.ticker.symbol == self.pair and event.account_id == self.account_id:
            decimals = self._price_decimals(self.pair)
            self.price_label.setText(fmt_amount(event.ticker.last, decimals))
            self.chart.set_last_price(event.ticker.last)

    def on_deal(self, event: DealUpdated) -> None:
        if self.mark_book.on_deal(event) == (self.account_id, self.pair):
            self._marks_throttle.request()

    def on_order(self, event: OrderUpdated) -> None:
        if self.mark_book.on_order(event) == (self.account_id, self.pair):
            self._marks_throttle.request()

    def on_candles(self, event: CandlesUpdated) -> None:
        if event.symbol == self.pair and event.account_id == self.account_id:
            decimals = self._price_decimals(event.symbol)
            self.chart.set_candles(event.candles, decimals)
            if event.candles:  # the forming candle's close is the price now: the label says the same
                self.price_label.setText(fmt_amount(event.candles[-1].close, decimals))
