"""The new-bot dialog's bot rows: the bot's name, the account it trades on, its pair, "Also on" (more pairs,
one bot each, :mod:`cryptobots_desktop.gui.also_on`) and the strategy; and what they say: the chosen
account's markets, prices and free balances, the pairs, and the names of the bots to start.

The name follows the strategy and the pair until the person types one. Another account offers its own
pairs; a live account is asked the price of each pair chosen (the window then refreshes the dialog).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.market import Market

from .also_on import GRID_TOOLTIP, AlsoOnPairs
from .form_widgets import FieldForm, heading
from .new_bot_summary import bots_to_start

PAPER_ACCOUNT = "Paper account (simulated funds)"
STRATEGIES = ((StrategyKind.DCA, "DCA"), (StrategyKind.GRID, "Grid"))
NAME_PREFIX = {StrategyKind.DCA: "DCA", StrategyKind.GRID: "Grid"}


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


class BotRows(QObject):
    """The bot rows, added first to the dialog's ``fields``, with the chosen account's ``markets``,
    ``price_of`` and ``free_balance_of``. ``changed`` fires when the name is edited, ``pair_changed`` when
    the previewed pair (or the account) changes, ``pairs_changed`` when pairs are ticked under "Also on",
    ``strategy_changed`` when the strategy is switched."""

    changed = Signal()
    pair_changed = Signal()
    pairs_changed = Signal()
    strategy_changed = Signal()

    def __init__(
        self,
        owner: QWidget,
        fields: FieldForm,
        pairs: Sequence[str],
        markets: Mapping[str, Market],
        price_of: Callable[[str], Decimal | None],
        free_balance_of: Callable[[str], Decimal | None],
        account_label: str,
        choices: Sequence[AccountChoice],
    ) -> None:
        super().__init__(owner)
        self._form = fields.form
        self.markets = markets
        self.price_of = price_of
        self.free_balance_of = free_balance_of
        self._choices = list(choices)  # more than one: an account picker (the first is the default)
        self.choice: AccountChoice | None = self._choices[0] if self._choices else None
        self._asked_prices: set[str] = set()  # "Also on" pairs whose price the account was asked for
        self._auto_name = ""

        self._form.addRow(heading("Bot"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("botName")
        self.name_edit.setMaxLength(80)
        self.name_edit.setMinimumWidth(owner.fontMetrics().horizontalAdvance("0") * 28)
        self.name_edit.textChanged.connect(self._on_name_edited)
        fields.add("name", self.name_edit).setText("&Name")
        self.name_edit.setAccessibleName("Name")
        self.name_edit.setToolTip("How the bot is listed in Bots, Deals and Activity.")
        self._build_account_row(fields, account_label)

        self.pair_combo = QComboBox()
        self.pair_combo.setObjectName("pairCombo")
        self.pair_combo.addItems(list(pairs))
        self.pair_combo.setMinimumContentsLength(10)
        self.pair_combo.currentTextChanged.connect(self.choose_pair)
        fields.add("pair", self.pair_combo).setText("&Pair")
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

    def _build_account_row(self, fields: FieldForm, account_label: str) -> None:
        self.account_label = QLabel(account_label)
        self.account_label.setObjectName("accountLabel")
        self.account_label.setAccessibleName("Account")
        self.account_combo: QComboBox | None = None
        if len(self._choices) > 1:
            combo = self.account_combo = QComboBox()
            combo.setObjectName("accountCombo")
            for choice in self._choices:
                combo.addItem(choice.label, choice.account_id)
            combo.setToolTip("The exchange account the bot trades on: paper (simulated) or a connected one.")
            combo.currentIndexChanged.connect(self._on_account_changed)
            fields.add("account", combo).setText("&Account")
            combo.setAccessibleName("Account")  # after add(), which names it after the (unknown) field
        else:
            self._form.addRow(QLabel("Account"), self.account_label)

    # -- what they say --------------------------------------------------------------------------------
    @property
    def pair(self) -> str:
        return self.pair_combo.currentText()

    @property
    def market(self) -> Market | None:
        return self.markets.get(self.pair)

    @property
    def account_id(self) -> str:
        """The chosen account's id ("paper" when no other is offered)."""
        return self.choice.account_id if self.choice is not None else "paper"

    @property
    def pairs(self) -> list[str]:
        """The pairs a bot starts on: the previewed one, then those ticked under "Also on"."""
        return [self.pair, *self.also_on.chosen()] if self.pair else []

    @property
    def strategy(self) -> StrategyKind:
        return StrategyKind(self.strategy_combo.currentData())

    def bot_names(self) -> list[tuple[str, str]]:
        """``(name, pair)`` of each bot to start. Several pairs: each bot is "<name> <pair>", or the
        automatic name of its own pair while the person has not typed one."""
        pairs = self.pairs
        typed = self.name_edit.text().strip()
        if len(pairs) <= 1:
            return [(typed, p) for p in pairs]
        if typed == self._auto_name:
            return [(f"{NAME_PREFIX[self.strategy]} {p}", p) for p in pairs]
        return [(f"{typed} {p}", p) for p in pairs]

    def errors(self) -> dict[str, str]:
        """One sentence per bot row that keeps the bot from starting: no name, no pair, a refused account."""
        errors: dict[str, str] = {}
        if not self.name_edit.text().strip():
            errors["name"] = "Name is required: it is how the bot is listed in Bots and Deals."
        if not self.pair:
            errors["pair"] = "Choose a pair."
        if self.choice is not None and self.choice.refused:
            errors["account"] = self.choice.refused
        return errors

    # -- showing --------------------------------------------------------------------------------------
    def follow_name(self) -> None:
        """The name says the strategy and the pair until the person types one."""
        pair = self.pair
        if self.name_edit.text().strip() in ("", self._auto_name):
            self._auto_name = f"{NAME_PREFIX[self.strategy]} {pair}" if pair else ""
            self.name_edit.setText(self._auto_name)

    def show_also_on(self) -> None:
        """The "Also on" row only when the account has other pairs; off (saying why) for a grid."""
        self._form.setRowVisible(self._also_row, bool(self.also_on.offered()))
        self.also_on.set_blocked(GRID_TOOLTIP if self.strategy is StrategyKind.GRID else "")

    def show_bot_names(self) -> None:
        """Under "Also on": the bots the Start button starts, by name, while there are several."""
        bots = self.bot_names() if self.strategy is StrategyKind.DCA else []
        label = self.also_on.names_label
        if len(bots) > 1 and self.name_edit.text().strip():
            label.setText(bots_to_start(bots))
            label.show()
        else:
            label.hide()

    # -- reacting -------------------------------------------------------------------------------------
    def choose_pair(self, pair: str) -> None:
        """Follow the previewed pair: a live account is asked its price, "Also on" leaves it out, and the
        name follows it."""
        if self.choice is not None and self.choice.on_pair is not None and pair:
            self.choice.on_pair(pair)
        self.also_on.blockSignals(True)
        self.also_on.set_main(pair)
        self.also_on.blockSignals(False)
        self.follow_name()
        self.pair_changed.emit()

    def _on_account_changed(self, index: int) -> None:
        choice = self._choices[index]
        self.choice = choice
        self.markets = choice.markets
        self.price_of = choice.price_of
        self.free_balance_of = choice.free_balance_of
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
        self.show_also_on()
        self._asked_prices.clear()
        self._ask_prices()
        self.choose_pair(self.pair)

    def _ask_prices(self) -> None:
        """Ask a live account for the price of each pair newly ticked (the window calls ``refresh``)."""
        for pair in self.also_on.chosen():
            if pair not in self._asked_prices and self.choice is not None and self.choice.on_pair is not None:
                self.choice.on_pair(pair)
            self._asked_prices.add(pair)

    def _on_name_edited(self) -> None:
        self.changed.emit()

    def _on_also_on_changed(self) -> None:
        self._ask_prices()
        self.pairs_changed.emit()

    def _on_strategy_changed(self) -> None:
        self.strategy_changed.emit()
