"""New bot: DCA or grid, the settings with live checks, and the DCA deal's ladder or the grid's levels
previewed at the pair's last price (the grid's form is :mod:`cryptobots_desktop.gui.grid_form`). A DCA
bot's settings may be started on more pairs at once ("Also on", :mod:`cryptobots_desktop.gui.also_on`):
one bot per pair, each pair's ladder checked at its own price and rules, the funds for all of them.

The dialog does no I/O and never touches the engine: it reads the prices and balances the window already
has through the callables it is given, and the window calls :meth:`NewBotDialog.refresh` when they change.
Open it with ``open()`` (window-modal, non-blocking) and read ``bots`` (the name and pair of each bot to
create), ``strategy`` and ``params`` on ``accepted``; ``bot_name`` and ``symbol`` are the first bot's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QGuiApplication, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import (
    MAX_SAFETY_ORDERS,
    DcaParams,
    DcaPreview,
    dca_preview,
    free_balance_problem,
    funds_needed,
    funds_per_deal,
    max_deviation_pct,
)
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.core.strategies.validation import field_label, field_problems

from .also_on import GRID_TOOLTIP, AlsoOnPairs, and_list, unbroken
from .form_widgets import MAX_INPUT_LENGTH, NUMBER_PATTERN, error_colour
from .form_widgets import heading as _heading
from .form_widgets import wrapping as _wrapping
from .grid_form import GridForm
from .ladder_model import LadderModel, fmt_deviation, fmt_money, quote_decimals

PAPER_ACCOUNT = "Paper account (simulated funds)"


@dataclass(frozen=True)
class AccountChoice:
    """An account a bot may trade on, as the dialog offers it: its pairs, prices and free balances.

    ``refused`` says why bots may not start there now ("" when they may); ``on_pair`` is called when
    a pair is chosen (a live account fetches its price, then the window calls ``refresh``).
    """

    account_id: str
    label: str
    markets: Mapping[str, Market]
    price_of: Callable[[str], Decimal | None]
    free_balance_of: Callable[[str], Decimal | None]
    refused: str = ""
    on_pair: Callable[[str], None] | None = None


WAITING_FOR_PRICE = "Waiting for the pair's price…"

# What a 3Commas user starts from: 20 + 5 safety orders from 40 (× 1.5), 1 % apart (× 1.2), take 1.5 %.
DEFAULTS: dict[str, str | int] = {
    "base_order_size": "20",
    "safety_order_size": "40",
    "max_safety_orders": 5,
    "price_deviation_pct": "1",
    "safety_order_step_scale": "1.2",
    "safety_order_volume_scale": "1.5",
    "take_profit_pct": "1.5",
    "trailing_deviation_pct": "0.5",
    "stop_loss_pct": "10",
    "cooldown_seconds": 0,
    "max_active_deals": 1,
}
DECIMAL_FIELDS = (
    "base_order_size",
    "safety_order_size",
    "price_deviation_pct",
    "safety_order_step_scale",
    "safety_order_volume_scale",
    "take_profit_pct",
    "trailing_deviation_pct",
    "stop_loss_pct",
)
STRATEGIES = ((StrategyKind.DCA, "DCA"), (StrategyKind.GRID, "Grid"))
TITLES = {StrategyKind.DCA: "New DCA bot", StrategyKind.GRID: "New grid bot"}
NAME_PREFIX = {StrategyKind.DCA: "DCA", StrategyKind.GRID: "Grid"}
_TITLE_TO_FIELD = {info.title: name for name, info in DcaParams.model_fields.items() if info.title}


@dataclass(frozen=True)
class PairCheck:
    """One more pair the DCA bot starts on: its ladder at its own price (None while the price is unknown)."""

    pair: str
    market: Market | None
    preview: DcaPreview | None
    error: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """The ladder's problems at this pair's price, or why it could not be worked out."""
        if self.error is not None:
            return (self.error,)
        return self.preview.problems if self.preview is not None else ()


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
        self._markets = markets
        self._price_of = price_of
        self._free_balance_of = free_balance_of
        self._choices = list(accounts)  # more than one: an account picker (the first is the default)
        self._choice: AccountChoice | None = self._choices[0] if self._choices else None
        self._building = True

        self.bot_name: str | None = None
        self.symbol: str | None = None
        self.bots: tuple[tuple[str, str], ...] = ()
        self.strategy = StrategyKind.DCA
        self.params: DcaParams | GridParams | None = None
        self.preview: DcaPreview | None = None  # the ladder shown, None while there is none
        self.other_checks: tuple[PairCheck, ...] = ()  # the "Also on" pairs' ladders, at their own prices
        self._asked_prices: set[str] = set()  # "Also on" pairs whose price the account was asked for
        self._valid_params: DcaParams | None = None
        self._ready = False

        self.inputs: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        self._error_rows: dict[str, int] = {}
        self._unit_labels: list[QLabel] = []
        self._auto_name = ""

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self._build_bot_rows(pairs, account_label)
        first_dca_row = self._form.rowCount()
        self._build_order_rows()
        self._build_take_profit_rows()
        self._build_limit_rows()
        self._dca_rows = range(first_dca_row, self._form.rowCount())
        self.grid_form = GridForm(self)
        self.grid_form.changed.connect(self._revalidate)
        self._form.addRow(self.grid_form.settings)
        self._grid_row = self._form.rowCount() - 1
        self._align_grid_labels()
        settings = QWidget()
        settings.setObjectName("settingsPanel")
        settings.setLayout(self._form)

        preview = self._preview_panel = self._build_preview()
        content = QWidget()
        row = QHBoxLayout(content)
        row.addWidget(settings, 0, Qt.AlignmentFlag.AlignTop)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        row.addWidget(line)
        row.addWidget(preview, 1)
        row.addWidget(self.grid_form.preview_panel, 1)
        scroll = QScrollArea()
        scroll.setObjectName("dialogScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        self.summary_label = _wrapping("validationSummary", 50)
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
        self._on_pair_changed(self.pair_combo.currentText())
        self._fit_to_screen(content, bottom)

    # -- building -------------------------------------------------------------------------------------
    def _add_row(self, name: str, label: QWidget, field: QWidget, unit: str | None = None) -> None:
        """``label | field unit`` and, hidden until needed, the field's sentence under it."""
        self.inputs[name] = field
        if isinstance(label, QLabel):
            label.setBuddy(field)
        title = field_label(DcaParams, name)
        field.setAccessibleName(title)
        info = DcaParams.model_fields.get(name)
        if info is not None and info.description:
            field.setToolTip(info.description)
        box = QWidget()
        h = QHBoxLayout(box)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(field)
        if unit is not None:
            unit_label = QLabel(unit)
            unit_label.setObjectName(f"{name}Unit")
            if unit == "quote":
                self._unit_labels.append(unit_label)
            h.addWidget(unit_label)
        h.addStretch(1)
        self._form.addRow(label, box)
        error = _wrapping(f"{name}Error", 50)
        self.error_labels[name] = error
        self._form.addRow(error)  # the whole row's width: some sentences are long, and they name the field
        self._error_rows[name] = self._form.rowCount() - 1
        self._form.setRowVisible(self._error_rows[name], False)

    def _number_edit(self, name: str) -> QLineEdit:
        edit = QLineEdit(str(DEFAULTS[name]))
        edit.setObjectName(name)
        edit.setValidator(QRegularExpressionValidator(QRegularExpression(NUMBER_PATTERN), edit))
        edit.setMaxLength(MAX_INPUT_LENGTH)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        edit.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 14)
        edit.textChanged.connect(self._revalidate)
        return edit

    def _spin(self, name: str, low: int, high: int, suffix: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(int(DEFAULTS[name]))
        spin.setSuffix(suffix)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        spin.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 14)
        spin.valueChanged.connect(self._revalidate)
        return spin

    def _build_bot_rows(self, pairs: Sequence[str], account_label: str) -> None:
        self._form.addRow(_heading("Bot"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("botName")
        self.name_edit.setMaxLength(80)
        self.name_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 28)
        self.name_edit.textChanged.connect(self._revalidate)
        self._add_row("name", QLabel("&Name"), self.name_edit)
        self.name_edit.setAccessibleName("Name")
        self.name_edit.setToolTip("How the bot is listed in Bots, Deals and Activity.")

        self.account_label = QLabel(account_label)
        self.account_label.setObjectName("accountLabel")
        self.account_label.setAccessibleName("Account")
        self.account_combo: QComboBox | None = None
        if len(self._choices) > 1:
            combo = self.account_combo = QComboBox()
            combo.setObjectName("accountCombo")
            for choice in self._choices:
                combo.addItem(choice.label, choice.account_id)
            combo.setAccessibleName("Account")
            combo.setToolTip("The exchange account the bot trades on: paper (simulated) or a connected one.")
            combo.currentIndexChanged.connect(self._on_account_changed)
            self._add_row("account", QLabel("&Account"), combo)
        else:
            self._form.addRow(QLabel("Account"), self.account_label)

        self.pair_combo = QComboBox()
        self.pair_combo.setObjectName("pairCombo")
        self.pair_combo.addItems(list(pairs))
        self.pair_combo.setMinimumContentsLength(10)
        self.pair_combo.currentTextChanged.connect(self._on_pair_changed)
        self._add_row("pair", QLabel("&Pair"), self.pair_combo)
        self.pair_combo.setAccessibleName("Pair")
        self.pair_combo.setToolTip(
            "The spot pair the bot trades: it buys the base with the quote. The preview is at its price."
        )

        self.also_on = AlsoOnPairs()
        also_label = QLabel("Also &on")
        also_label.setBuddy(self.also_on.list)
        self._form.addRow(also_label, self.also_on)
        self._also_row = self._form.rowCount() - 1
        self.also_on.set_pairs(list(pairs), self.pair_combo.currentText())
        self.also_on.changed.connect(self._on_also_on_changed)

        self.strategy_combo = QComboBox()
        self.strategy_combo.setObjectName("strategyCombo")
        for kind, text in STRATEGIES:
            self.strategy_combo.addItem(text, kind.value)
        self.strategy_combo.setAccessibleName("Strategy")
        self.strategy_combo.setToolTip(
            "DCA: buys, then buys more as the price falls, and sells the whole deal at a take profit. "
            "Grid: keeps buys below the price and sells above it between a lower and an upper price."
        )
        self.strategy_combo.currentIndexChanged.connect(self._on_strategy_changed)
        strategy_label = QLabel("&Strategy")
        strategy_label.setBuddy(self.strategy_combo)
        self._form.addRow(strategy_label, self.strategy_combo)

    def _title_label(self, name: str) -> QLabel:
        return QLabel(field_label(DcaParams, name))

    def _build_order_rows(self) -> None:
        self._form.addRow(_heading("Orders"))
        self._add_row(
            "base_order_size",
            self._title_label("base_order_size"),
            self._number_edit("base_order_size"),
            "quote",
        )
        self._add_row(
            "safety_order_size",
            self._title_label("safety_order_size"),
            self._number_edit("safety_order_size"),
            "quote",
        )
        self._add_row(
            "max_safety_orders",
            self._title_label("max_safety_orders"),
            self._spin("max_safety_orders", 0, MAX_SAFETY_ORDERS),
        )
        for name, unit in (
            ("price_deviation_pct", "%"),
            ("safety_order_step_scale", "×"),
            ("safety_order_volume_scale", "×"),
        ):
            self._add_row(name, self._title_label(name), self._number_edit(name), unit)

    def _build_take_profit_rows(self) -> None:
        self._form.addRow(_heading("Take profit"))
        self._add_row(
            "take_profit_pct", self._title_label("take_profit_pct"), self._number_edit("take_profit_pct"), "%"
        )
        self.trailing_check = QCheckBox(field_label(DcaParams, "trailing_take_profit"))
        self.trailing_check.setObjectName("trailing_take_profit")
        self.trailing_check.setChecked(False)
        self.trailing_check.setToolTip(
            "Instead of selling at the take-profit price, follow the price up and sell when it falls "
            "back by the trailing deviation."
        )
        self.trailing_check.toggled.connect(self._on_toggles)
        self.inputs["trailing_take_profit"] = self.trailing_check
        self._form.addRow(QLabel(), self.trailing_check)
        self._add_row(
            "trailing_deviation_pct",
            self._title_label("trailing_deviation_pct"),
            self._number_edit("trailing_deviation_pct"),
            "%",
        )

    def _build_limit_rows(self) -> None:
        self._form.addRow(_heading("Risk and limits"))
        self.stop_loss_check = QCheckBox(field_label(DcaParams, "stop_loss_pct"))
        self.stop_loss_check.setObjectName("stop_loss_enabled")
        self.stop_loss_check.setAccessibleName("Use a stop loss")
        self.stop_loss_check.setToolTip("Sell the whole deal at a loss if the price falls this far.")
        self.stop_loss_check.toggled.connect(self._on_toggles)
        self._add_row("stop_loss_pct", self.stop_loss_check, self._number_edit("stop_loss_pct"), "%")
        self._add_row(
            "cooldown_seconds",
            self._title_label("cooldown_seconds"),
            self._spin("cooldown_seconds", 0, 10**7, " s"),
        )
        self._add_row(
            "max_active_deals", self._title_label("max_active_deals"), self._spin("max_active_deals", 1, 1000)
        )
        self.inputs["max_active_deals"].setToolTip("How many deals of this bot may be open at the same time.")
        self._on_toggles()

    def _build_preview(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("previewPanel")
        v = QVBoxLayout(panel)
        v.addWidget(_heading("Ladder preview"))
        self.preview_status = _wrapping("previewStatus", 50)
        v.addWidget(self.preview_status)

        self.ladder_model = LadderModel(self)
        self.ladder_view = QTableView()
        self.ladder_view.setObjectName("ladderPreview")
        self.ladder_view.setAccessibleName("Ladder preview")
        self.ladder_view.setModel(self.ladder_model)
        self.ladder_view.verticalHeader().hide()
        self.ladder_view.setAlternatingRowColors(True)
        self.ladder_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.ladder_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ladder_view.setWordWrap(False)
        self.ladder_view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        header = self.ladder_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.ladder_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self._fit_table_height()
        v.addWidget(self.ladder_view, 1)

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.funds_per_deal_label = _wrapping("fundsPerDeal")
        self.funds_needed_label = _wrapping("fundsNeeded")
        self.free_balance_label = _wrapping("freeBalance")
        self.max_deviation_label = _wrapping("maxDeviation")
        self.stop_loss_price_label = _wrapping("stopLossPrice")
        for text, label in (
            ("Funds per deal", self.funds_per_deal_label),
            ("Funds needed", self.funds_needed_label),
            ("Free balance", self.free_balance_label),
            ("Max deviation covered", self.max_deviation_label),
            ("Stop loss price", self.stop_loss_price_label),
        ):
            name = QLabel(text)
            name.setBuddy(label)
            label.setAccessibleName(text)
            facts.addRow(name, label)
        v.addLayout(facts)

        self.balance_label = _wrapping("balanceCheck", 50)
        v.addWidget(self.balance_label)
        self.problems_label = _wrapping("previewProblems", 50)
        v.addWidget(self.problems_label)
        v.addStretch(1)  # the ladder only as tall as its rows; what is left goes below everything
        return panel

    def _fit_table_height(self) -> None:
        """At least the default ladder (base + 5 safety orders) without scrolling, at most all its rows."""
        view = self.ladder_view
        row_height = view.verticalHeader().defaultSectionSize()
        chrome = view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth() + 2
        view.setMinimumHeight(chrome + 6 * row_height)
        view.setMaximumHeight(chrome + max(6, self.ladder_model.rowCount()) * row_height)

    def _align_grid_labels(self) -> None:
        """The grid form's labels as wide as the bot rows' labels, so both columns line up."""
        bot_labels = [
            w
            for i in range(self._dca_rows.start)
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
        order = [
            "base_order_size",
            "safety_order_size",
            "max_safety_orders",
            "price_deviation_pct",
            "safety_order_step_scale",
            "safety_order_volume_scale",
            "take_profit_pct",
            "trailing_take_profit",
            "trailing_deviation_pct",
        ]
        chain += [self.inputs[n] for n in order]
        chain += [self.stop_loss_check, self.inputs["stop_loss_pct"]]
        chain += [self.inputs["cooldown_seconds"], self.inputs["max_active_deals"], self.ladder_view]
        chain += self.grid_form.tab_chain
        chain += [self.ok_button, self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _table_width(self) -> int:
        """The width the ladder needs to show every column in full."""
        view, header = self.ladder_view, self.ladder_view.horizontalHeader()
        columns = sum(
            max(view.sizeHintForColumn(i), header.sectionSizeHint(i)) for i in range(header.count())
        )
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return columns + 2 * view.frameWidth() + scrollbar

    def _fit_to_screen(self, content: QWidget, bottom: QHBoxLayout, grow_only: bool = False) -> None:
        """Big enough to show everything at once when the screen allows; the scroll area does the rest."""
        want = content.sizeHint()
        outer = self.layout()
        margins = outer.contentsMargins()
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width = (
            want.width()
            + max(0, self._table_width() - self._preview_panel.sizeHint().width())
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

    # -- reading the settings -------------------------------------------------------------------------
    @property
    def pair(self) -> str:
        return self.pair_combo.currentText()

    @property
    def market(self) -> Market | None:
        return self._markets.get(self.pair)

    def _edit(self, name: str) -> QLineEdit:
        widget = self.inputs[name]
        assert isinstance(widget, QLineEdit)
        return widget

    def _read_params(self) -> tuple[DcaParams | None, dict[str, str]]:
        """The params the inputs say, or None; and one sentence per field that is wrong."""
        errors: dict[str, str] = {}
        data: dict[str, Any] = {"trailing_take_profit": self.trailing_check.isChecked()}
        unused = {
            "trailing_deviation_pct": not self.trailing_check.isChecked(),
            "stop_loss_pct": not self.stop_loss_check.isChecked(),
        }
        for name in DECIMAL_FIELDS:
            if unused.get(name):
                data[name] = None
                continue
            title = field_label(DcaParams, name)
            text = self._edit(name).text().strip()
            if not text:
                errors[name] = f"{title} is required."
                continue
            try:
                value = Decimal(text)
            except InvalidOperation:
                value = Decimal("NaN")
            if not value.is_finite():
                errors[name] = f"{title} must be a number, like 10 or 2.5."
                continue
            data[name] = value
        for name in ("max_safety_orders", "cooldown_seconds", "max_active_deals"):
            spin = self.inputs[name]
            assert isinstance(spin, QSpinBox)
            data[name] = spin.value()
        try:
            params: DcaParams | None = DcaParams.model_validate(data)
        except ValidationError as error:
            params = None
            for label, sentence in field_problems(error, DcaParams):
                errors.setdefault(_TITLE_TO_FIELD.get(label, ""), sentence)
        return (None if errors else params), errors

    # -- reacting -------------------------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        """The chosen account's id ("paper" when no other is offered)."""
        return self._choice.account_id if self._choice is not None else "paper"

    def _on_account_changed(self, index: int) -> None:
        choice = self._choices[index]
        self._choice = choice
        self._markets = choice.markets
        self._price_of = choice.price_of
        self._free_balance_of = choice.free_balance_of
        current = self.pair
        pairs = sorted(choice.markets, key=lambda p: (not p.endswith("/USDT"), p))
        self.pair_combo.blockSignals(True)
        self.pair_combo.clear()
        self.pair_combo.addItems(pairs)
        if current in choice.markets:
            self.pair_combo.setCurrentText(current)
        self.pair_combo.blockSignals(False)
        self.also_on.blockSignals(True)
        self.also_on.set_pairs(pairs, self.pair)  # the ticked pairs this account also trades stay ticked
        self.also_on.blockSignals(False)
        self._show_also_on()
        self._asked_prices.clear()
        self._ask_prices()
        self._on_pair_changed(self.pair)

    def _on_pair_changed(self, pair: str) -> None:
        if self._choice is not None and self._choice.on_pair is not None and pair:
            self._choice.on_pair(pair)
        self.also_on.blockSignals(True)
        self.also_on.set_main(pair)
        self.also_on.blockSignals(False)
        self._follow_name()
        market = self._markets.get(pair)
        for label in self._unit_labels:
            label.setText(market.quote if market is not None else "")
        self.grid_form.set_units(market)
        self._revalidate()

    def _follow_name(self) -> None:
        """The name says the strategy and the pair until the person types one."""
        pair = self.pair
        if self.name_edit.text().strip() in ("", self._auto_name):
            self._auto_name = f"{NAME_PREFIX[self.current_strategy]} {pair}" if pair else ""
            self.name_edit.setText(self._auto_name)

    def _on_also_on_changed(self) -> None:
        self._ask_prices()
        self._label_start()
        self._revalidate()

    def _label_start(self) -> None:
        """ "Start bot", or "Start 3 bots" when DCA settings start on several pairs."""
        count = len(self.pairs) if self.current_strategy is StrategyKind.DCA else 1
        self.ok_button.setText(f"Start {count} bots" if count > 1 else "Start bot")

    def _ask_prices(self) -> None:
        """Ask a live account for the price of each pair newly ticked (the window calls ``refresh``)."""
        for pair in self.also_on.chosen():
            if (
                pair not in self._asked_prices
                and self._choice is not None
                and self._choice.on_pair is not None
            ):
                self._choice.on_pair(pair)
            self._asked_prices.add(pair)

    def _show_also_on(self) -> None:
        """The "Also on" row only when the account has other pairs; off (saying why) for a grid."""
        self._form.setRowVisible(self._also_row, bool(self.also_on.offered()))
        self.also_on.set_blocked(GRID_TOOLTIP if self.current_strategy is StrategyKind.GRID else "")
        self._label_start()

    @property
    def pairs(self) -> list[str]:
        """The pairs a bot starts on: the previewed one, then those ticked under "Also on"."""
        return [self.pair, *self.also_on.chosen()] if self.pair else []

    def bot_names(self) -> list[tuple[str, str]]:
        """``(name, pair)`` of each bot to start. Several pairs: each bot is "<name> <pair>", or the
        automatic name of its own pair while the person has not typed one."""
        pairs = self.pairs
        typed = self.name_edit.text().strip()
        if len(pairs) <= 1:
            return [(typed, p) for p in pairs]
        if typed == self._auto_name:
            return [(f"{NAME_PREFIX[self.current_strategy]} {p}", p) for p in pairs]
        return [(f"{typed} {p}", p) for p in pairs]

    @property
    def current_strategy(self) -> StrategyKind:
        return StrategyKind(self.strategy_combo.currentData())

    def _on_strategy_changed(self) -> None:
        self._show_strategy()
        self._follow_name()
        self._revalidate()
        if not self._building:
            self._fit_to_screen(self._content, self._bottom, grow_only=True)

    def _show_strategy(self) -> None:
        """Only the chosen strategy's settings and preview; the DCA sentences come back with its checks."""
        grid = self.current_strategy is StrategyKind.GRID
        self.also_on.blockSignals(True)
        self._show_also_on()
        self.also_on.blockSignals(False)
        self.setWindowTitle(TITLES[self.current_strategy])
        error_rows = set(self._error_rows.values())
        for row in self._dca_rows:
            if grid or row not in error_rows:
                self._form.setRowVisible(row, not grid)
        self._form.setRowVisible(self._grid_row, grid)
        self._preview_panel.setVisible(not grid)
        self.grid_form.preview_panel.setVisible(grid)

    def _on_toggles(self) -> None:
        self.inputs["trailing_deviation_pct"].setEnabled(self.trailing_check.isChecked())
        self.inputs["stop_loss_pct"].setEnabled(self.stop_loss_check.isChecked())
        self._revalidate()

    def refresh(self) -> None:
        """Read the pair's price and the free balance again (the window calls this on new tickers)."""
        self._revalidate()

    def _bot_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.name_edit.text().strip():
            errors["name"] = "Name is required: it is how the bot is listed in Bots and Deals."
        if not self.pair:
            errors["pair"] = "Choose a pair."
        if self._choice is not None and self._choice.refused:
            errors["account"] = self._choice.refused
        return errors

    def _revalidate(self) -> None:
        if self._building:
            return
        if self.current_strategy is StrategyKind.GRID:
            self._revalidate_grid()
            return
        params, errors = self._read_params()
        errors.update(self._bot_errors())
        self._show_field_errors(errors)
        self._valid_params = params
        market = self.market
        price = self._price_of(self.pair) if self.pair else None
        preview, preview_error = self._make_preview(params, market, price)
        self.preview = preview
        others = self.other_checks = tuple(self._check_pair(params, p) for p in self.also_on.chosen())
        self._show_preview(params, market, preview, preview_error, others)
        short = self._show_funds(params, market, preview)
        self._ready = (
            not errors
            and preview is not None
            and not preview.problems
            and all(c.preview is not None and not c.problems for c in others)
            and not short
        )
        self.ok_button.setEnabled(self._ready)
        self._show_summary(errors, params, market, preview, preview_error, short)
        self._show_bot_names()

    def _check_pair(self, params: DcaParams | None, pair: str) -> PairCheck:
        """An "Also on" pair's ladder at its own price and rules."""
        market = self._markets.get(pair)
        preview, error = self._make_preview(params, market, self._price_of(pair))
        return PairCheck(pair, market, preview, error)

    def _show_bot_names(self) -> None:
        """Under "Also on": the bots the Start button starts, by name, while there are several."""
        bots = self.bot_names() if self.current_strategy is StrategyKind.DCA else []
        label = self.also_on.names_label
        if len(bots) > 1 and self.name_edit.text().strip():
            names = and_list([unbroken(name) for name, _ in bots])
            label.setText(f"Starts {len(bots)} bots, one per pair: {names}.")
            label.show()
        else:
            label.hide()

    def _revalidate_grid(self) -> None:
        errors = self._bot_errors()
        self._show_field_errors(errors)
        market = self.market
        price = self._price_of(self.pair) if self.pair else None
        self.grid_form.follow_pair(self.pair, market, price)
        result = self.grid_form.check(market, price, self._free_balance_of)
        self._ready = not errors and result.ready
        self.ok_button.setEnabled(self._ready)
        self.other_checks = ()
        self._show_bot_names()
        if errors:
            titles = ["Name" if n == "name" else "Pair" for n in errors]
            titles += [field_label(GridParams, n) for n in result.errors]
            count = "1 setting needs" if len(titles) == 1 else f"{len(titles)} settings need"
            text = f"{count} fixing before the bot can start: {', '.join(titles)}."
        else:
            text = self.grid_form.summary(result, market, self.pair)
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet("" if self._ready else f"color: {self._error_colour()};")

    def _make_preview(
        self, params: DcaParams | None, market: Market | None, price: Decimal | None
    ) -> tuple[DcaPreview | None, str | None]:
        if params is None or market is None or price is None or price <= 0:
            return None, None
        try:
            return dca_preview(params, market, price), None
        except ValueError:  # the price rounds to nothing at the tick: as good as unknown
            return None, None
        except ArithmeticError:
            return None, "These settings are too large to preview. Lower the sizes or the scales."

    # -- showing --------------------------------------------------------------------------------------
    def _error_colour(self) -> str:
        return error_colour(self)

    def _show_field_errors(self, errors: dict[str, str]) -> None:
        colour = self._error_colour()
        for name, label in self.error_labels.items():
            sentence = errors.get(name, "")
            label.setText(sentence)
            label.setStyleSheet(f"color: {colour};")
            self._form.setRowVisible(self._error_rows[name], bool(sentence))
            field = self.inputs[name]
            if bool(field.property("invalid")) != bool(sentence):
                field.setProperty("invalid", bool(sentence))
                outline = f"border: 2px solid {colour}; border-radius: 3px; padding: 1px;"
                field.setStyleSheet(f"QLineEdit, QComboBox {{ {outline} }}" if sentence else "")
            field.setAccessibleDescription(sentence)

    def _show_preview(
        self,
        params: DcaParams | None,
        market: Market | None,
        preview: DcaPreview | None,
        preview_error: str | None,
        others: Sequence[PairCheck] = (),
    ) -> None:
        colour = self._error_colour()
        if market is None:
            status = (
                f"The exchange's trading rules for {self.pair} are not loaded yet."
                if self.pair
                else "Choose a pair."
            )
        elif params is None:
            status = "The ladder appears when the settings are valid."
        elif preview_error is not None:
            status = preview_error
        elif preview is None:
            status = WAITING_FOR_PRICE
        else:
            last = fmt_money(preview.base_price, market.quote, market.price_decimals)
            status = f"A deal opened now at {last}, the last price of {market.symbol}:"
        self.preview_status.setText(status)
        if preview is None or market is None:
            if self.ladder_model.rowCount() or market is not self.ladder_model.market:
                self.ladder_model.set_rows((), market)  # no rows, but the headers keep the currencies
                self._fit_table_height()
        elif self.ladder_model.rowCount() != len(preview.rows) or any(
            self.ladder_model.row(i) != row for i, row in enumerate(preview.rows)
        ):
            self.ladder_model.set_rows(preview.rows, market)
            self._fit_table_height()
        problems = list(preview.problems if preview is not None else ())
        if others:  # each pair's problems under its name: the ladder shown is only the first pair's
            problems = [f"{self.pair}: {p}" for p in problems]
            problems += [f"{c.pair}: {p}" for c in others for p in c.problems]
        self.problems_label.setText("\n".join(f"• {p}" for p in problems))
        self.problems_label.setStyleSheet(f"color: {colour};")
        self.problems_label.setVisible(bool(problems))

    def _quote_groups(self) -> dict[str, tuple[int, Market]]:
        """The pairs the bots start on, by quote currency (the previewed pair's first): how many bots, and
        one of their markets (for the money's precision)."""
        groups: dict[str, tuple[int, Market]] = {}
        for pair in self.pairs:
            market = self._markets.get(pair)
            if market is not None:
                n, first = groups.get(market.quote, (0, market))
                groups[market.quote] = (n + 1, first)
        return groups

    def _show_funds(
        self, params: DcaParams | None, market: Market | None, preview: DcaPreview | None
    ) -> list[str]:
        """The funds lines, for all the bots started at once; returns the quote currencies whose free
        balance falls short of what they may need."""
        labels = (
            self.funds_per_deal_label,
            self.funds_needed_label,
            self.free_balance_label,
            self.max_deviation_label,
            self.stop_loss_price_label,
        )
        if params is None or market is None:
            for label in labels:
                label.setText("—")
            self.balance_label.hide()
            return []
        quote, decimals = market.quote, quote_decimals(market)
        self.funds_per_deal_label.setText(fmt_money(funds_per_deal(params), quote, decimals))
        deals = params.max_active_deals
        each = funds_needed(params)
        groups = self._quote_groups()
        bots = sum(n for n, _ in groups.values())
        if bots <= 1:
            scope = "1 deal at a time" if deals == 1 else f"× {deals} deals at a time"
            self.funds_needed_label.setText(f"{fmt_money(each, quote, decimals)} ({scope})")
        else:
            lines = []
            for q, (n, m) in groups.items():
                d = quote_decimals(m)
                who = f"{n} bots × {fmt_money(each, q, d)}" if n > 1 else "1 bot"
                at_once = (
                    ("1 deal" if deals == 1 else f"{deals} deals") + " at a time" + (" each" if n > 1 else "")
                )
                lines.append(f"{fmt_money(each * n, q, d)} ({who}, {at_once})")
            self.funds_needed_label.setText("\n".join(lines))
        deviation = fmt_deviation(max_deviation_pct(params))
        if preview is not None and preview.rows:
            deviation += f" (down to {fmt_money(preview.rows[-1].price, quote, market.price_decimals)})"
        self.max_deviation_label.setText(deviation)
        if params.stop_loss_pct is None:
            self.stop_loss_price_label.setText("No stop loss")
        elif preview is not None and preview.stop_loss_price is not None:
            self.stop_loss_price_label.setText(
                f"{fmt_money(preview.stop_loss_price, quote, market.price_decimals)} "
                f"({fmt_deviation(params.stop_loss_pct)})"
            )
        else:
            self.stop_loss_price_label.setText(fmt_deviation(params.stop_loss_pct))

        whose = "the bot's" if bots <= 1 else "the bots'"
        free_lines: list[str] = []
        sentences: list[str] = []
        short: list[str] = []
        for q, (n, m) in groups.items():
            d = quote_decimals(m)
            free = self._free_balance_of(q)
            if free is None:
                free_lines.append("Not known yet" if len(groups) == 1 else f"{q}: not known yet")
                sentences.append(
                    f"The free {q} balance is not known yet: make sure "
                    f"{fmt_money(each * n, q, d)} is free before {whose} deals need it."
                )
                continue
            free_lines.append(fmt_money(free, q, d))
            problem = free_balance_problem(params, free, q, bots=n)
            if problem is not None:
                sentences.append(problem)
                short.append(q)
        self.free_balance_label.setText("\n".join(free_lines))
        self.balance_label.setText("\n".join(sentences))
        self.balance_label.setStyleSheet(f"color: {self._error_colour()};" if short else "")
        self.balance_label.setVisible(bool(sentences))
        return short

    def _show_summary(
        self,
        errors: dict[str, str],
        params: DcaParams | None,
        market: Market | None,
        preview: DcaPreview | None,
        preview_error: str | None,
        short: Sequence[str],
    ) -> None:
        others = self.other_checks
        bad = [(c.pair, len(c.problems)) for c in others if c.problems]
        if preview is not None and preview.problems:
            bad.insert(0, (self.pair, len(preview.problems)))
        waiting = ([self.pair] if preview is None else []) + [c.pair for c in others if c.preview is None]
        if errors:
            titles = [
                "Name"
                if n == "name"
                else "Pair"
                if n == "pair"
                else field_label(DcaParams, n)
                if n
                else "Settings"
                for n in errors
            ]
            count = "1 setting needs" if len(titles) == 1 else f"{len(titles)} settings need"
            text = f"{count} fixing before the bot can start: {', '.join(titles)}."
        elif market is None:
            text = f"The bot can start once {self.pair}'s trading rules are loaded."
        elif preview_error is not None:
            text = preview_error
        elif bad and not others:
            n = bad[0][1]
            what = "an order that the exchange would reject" if n == 1 else f"{n} problems"
            text = f"The ladder has {what} (see the preview). Change the settings to start the bot."
        elif bad:  # name the pairs: each is checked at its own price and rules
            n = sum(count for _, count in bad)
            what = "an order that the exchange would reject" if n == 1 else f"{n} problems"
            names = and_list([pair for pair, _ in bad])
            ladder = f"The ladder on {names} has" if len(bad) == 1 else f"The ladders on {names} have"
            fix = (
                "Change the settings to start the bots."
                if bad[0][0] == self.pair
                else f"Change the settings, or untick {names} under Also on, to start the bots."
            )
            text = f"{ladder} {what} (see the preview). {fix}"
        elif waiting:
            whose = f"{waiting[0]}'s price" if len(waiting) == 1 else f"the prices of {and_list(waiting)}"
            text = f"Waiting for {whose} to check the orders against the exchange's minimums."
        elif short:
            who = "this bot" if not others else f"these {len(others) + 1} bots"
            text = f"Not enough free {and_list(short)} for {who} (see the preview)."
        else:
            assert params is not None
            each = funds_needed(params)
            groups = self._quote_groups()
            totals = and_list([fmt_money(each * n, q, quote_decimals(m)) for q, (n, m) in groups.items()])
            if not others:
                text = f"Ready to start: up to {totals} in this bot's deals."
            else:
                text = f"Ready to start {len(others) + 1} bots: up to {totals} in their deals."
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet("" if self._ready else f"color: {self._error_colour()};")

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
