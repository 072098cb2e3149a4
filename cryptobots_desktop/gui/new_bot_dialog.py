"""New bot: DCA or grid, the settings with live checks, and the DCA deal's ladder or the grid's levels
previewed at the pair's last price. A DCA bot's settings may be started on more pairs at once ("Also on",
:mod:`cryptobots_desktop.gui.also_on`): one bot per pair, each pair's ladder checked at its own price and
rules, the funds for all of them.

The dialog composes its parts and checks them on every change: the bot's rows (``bot_rows``: name,
account, pair, "Also on", strategy), the DCA settings (``dca_form``) and their ladder preview
(``ladder_panel``, with what the settings come to in ``dca_checks`` and the sentences in
``new_bot_summary``), or the grid's settings and levels (``grid_form``).

The dialog does no I/O and never touches the engine: it reads the prices and balances the window already
has through the callables it is given, and the window calls :meth:`NewBotDialog.refresh` when they change.
Open it with ``open()`` (window-modal, non-blocking) and read ``bots`` (the name and pair of each bot to
create), ``strategy`` and ``params`` on ``accepted``; ``bot_name`` and ``symbol`` are the first bot's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import DcaParams, DcaPreview
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.core.strategies.validation import field_label

from .bot_rows import PAPER_ACCOUNT, AccountChoice, BotRows
from .dca_checks import PairCheck, check_pair, funds_facts, make_preview, quote_groups
from .dca_form import DcaForm
from .form_widgets import FieldForm, error_colour, wrapping
from .grid_form import GridForm
from .ladder_panel import LadderPanel
from .new_bot_summary import (
    WAITING_FOR_PRICE,
    dca_ready,
    dca_summary,
    ladder_problems,
    ladder_status,
    needs_fixing,
)

__all__ = ["PAPER_ACCOUNT", "WAITING_FOR_PRICE", "AccountChoice", "NewBotDialog", "PairCheck"]

TITLES = {StrategyKind.DCA: "New DCA bot", StrategyKind.GRID: "New grid bot"}


class NewBotDialog(QDialog):
    """The settings of a new DCA or grid bot, checked on every change, previewed at the current price.

    ``price_of(symbol)`` is the pair's last price and ``free_balance_of(asset)`` the free balance of an
    asset in the account, each None while unknown. After ``accepted``: ``bots`` (``(name, pair)`` of each
    bot to create: the previewed pair first, then those ticked under "Also on"), ``bot_name`` and ``symbol``
    (the first bot's), ``strategy`` and ``params`` (a validated :class:`DcaParams` or :class:`GridParams`).
    """

    def __init__(
        self,
        pairs: Sequence[str],
        markets: Mapping[str, Market],
        price_of: Callable[[str], Decimal | None],
        free_balance_of: Callable[[str], Decimal | None],
        account_label: str = PAPER_ACCOUNT,
        parent: QWidget | None = None,
        *,
        accounts: Sequence[AccountChoice] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newBotDialog")
        self.setWindowTitle("New DCA bot")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._building = True

        self.bot_name: str | None = None
        self.symbol: str | None = None
        self.bots: tuple[tuple[str, str], ...] = ()
        self.strategy = StrategyKind.DCA
        self.params: DcaParams | GridParams | None = None
        self.preview: DcaPreview | None = None  # the ladder shown, None while there is none
        self.other_checks: tuple[PairCheck, ...] = ()  # the "Also on" pairs' ladders, at their own prices
        self._valid_params: DcaParams | None = None
        self._ready = False

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.fields = FieldForm(self._form, DcaParams)  # the bot's rows and the DCA settings, one column
        self.inputs: dict[str, QWidget] = self.fields.inputs
        self.error_labels: dict[str, QLabel] = self.fields.error_labels
        rows = self.bot_rows = BotRows(
            self, self.fields, pairs, markets, price_of, free_balance_of, account_label, accounts
        )
        rows.changed.connect(self._revalidate)
        rows.pair_changed.connect(self._on_pair_changed)
        rows.pairs_changed.connect(self._on_pairs_changed)
        rows.strategy_changed.connect(self._on_strategy_changed)
        self.name_edit, self.pair_combo, self.also_on = (
            rows.name_edit,
            rows.pair_combo,
            rows.also_on,
        )  # here too
        self.account_label, self.account_combo = rows.account_label, rows.account_combo
        self.strategy_combo = rows.strategy_combo
        self.dca_form = DcaForm(self, self.fields)
        self.dca_form.changed.connect(self._revalidate)
        self.trailing_check = self.dca_form.trailing_check
        self.stop_loss_check = self.dca_form.stop_loss_check
        self.grid_form = GridForm(self)
        self.grid_form.changed.connect(self._revalidate)
        self._form.addRow(self.grid_form.settings)
        self._grid_row = self._form.rowCount() - 1
        self._align_grid_labels()
        settings = QWidget()
        settings.setObjectName("settingsPanel")
        settings.setLayout(self._form)

        panel = self.ladder_panel = LadderPanel(self)  # its widgets also here, where callers find them
        self.preview_status, self.problems_label = panel.preview_status, panel.problems_label
        self.ladder_model, self.ladder_view = panel.ladder_model, panel.ladder_view
        self.funds_per_deal_label = panel.funds_per_deal_label
        self.funds_needed_label = panel.funds_needed_label
        self.free_balance_label = panel.free_balance_label
        self.max_deviation_label = panel.max_deviation_label
        self.stop_loss_price_label = panel.stop_loss_price_label
        self.balance_label = panel.balance_label
        content = QWidget()
        row = QHBoxLayout(content)
        row.addWidget(settings, 0, Qt.AlignmentFlag.AlignTop)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        row.addWidget(line)
        row.addWidget(panel, 1)
        row.addWidget(self.grid_form.preview_panel, 1)
        scroll = QScrollArea()
        scroll.setObjectName("dialogScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        self.summary_label = wrapping("validationSummary", 50)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = QPushButton("Start bot")
        self.ok_button.setObjectName("startBot")
        self.ok_button.setDefault(True)
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary_label, 1)
        bottom.addWidget(self.buttons, 0, Qt.AlignmentFlag.AlignBottom)

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)

        self._set_tab_order()
        self._content, self._bottom = content, bottom
        self._building = False
        self._show_strategy()
        rows.choose_pair(rows.pair)
        self._fit_to_screen(content, bottom)

    # -- laying out -------------------------------------------------------------------------------------
    def _align_grid_labels(self) -> None:
        """The grid form's labels as wide as the bot rows' labels, so both columns line up."""
        bot_labels = [
            w
            for i in range(self.dca_form.rows.start)
            if (item := self._form.itemAt(i, QFormLayout.ItemRole.LabelRole)) is not None
            and isinstance(w := item.widget(), QLabel)
        ]
        labels = bot_labels + self.grid_form.labels
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)
        grid_layout = self.grid_form.fields.form
        grid_layout.setHorizontalSpacing(self._form.horizontalSpacing())
        grid_layout.setVerticalSpacing(self._form.verticalSpacing())

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.name_edit,
            self.pair_combo,
            self.also_on.filter_edit,
            self.also_on.list,
            self.strategy_combo,
        ]
        chain += [*self.dca_form.tab_chain, self.ladder_view]
        chain += self.grid_form.tab_chain
        chain += [self.ok_button, self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _fit_to_screen(self, content: QWidget, bottom: QHBoxLayout, grow_only: bool = False) -> None:
        """Big enough to show everything at once when the screen allows; the scroll area does the rest."""
        want = content.sizeHint()
        outer = self.layout()
        margins = outer.contentsMargins()
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        table_width = self.ladder_panel.columns_width() + scrollbar  # the ladder's columns in full
        width = (
            want.width()
            + max(0, table_width - self.ladder_panel.sizeHint().width())
            + margins.left()
            + margins.right()
            + scrollbar
        )
        height = (
            want.height()
            + bottom.sizeHint().height()
            + outer.spacing()
            + margins.top()
            + margins.bottom()
            + self.fontMetrics().lineSpacing() * 4  # room for a sentence or two under a field
        )
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry()
            width = min(width, int(room.width() * 0.92))
            height = min(height, int(room.height() * 0.9))
        if grow_only:
            width, height = max(width, self.width()), max(height, self.height())
        self.resize(width, height)

    # -- what the bot rows say ------------------------------------------------------------------------
    @property
    def pair(self) -> str:
        return self.bot_rows.pair

    @property
    def market(self) -> Market | None:
        return self.bot_rows.market

    @property
    def account_id(self) -> str:
        """The chosen account's id ("paper" when no other is offered)."""
        return self.bot_rows.account_id

    @property
    def pairs(self) -> list[str]:
        """The pairs a bot starts on: the previewed one, then those ticked under "Also on"."""
        return self.bot_rows.pairs

    def bot_names(self) -> list[tuple[str, str]]:
        """``(name, pair)`` of each bot to start (see :meth:`BotRows.bot_names`)."""
        return self.bot_rows.bot_names()

    @property
    def current_strategy(self) -> StrategyKind:
        return self.bot_rows.strategy

    # -- reacting -------------------------------------------------------------------------------------
    def _on_pair_changed(self) -> None:
        market = self.market
        self._label_start()
        self.dca_form.set_units(market)
        self.grid_form.set_units(market)
        self._revalidate()

    def _on_pairs_changed(self) -> None:
        self._label_start()
        self._revalidate()

    def _label_start(self) -> None:
        """ "Start bot", or "Start 3 bots" when DCA settings start on several pairs."""
        count = len(self.pairs) if self.current_strategy is StrategyKind.DCA else 1
        self.ok_button.setText(f"Start {count} bots" if count > 1 else "Start bot")

    def _on_strategy_changed(self) -> None:
        self._show_strategy()
        self.bot_rows.follow_name()
        self._revalidate()
        if not self._building:
            self._fit_to_screen(self._content, self._bottom, grow_only=True)

    def _show_strategy(self) -> None:
        """Only the chosen strategy's settings and preview; the DCA sentences come back with its checks."""
        grid = self.current_strategy is StrategyKind.GRID
        self.also_on.blockSignals(True)
        self.bot_rows.show_also_on()
        self._label_start()
        self.also_on.blockSignals(False)
        self.setWindowTitle(TITLES[self.current_strategy])
        self.dca_form.set_shown(not grid)
        self._form.setRowVisible(self._grid_row, grid)
        self.ladder_panel.setVisible(not grid)
        self.grid_form.preview_panel.setVisible(grid)

    def refresh(self) -> None:
        """Read the pair's price and the free balance again (the window calls this on new tickers)."""
        self._revalidate()

    # -- checking -------------------------------------------------------------------------------------
    def _revalidate(self) -> None:
        if self._building:
            return
        if self.current_strategy is StrategyKind.GRID:
            self._revalidate_grid()
            return
        params, errors = self.dca_form.read_params()
        errors.update(self.bot_rows.errors())
        colour = error_colour(self)
        self.fields.show_errors(errors, colour)
        self._valid_params = params
        rows = self.bot_rows
        pair, market = rows.pair, rows.market
        preview, preview_error = make_preview(params, market, rows.price_of(pair) if pair else None)
        self.preview = preview
        others = self.other_checks = tuple(
            check_pair(params, p, rows.markets, rows.price_of) for p in self.also_on.chosen()
        )
        status = ladder_status(pair, params, market, preview, preview_error)
        self.ladder_panel.show_ladder(status, market, preview, ladder_problems(pair, preview, others), colour)
        groups = quote_groups(rows.pairs, rows.markets)
        funds = funds_facts(params, market, preview, groups, rows.free_balance_of)
        self.ladder_panel.show_funds(funds, colour)
        short = funds.short if funds is not None else ()
        self._ready = dca_ready(errors, preview, others, short)
        self.ok_button.setEnabled(self._ready)
        text = dca_summary(pair, errors, params, market, preview, preview_error, others, short, groups)
        self._show_summary(text)
        self.bot_rows.show_bot_names()

    def _revalidate_grid(self) -> None:
        errors = self.bot_rows.errors()
        self.fields.show_errors(errors, error_colour(self))
        rows = self.bot_rows
        market = rows.market
        price = rows.price_of(rows.pair) if rows.pair else None
        self.grid_form.follow_pair(rows.pair, market, price)
        result = self.grid_form.check(market, price, rows.free_balance_of)
        self._ready = not errors and result.ready
        self.ok_button.setEnabled(self._ready)
        self.other_checks = ()
        self.bot_rows.show_bot_names()
        if errors:
            titles = ["Name" if n == "name" else "Pair" for n in errors]
            titles += [field_label(GridParams, n) for n in result.errors]
            self._show_summary(needs_fixing(titles))
        else:
            self._show_summary(self.grid_form.summary(result, market, self.pair))

    def _show_summary(self, text: str) -> None:
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet("" if self._ready else f"color: {error_colour(self)};")

    # -- result ---------------------------------------------------------------------------------------
    def accept(self) -> None:
        self._revalidate()
        strategy = self.current_strategy
        params = self._valid_params if strategy is StrategyKind.DCA else self.grid_form.check_result.params
        if not self._ready or params is None:
            return
        bots = (
            self.bot_names() if strategy is StrategyKind.DCA else [(self.name_edit.text().strip(), self.pair)]
        )
        self.bots = tuple(bots)
        self.bot_name, self.symbol = bots[0]
        self.strategy = strategy
        self.params = params
        super().accept()
