"""The grid settings of the new-bot dialog: the GridParams fields with live checks, and the levels preview
with the funds the grid needs versus the free balance.

The form does no I/O: the dialog passes it the pair's market, last price and free balances on every
check. Until the person types in them, the prices and the amount follow the pair: ±5 % around its price,
10 levels, and about twice the exchange's smallest order per level.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.market import Market, quantize_to_step
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.grid import GridParams, GridPreview, GridSpacing, grid_preview
from cryptobots_desktop.core.strategies.grid_funds import grid_balance_problem, grid_funds_needed
from cryptobots_desktop.core.strategies.validation import field_label, field_problems

from .form_widgets import (
    FIELD_CHARS,
    FieldForm,
    error_colour,
    heading,
    number_edit,
    typed_decimal,
    wrapping,
)
from .formatting import fmt_pct as signed_pct
from .ladder_model import fmt_money, quote_decimals
from .levels_model import LevelsModel

DEFAULT_LEVELS = 10
DEFAULT_RANGE = Decimal("0.05")  # lower and upper price this far below and above the price
MIN_ORDER_MULTIPLE = 2  # amount per level: this many times the exchange's smallest order
DECIMAL_FIELDS = ("lower_price", "upper_price", "amount_per_level")
SPACINGS = (
    (GridSpacing.ARITHMETIC, "Arithmetic (equal price steps)"),
    (GridSpacing.GEOMETRIC, "Geometric (equal % steps)"),
)
_TITLE_TO_FIELD = {info.title: name for name, info in GridParams.model_fields.items() if info.title}
WAITING_FOR_PRICE = "Waiting for the pair's price…"


def _round_to(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return quantize_to_step(value, step, rounding).normalize()


def grid_defaults(market: Market, price: Decimal) -> dict[str, str]:
    """Settings that trade around ``price``: ±5 %, 10 levels, about twice the smallest order per level.

    The lower price and the step between arithmetic levels are rounded to about four significant digits of
    the price (never finer than the tick), the amount up to two significant digits (never finer than the
    lot step).
    """
    nice = max(market.price_tick, Decimal(10) ** (math.floor(math.log10(price)) - 3))
    lower = _round_to(price * (1 - DEFAULT_RANGE), nice)
    step = _round_to((price * (1 + DEFAULT_RANGE) - lower) / (DEFAULT_LEVELS - 1), nice)
    upper = lower + step * (DEFAULT_LEVELS - 1)  # round steps: arithmetic levels read as round prices
    smallest = max(market.min_amount, market.min_notional / lower)
    amount = smallest * MIN_ORDER_MULTIPLE
    two_digits = Decimal(10) ** (math.floor(math.log10(amount)) - 1)
    amount = _round_to(amount, max(market.amount_step, two_digits), ROUND_CEILING)
    return {
        "lower_price": format(lower, "f"),
        "upper_price": format(upper, "f"),
        "levels": str(DEFAULT_LEVELS),
        "amount_per_level": format(amount, "f"),
    }


@dataclass(frozen=True)
class GridCheck:
    """What the grid settings say now: the params (None while any field is wrong), one sentence per wrong
    field, the preview at the current price, and the free-balance shortfall."""

    params: GridParams | None
    errors: dict[str, str] = field(default_factory=dict)
    preview: GridPreview | None = None
    preview_error: str | None = None
    balance_problem: str | None = None

    @property
    def ready(self) -> bool:
        return (
            not self.errors
            and self.preview is not None
            and not self.preview.problems
            and self.balance_problem is None
        )


class GridForm(QObject):
    """The grid's settings (``settings``) and its levels preview (``preview_panel``), for the dialog to
    lay out; ``changed`` fires when the person edits a setting."""

    changed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._owner = parent
        self._filling = False
        self._auto: dict[str, str] = {}  # the defaults last filled in, while the person has not typed
        self._auto_pair: str | None = None
        self.check_result = GridCheck(None)
        self.settings = QWidget()
        self.settings.setObjectName("gridSettings")
        form = QFormLayout(self.settings)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.fields = FieldForm(form, GridParams)
        self.labels: list[QLabel] = []
        self._build_settings(form)
        self.preview_panel = self._build_preview()

    # -- building -------------------------------------------------------------------------------------
    def _build_settings(self, form: QFormLayout) -> None:
        form.addRow(heading("Grid"))
        for name in ("lower_price", "upper_price"):
            edit = number_edit(name, "", self._owner)
            edit.textChanged.connect(self._on_edit)
            self.labels.append(self.fields.add(name, edit, "quote"))
        levels = QSpinBox()
        levels.setObjectName("levels")
        levels.setRange(0, 9999)  # wider than allowed: out of range gets the model's sentence
        levels.setValue(DEFAULT_LEVELS)
        levels.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        levels.setFixedWidth(self._owner.fontMetrics().horizontalAdvance("0") * FIELD_CHARS)
        levels.valueChanged.connect(self._on_edit)
        self.labels.append(self.fields.add("levels", levels))
        spacing = QComboBox()
        spacing.setObjectName("spacing")
        for value, text in SPACINGS:
            spacing.addItem(text, value.value)
        spacing.setToolTip(
            "Arithmetic: the levels are the same price apart. Geometric: the same percentage apart, "
            "so each step earns about the same %."
        )
        spacing.currentIndexChanged.connect(self._on_edit)
        self.labels.append(self.fields.add("spacing", spacing))
        amount = number_edit("amount_per_level", "", self._owner)
        amount.textChanged.connect(self._on_edit)
        self.labels.append(self.fields.add("amount_per_level", amount, "base"))

    def _build_preview(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("gridPreviewPanel")
        v = QVBoxLayout(panel)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(heading("Levels preview"))
        self.status_label = wrapping("gridPreviewStatus", 50)
        v.addWidget(self.status_label)
        self.levels_model = LevelsModel(self)
        view = self.levels_view = QTableView()
        view.setObjectName("levelsPreview")
        view.setAccessibleName("Levels preview")
        view.setModel(self.levels_model)
        view.verticalHeader().hide()
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setWordWrap(False)
        view.setTabKeyNavigation(False)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # words stretch, not numbers
        view.verticalHeader().setDefaultSectionSize(self._owner.fontMetrics().height() + 8)
        self._fit_table_height()
        v.addWidget(view, 1)

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.step_profit_label = wrapping("gridStepProfit")
        self.buys_label = wrapping("gridBuyFunds")
        self.sells_label = wrapping("gridSellFunds")
        self.funds_label = wrapping("gridFundsNeeded")
        self.free_label = wrapping("gridFreeBalance")
        for text, label in (
            ("Profit per grid step", self.step_profit_label),
            ("Buy orders", self.buys_label),
            ("Sell orders", self.sells_label),
            ("Funds needed", self.funds_label),
            ("Free balance", self.free_label),
        ):
            name = QLabel(text)
            name.setBuddy(label)
            label.setAccessibleName(text)
            facts.addRow(name, label)
        v.addLayout(facts)
        self.balance_label = wrapping("gridBalanceCheck", 50)
        v.addWidget(self.balance_label)
        self.problems_label = wrapping("gridPreviewProblems", 50)
        v.addWidget(self.problems_label)
        v.addStretch(1)
        return panel

    def _fit_table_height(self) -> None:
        """At least the default grid without scrolling, at most all its levels."""
        view = self.levels_view
        row_height = view.verticalHeader().defaultSectionSize()
        chrome = view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth() + 2
        view.setMinimumHeight(chrome + DEFAULT_LEVELS * row_height)
        view.setMaximumHeight(chrome + max(DEFAULT_LEVELS, self.levels_model.rowCount()) * row_height)

    @property
    def tab_chain(self) -> list[QWidget]:
        names = ("lower_price", "upper_price", "levels", "spacing", "amount_per_level")
        return [*(self.fields.inputs[n] for n in names), self.levels_view]

    # -- defaults -------------------------------------------------------------------------------------
    def _edit(self, name: str) -> QLineEdit:
        widget = self.fields.inputs[name]
        assert isinstance(widget, QLineEdit)
        return widget

    def _spin(self) -> QSpinBox:
        widget = self.fields.inputs["levels"]
        assert isinstance(widget, QSpinBox)
        return widget

    def _values(self) -> dict[str, str]:
        values = {n: self._edit(n).text() for n in DECIMAL_FIELDS}
        values["levels"] = str(self._spin().value())
        return values

    def follow_pair(self, pair: str, market: Market | None, price: Decimal | None) -> None:
        """Fill in the defaults for ``pair`` once its price is known, unless the person typed settings."""
        if market is None or price is None or price <= 0 or pair == self._auto_pair:
            return
        untouched = not self._auto or self._values() == self._auto
        if not untouched:
            return
        defaults = grid_defaults(market, price)
        self._filling = True
        try:
            for name in DECIMAL_FIELDS:
                self._edit(name).setText(defaults[name])
            self._spin().setValue(int(defaults["levels"]))
        finally:
            self._filling = False
        self._auto = self._values()
        self._auto_pair = pair

    def set_units(self, market: Market | None) -> None:
        for name, label in self.fields.unit_labels.items():
            unit = "" if market is None else market.base if name == "amount_per_level" else market.quote
            label.setText(unit)

    def _on_edit(self) -> None:
        if not self._filling:
            self.changed.emit()

    # -- checking -------------------------------------------------------------------------------------
    def read_params(self) -> tuple[GridParams | None, dict[str, str]]:
        """The params the inputs say, or None; and one sentence per field that is wrong."""
        errors: dict[str, str] = {}
        data: dict[str, Any] = {"levels": self._spin().value()}
        combo = self.fields.inputs["spacing"]
        assert isinstance(combo, QComboBox)
        data["spacing"] = combo.currentData()
        for name in DECIMAL_FIELDS:
            value = typed_decimal(field_label(GridParams, name), self._edit(name).text())
            if isinstance(value, str):
                errors[name] = value
                continue
            data[name] = value
        try:
            params: GridParams | None = GridParams.model_validate(data)
        except ValidationError as error:
            params = None
            for label, sentence in field_problems(error, GridParams):
                name = _TITLE_TO_FIELD.get(label, "")
                if name not in errors and name in self.fields.inputs:  # missing ones already have theirs
                    errors[name] = sentence
        return (None if errors else params), errors

    def check(
        self, market: Market | None, price: Decimal | None, free_balance_of: Callable[[str], Decimal | None]
    ) -> GridCheck:
        """Read and check the settings, preview the grid at ``price``, show it all; returns the result."""
        params, errors = self.read_params()
        preview: GridPreview | None = None
        preview_error: str | None = None
        if params is not None and market is not None and price is not None and price > 0:
            try:
                preview = grid_preview(params, market, price)
            except ValueError:
                preview = None
            except ArithmeticError:
                preview_error = "These settings are too large to preview. Lower the prices or the amount."
        balance_problem: str | None = None
        if preview is not None and market is not None:
            free = free_balance_of(market.quote)
            if free is not None:
                balance_problem = grid_balance_problem(preview, market, free)
        result = GridCheck(params, errors, preview, preview_error, balance_problem)
        self.check_result = result
        self._show(result, market, price, free_balance_of)
        return result

    # -- showing --------------------------------------------------------------------------------------
    def _show(
        self,
        result: GridCheck,
        market: Market | None,
        price: Decimal | None,
        free_balance_of: Callable[[str], Decimal | None],
    ) -> None:
        colour = error_colour(self._owner)
        self.fields.show_errors(result.errors, colour)
        preview = result.preview
        if market is None:
            status = "The exchange's trading rules for this pair are not loaded yet."
        elif result.params is None:
            status = "The levels appear when the settings are valid."
        elif result.preview_error is not None:
            status = result.preview_error
        elif preview is None:
            status = WAITING_FOR_PRICE
        else:
            last = fmt_money(preview.price, market.quote, market.price_decimals)
            status = (
                f"The grid started now at {last}, the last price of {market.symbol}: buys below the price, "
                "sells above it, the level nearest it empty."
            )
        self.status_label.setText(status)
        levels = preview.levels if preview is not None and market is not None else ()
        if levels != self.levels_model.levels[::-1] or market is not self.levels_model.market:
            self.levels_model.set_levels(levels, market)
            self._fit_table_height()
        problems = preview.problems if preview is not None else ()
        self.problems_label.setText("\n".join(f"• {p}" for p in problems))
        self.problems_label.setStyleSheet(f"color: {colour};")
        self.problems_label.setVisible(bool(problems))
        self._show_funds(result, market, free_balance_of, colour)

    def _show_funds(
        self,
        result: GridCheck,
        market: Market | None,
        free_balance_of: Callable[[str], Decimal | None],
        colour: str,
    ) -> None:
        preview = result.preview
        labels = (
            self.step_profit_label,
            self.buys_label,
            self.sells_label,
            self.funds_label,
            self.free_label,
        )
        if preview is None or market is None:
            for label in labels:
                label.setText("—")
            self.balance_label.hide()
            return
        quote, decimals = market.quote, quote_decimals(market)
        low, high = preview.profit_per_step_min_pct, preview.profit_per_step_max_pct
        if low is None or high is None:
            self.step_profit_label.setText("—")
        else:
            lo, hi = signed_pct(low), signed_pct(high)
            self.step_profit_label.setText(f"{lo if lo == hi else f'{lo} to {hi}'} after fees")
        buys = sum(1 for lv in preview.levels if lv.side is OrderSide.BUY)
        sells = sum(1 for lv in preview.levels if lv.side is OrderSide.SELL)
        self.buys_label.setText(f"{fmt_money(preview.quote_for_buys, quote, decimals)} ({buys} buys)")
        if sells:
            base_amount = fmt_money(preview.base_for_sells, market.base, market.amount_decimals)
            value = fmt_money(preview.base_for_sells_value, quote, decimals)
            self.sells_label.setText(
                f"{base_amount} ({sells} sells), bought at market at the start: about {value}"
            )
        else:
            self.sells_label.setText("None: the price is at or above the highest level")
        needed = grid_funds_needed(preview)
        self.funds_label.setText(f"about {fmt_money(needed, quote, decimals)}")
        free = free_balance_of(quote)
        if free is None:
            self.free_label.setText("Not known yet")
            self.balance_label.setText(
                f"The free {quote} balance is not known yet: make sure about "
                f"{fmt_money(needed, quote, decimals)} is free before the grid starts."
            )
            self.balance_label.setStyleSheet("")
            self.balance_label.show()
            return
        self.free_label.setText(fmt_money(free, quote, decimals))
        problem = result.balance_problem
        self.balance_label.setText(problem or "")
        self.balance_label.setStyleSheet(f"color: {colour};")
        self.balance_label.setVisible(problem is not None)

    def summary(self, result: GridCheck, market: Market | None, pair: str) -> str:
        """The dialog's one-line verdict for the grid part (the name and pair are the dialog's)."""
        if result.errors:
            titles = [field_label(GridParams, n) for n in result.errors]
            count = "1 setting needs" if len(titles) == 1 else f"{len(titles)} settings need"
            return f"{count} fixing before the bot can start: {', '.join(titles)}."
        if market is None:
            return f"The bot can start once {pair}'s trading rules are loaded."
        if result.preview_error is not None:
            return result.preview_error
        if result.preview is None:
            return f"Waiting for {pair}'s price to place the levels and check them against the exchange."
        if result.preview.problems:
            n = len(result.preview.problems)
            what = "a problem" if n == 1 else f"{n} problems"
            return f"The grid has {what} (see the preview). Change the settings to start the bot."
        if result.balance_problem is not None:
            return f"Not enough free {market.quote} for this grid (see the preview)."
        needed = fmt_money(grid_funds_needed(result.preview), market.quote, quote_decimals(market))
        return f"Ready to start: about {needed} in this grid's orders."
