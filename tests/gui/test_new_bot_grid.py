"""The new-bot dialog with Grid chosen, on real widgets: defaults around the price, live checks with the
model's and the preview's sentences, the levels preview, funds versus the free balance, and the result."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QSpinBox

from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.strategies.grid import GridParams, GridSpacing
from cryptobots_desktop.gui.new_bot_dialog import NewBotDialog
from tests.gui.test_new_bot_dialog import MARKETS, PRICES, edit, error_of, open_dialog, retype, screenshot


@pytest.fixture
def make_grid(qtbot) -> Callable[..., NewBotDialog]:
    def make(
        price: Callable[[str], D | None] = PRICES.get,
        free: Callable[[str], D | None] = lambda _asset: D(10_000),
    ) -> NewBotDialog:
        dialog = open_dialog(qtbot, MARKETS, price, free)
        dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("grid"))
        return dialog

    return make


def level_cell(dialog: NewBotDialog, row: int, col: int) -> str:
    model = dialog.grid_form.levels_view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def level_rows(dialog: NewBotDialog) -> list[list[str]]:
    model = dialog.grid_form.levels_view.model()
    return [[level_cell(dialog, r, c) for c in range(model.columnCount())] for r in range(model.rowCount())]


def levels_spin(dialog: NewBotDialog) -> QSpinBox:
    spin = dialog.findChild(QSpinBox, "levels")
    assert spin is not None
    return spin


def test_grid_defaults_sit_around_the_price_with_their_levels_and_funds(
    make_grid, qtbot, artifacts_dir: Path
) -> None:
    dialog = make_grid()
    form = dialog.grid_form
    assert dialog.windowTitle() == "New grid bot"
    assert dialog.name_edit.text() == "Grid BTC/USDT"
    assert form.settings.isVisible() and form.preview_panel.isVisible()
    assert not dialog.ladder_view.isVisible() and not edit(dialog, "base_order_size").isVisible()
    # ±5 % of 27,000 at four significant digits, levels 300 apart; 10 levels; 2 × the smallest order
    # (5 USDT / 25,650 -> 0.000195 BTC), up to two significant digits
    assert edit(dialog, "lower_price").text() == "25650" and edit(dialog, "upper_price").text() == "28350"
    assert levels_spin(dialog).value() == 10
    assert dialog.findChild(QComboBox, "spacing").currentData() == "arithmetic"
    assert edit(dialog, "amount_per_level").text() == "0.00039"
    assert dialog.findChild(QLabel, "lower_priceUnit").text() == "USDT"
    assert dialog.findChild(QLabel, "amount_per_levelUnit").text() == "BTC"

    model = form.levels_view.model()
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert headers == ["Level", "Price (USDT)", "Order at the start", "Amount (BTC)", "Value (USDT)"]
    rows = level_rows(dialog)  # highest first; 300 USDT apart; 26,850 and 27,150 tie: the lower stays empty
    assert [r[1] for r in rows] == [f"{p:,}.00" for p in range(28350, 25649, -300)]
    assert [r[2] for r in rows] == ["Sell"] * 5 + ["— (empty)"] + ["Buy"] * 4
    assert rows[0] == ["10", "28,350.00", "Sell", "0.00039", "11.06"]
    assert rows[-1] == ["1", "25,650.00", "Buy", "0.00039", "10.00"]  # 10.0035
    assert form.status_label.text().startswith("The grid started now at 27,000.00 USDT")
    # buys: 0.00039 × (25,650 + 25,950 + 26,250 + 26,550) = 40.716; sells: 5 × 0.00039 BTC at 27,000
    assert form.buys_label.text() == "40.72 USDT (4 buys)"
    assert form.sells_label.text() == (
        "0.00195 BTC (5 sells), bought at market at the start: about 52.65 USDT"
    )
    assert form.funds_label.text() == "about 93.37 USDT"
    assert form.free_label.text() == "10,000.00 USDT"
    # (28,350 / 28,050) × 0.999² − 1 and (25,950 / 25,650) × 0.999² − 1
    assert form.step_profit_label.text() == "+0.87 % to +0.97 % after fees"
    assert not form.problems_label.isVisible() and not form.balance_label.isVisible()
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Ready to start: about 93.37 USDT in this grid's orders."
    screenshot(qtbot, dialog, artifacts_dir, "new-bot-grid-dialog.png")

    # back to DCA: its form and ladder return, with its own title and name
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("dca"))
    assert dialog.windowTitle() == "New DCA bot" and dialog.name_edit.text() == "DCA BTC/USDT"
    assert dialog.ladder_view.isVisible() and not form.settings.isVisible()
    assert dialog.summary_label.text() == "Ready to start: up to 547.50 USDT in this bot's deals."


def test_lower_at_or_above_upper_says_so_under_the_upper_price(make_grid, qtbot) -> None:
    dialog = make_grid()
    retype(qtbot, edit(dialog, "lower_price"), "29000")
    assert error_of(dialog, "upper_price") == (
        "Upper price (28350) must be above the lower price (29000). "
        "Raise the upper price or lower the lower price."
    )
    assert edit(dialog, "upper_price").property("invalid") is True
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "1 setting needs fixing before the bot can start: Upper price."
    assert dialog.grid_form.levels_view.model().rowCount() == 0
    assert dialog.grid_form.status_label.text() == "The levels appear when the settings are valid."
    retype(qtbot, edit(dialog, "lower_price"), "28350")  # equal is not a range either
    assert error_of(dialog, "upper_price").startswith("Upper price (28350) must be above the lower price")
    retype(qtbot, edit(dialog, "lower_price"), "26000")
    assert error_of(dialog, "upper_price") == ""
    assert dialog.ok_button.isEnabled()


@pytest.mark.parametrize("levels", [0, 1, 201, 5000])
def test_levels_out_of_range_get_the_models_sentence(make_grid, levels: int) -> None:
    dialog = make_grid()
    levels_spin(dialog).setValue(levels)
    assert error_of(dialog, "levels") == "Grid levels must be between 2 and 200."
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "1 setting needs fixing before the bot can start: Grid levels."
    levels_spin(dialog).setValue(20)
    assert error_of(dialog, "levels") == ""
    assert dialog.grid_form.levels_view.model().rowCount() == 20
    assert dialog.ok_button.isEnabled()


def test_an_amount_under_the_market_minimum_names_the_minimum(make_grid, qtbot) -> None:
    dialog = make_grid()
    retype(qtbot, edit(dialog, "amount_per_level"), "0.0001")
    form = dialog.grid_form
    assert error_of(dialog, "amount_per_level") == ""  # the model accepts it; the exchange would not
    assert form.problems_label.isVisible()
    # 0.0001 BTC is 2.57 USDT at 25,650 and 2.84 USDT at 28,350: every level under 5 USDT
    assert form.problems_label.text() == (
        "• Levels 1 to 10 (up to 28350.00 USDT) would each be under the exchange minimum of 5 USDT for "
        "BTC/USDT (level 1 would be 2.56 USDT). Raise the amount per level to at least 0.0002 BTC."
    )
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == (
        "The grid has a problem (see the preview). Change the settings to start the bot."
    )
    assert form.levels_view.model().rowCount() == 10  # the levels still show what they would be
    retype(qtbot, edit(dialog, "amount_per_level"), "")
    assert error_of(dialog, "amount_per_level") == "Amount per level is required."
    retype(qtbot, edit(dialog, "amount_per_level"), "0")
    assert error_of(dialog, "amount_per_level").startswith("Amount per level must be more than 0")
    retype(qtbot, edit(dialog, "amount_per_level"), "0.0002")
    assert not form.problems_label.isVisible() and dialog.ok_button.isEnabled()


def test_too_little_free_quote_says_what_the_grid_needs(make_grid, qtbot) -> None:
    dialog = make_grid(free=lambda asset: D(50) if asset == "USDT" else None)
    form = dialog.grid_form
    assert form.free_label.text() == "50.00 USDT"
    assert form.balance_label.isVisible()
    assert form.balance_label.text() == (
        "The grid needs about 93.37 USDT (40.72 USDT for the buy orders and 52.65 USDT to buy the "
        "0.00195 BTC its sell orders sell), but only 50.00 USDT is free: 43.37 USDT short. Add funds, "
        "or lower the amount per level or the number of levels."
    )
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Not enough free USDT for this grid (see the preview)."
    levels_spin(dialog).setValue(4)  # 25,650 / 26,550 / 27,450 / 28,350: 1 buy, 2 sells -> 31.18 USDT
    assert not form.balance_label.isVisible() and dialog.ok_button.isEnabled()


def test_defaults_wait_for_the_price_and_follow_the_pair_until_typed(make_grid, qtbot) -> None:
    prices: dict[str, D] = {}
    dialog = make_grid(price=prices.get)
    assert edit(dialog, "lower_price").text() == ""
    assert error_of(dialog, "lower_price") == "Lower price is required."
    assert not dialog.ok_button.isEnabled()
    prices.update(PRICES)
    dialog.refresh()
    assert edit(dialog, "lower_price").text() == "25650" and dialog.ok_button.isEnabled()
    assert error_of(dialog, "lower_price") == ""

    dialog.pair_combo.setCurrentText("ETH/BTC")  # untouched: the defaults follow the pair
    assert dialog.name_edit.text() == "Grid ETH/BTC"
    assert (edit(dialog, "lower_price").text(), edit(dialog, "upper_price").text()) == ("0.06186", "0.06834")
    assert edit(dialog, "amount_per_level").text() == "0.0033"  # 2 × 0.0001 BTC / 0.06186, two digits up
    assert dialog.findChild(QLabel, "upper_priceUnit").text() == "BTC"
    assert dialog.findChild(QLabel, "amount_per_levelUnit").text() == "ETH"
    assert dialog.grid_form.levels_view.model().headerData(1, Qt.Orientation.Horizontal) == "Price (BTC)"
    assert dialog.ok_button.isEnabled(), dialog.summary_label.text()

    retype(qtbot, edit(dialog, "lower_price"), "0.06")  # typed: kept when the pair changes
    dialog.pair_combo.setCurrentText("BTC/USDT")
    assert edit(dialog, "lower_price").text() == "0.06"
    assert not dialog.ok_button.isEnabled()  # 27,000 is far above this grid


def test_start_gives_the_grid_params(make_grid, qtbot) -> None:
    dialog = make_grid()
    dialog.name_edit.setText(" My grid ")
    retype(qtbot, edit(dialog, "lower_price"), "26000.5")
    levels_spin(dialog).setValue(12)
    spacing = dialog.findChild(QComboBox, "spacing")
    spacing.setCurrentIndex(spacing.findData("geometric"))
    assert dialog.ok_button.isEnabled(), dialog.summary_label.text()
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.bot_name == "My grid" and dialog.symbol == "BTC/USDT"
    assert dialog.strategy is StrategyKind.GRID
    assert dialog.params == GridParams(
        lower_price=D("26000.5"),
        upper_price=D(28350),
        levels=12,
        spacing=GridSpacing.GEOMETRIC,
        amount_per_level=D("0.00039"),
    )
    assert str(dialog.params.lower_price) == "26000.5"


def test_grid_tab_order_follows_the_form(make_grid, qtbot) -> None:
    dialog = make_grid()
    dialog.activateWindow()
    dialog.strategy_combo.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.strategy_combo, timeout=2000)
    names = []
    for _ in range(7):
        focused = QApplication.focusWidget()
        names.append(focused.objectName())
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    # the hidden DCA fields are skipped
    assert names == [
        "strategyCombo",
        "lower_price",
        "upper_price",
        "levels",
        "spacing",
        "amount_per_level",
        "levelsPreview",
    ]
