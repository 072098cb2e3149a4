"""The new DCA bot dialog on real widgets: defaults, live checks, the ladder preview and the result."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D  # noqa: N817 - short money literals read better in tables
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QLineEdit, QSpinBox, QWidget

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.gui.new_bot_dialog import WAITING_FOR_PRICE, NewBotDialog


def market(symbol: str, tick: str, step: str, min_notional: str) -> Market:
    base, quote = symbol.split("/")
    fee = D("0.001")
    return Market(
        symbol, base + quote, base, quote, D(tick), D(step), D(step), D(9000), D(min_notional), fee, fee
    )


MARKETS = {
    "BTC/USDT": market("BTC/USDT", "0.01", "0.00001", "5"),
    "ETH/BTC": market("ETH/BTC", "0.00001", "0.0001", "0.0001"),
}
PRICES: dict[str, D] = {"BTC/USDT": D(27000), "ETH/BTC": D("0.06512")}


def open_dialog(
    qtbot,
    markets: dict[str, Market],
    price: Callable[[str], D | None],
    free: Callable[[str], D | None] = lambda _asset: D(10_000),
) -> NewBotDialog:
    """The new-bot dialog on these markets and prices, opened as the window does (window-modal, no exec)."""
    dialog = NewBotDialog(list(markets), markets, price, free)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def make_dialog(qtbot) -> Callable[..., NewBotDialog]:
    def make(
        price: Callable[[str], D | None] = PRICES.get,
        free: Callable[[str], D | None] = lambda _asset: D(10_000),
    ) -> NewBotDialog:
        return open_dialog(qtbot, MARKETS, price, free)

    return make


def cell(dialog: NewBotDialog, row: int, col: int) -> str:
    model = dialog.ladder_view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def column(dialog: NewBotDialog, col: int) -> list[str]:
    return [cell(dialog, r, col) for r in range(dialog.ladder_view.model().rowCount())]


def edit(dialog: NewBotDialog, name: str) -> QLineEdit:
    widget = dialog.findChild(QLineEdit, name)
    assert widget is not None, name
    return widget


def retype(qtbot, widget: QLineEdit, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def error_of(dialog: NewBotDialog, name: str) -> str:
    label = dialog.findChild(QLabel, f"{name}Error")
    assert label is not None
    return label.text() if label.isVisible() else ""


def screenshot(qtbot, dialog: NewBotDialog, artifacts_dir: Path, name: str) -> None:
    qtbot.wait(100)  # let the layout settle before the picture
    target = artifacts_dir / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(target / name))


def test_defaults_are_valid_and_the_ladder_is_right(make_dialog, qtbot, artifacts_dir: Path) -> None:
    dialog = make_dialog()
    assert dialog.windowTitle() == "New DCA bot"
    assert dialog.isModal() and dialog.windowModality() == Qt.WindowModality.WindowModal
    assert dialog.findChild(QLineEdit, "botName").text() == "DCA BTC/USDT"
    assert dialog.findChild(QLabel, "accountLabel").text() == "Paper account (simulated funds)"
    assert dialog.pair_combo.currentText() == "BTC/USDT"
    # the 3Commas-style defaults, labelled with the DcaParams titles
    values = {
        n: edit(dialog, n).text() for n in ("base_order_size", "safety_order_size", "price_deviation_pct")
    }
    assert values == {"base_order_size": "20", "safety_order_size": "40", "price_deviation_pct": "1"}
    assert edit(dialog, "take_profit_pct").text() == "1.5"
    assert dialog.findChild(QSpinBox, "max_safety_orders").value() == 5
    assert not dialog.findChild(QCheckBox, "trailing_take_profit").isChecked()
    assert not edit(dialog, "trailing_deviation_pct").isEnabled()
    assert not dialog.findChild(QCheckBox, "stop_loss_enabled").isChecked()
    assert not edit(dialog, "stop_loss_pct").isEnabled()
    assert dialog.findChild(QLabel, "base_order_sizeUnit").text() == "USDT"
    # labels name their inputs (buddies), for screen readers and mnemonics
    buddies = {lbl.text(): lbl.buddy() for lbl in dialog.findChildren(QLabel) if lbl.buddy() is not None}
    assert buddies["Take profit"] is edit(dialog, "take_profit_pct")
    assert buddies["Max safety orders"] is dialog.findChild(QSpinBox, "max_safety_orders")

    assert dialog.ok_button.objectName() == "startBot" and dialog.ok_button.text() == "Start bot"
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Ready to start: up to 547.50 USDT in this bot's deals."

    # Hand-computed at 27,000 (tick 0.01, lot step 0.00001, fees 0.1 % taken in BTC):
    # deviations 1 × (1 + 1.2 + 1.2² + …): 1, 2.2, 3.64, 5.368, 7.4416 %; sizes 40 × 1.5^(i−1)
    model = dialog.ladder_view.model()
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert headers == [
        "Order",
        "Deviation",
        "Price (USDT)",
        "Size (USDT)",
        "Amount (BTC)",
        "Average entry (USDT)",
        "Take profit at (USDT)",
    ]
    assert column(dialog, 0) == ["Base order"] + [f"Safety order {i}" for i in range(1, 6)]
    assert column(dialog, 1) == ["0.00 %", "-1.00 %", "-2.20 %", "-3.64 %", "-5.37 %", "-7.44 %"]
    # 27000 × (1 − d/100), rounded down to the tick: 24,990.768 -> 24,990.76
    assert column(dialog, 2) == ["27,000.00", "26,730.00", "26,406.00", "26,017.20", "25,550.64", "24,990.76"]
    assert column(dialog, 3) == ["20.00", "40.00", "60.00", "90.00", "135.00", "202.50"]
    # size / price cut to the lot step: 20 / 27000 = 0.000740… -> 0.00074; 202.5 / 24990.76 = 0.0081029…
    assert column(dialog, 4) == ["0.00074", "0.00149", "0.00227", "0.00345", "0.00528", "0.00810"]
    # base order alone: spent 0.00074 × 27000 = 19.98 for 0.00074 × 0.999 = 0.00073926 BTC -> 27,027.027…
    # take profit 27,027.027… × 1.015 = 27,432.432… rounded up to the tick
    assert cell(dialog, 0, 5) == "27,027.03" and cell(dialog, 0, 6) == "27,432.44"
    # + SO 1: (19.98 + 0.00149 × 26730) / (0.00073926 + 0.00149 × 0.999) = 59.8077 / 0.00222777 = 26,846.44…
    assert cell(dialog, 1, 5) == "26,846.44" and cell(dialog, 1, 6) == "27,249.14"
    assert cell(dialog, 5, 6) == "26,047.80"
    assert dialog.preview_status.text() == "A deal opened now at 27,000.00 USDT, the last price of BTC/USDT:"
    # 20 + 40 + 60 + 90 + 135 + 202.5
    assert dialog.funds_per_deal_label.text() == "547.50 USDT"
    assert dialog.funds_needed_label.text() == "547.50 USDT (1 deal at a time)"
    assert dialog.free_balance_label.text() == "10,000.00 USDT"
    assert dialog.max_deviation_label.text() == "-7.44 % (down to 24,990.76 USDT)"
    assert dialog.stop_loss_price_label.text() == "No stop loss"
    assert not dialog.problems_label.isVisible() and not dialog.balance_label.isVisible()
    screenshot(qtbot, dialog, artifacts_dir, "new-bot-dialog.png")

    # two deals at once double the funds needed
    dialog.findChild(QSpinBox, "max_active_deals").setValue(2)
    assert dialog.funds_needed_label.text() == "1,095.00 USDT (× 2 deals at a time)"


def test_an_invalid_take_profit_shows_its_sentence_until_fixed(
    make_dialog, qtbot, artifacts_dir: Path
) -> None:
    dialog = make_dialog()
    take_profit = edit(dialog, "take_profit_pct")
    retype(qtbot, take_profit, "-1")
    assert take_profit.text() == "-1"
    assert error_of(dialog, "take_profit_pct") == (
        "Take profit must be more than 0 %: it is how far above the average entry the deal sells."
    )
    assert take_profit.property("invalid") is True
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "1 setting needs fixing before the bot can start: Take profit."
    assert dialog.ladder_view.model().rowCount() == 0
    assert dialog.preview_status.text() == "The ladder appears when the settings are valid."
    screenshot(qtbot, dialog, artifacts_dir, "new-bot-dialog-invalid.png")

    retype(qtbot, take_profit, "  2 ")  # whitespace is trimmed
    assert error_of(dialog, "take_profit_pct") == ""
    assert not take_profit.property("invalid")
    assert dialog.ok_button.isEnabled()
    assert dialog.ladder_view.model().rowCount() == 6


def test_typing_is_limited_to_plain_decimal_numbers(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    base = edit(dialog, "base_order_size")
    retype(qtbot, base, "1,000ex25.5")  # no thousands separator, exponent or letters: never a silent 1
    assert base.text() == "100025.5"
    retype(qtbot, base, "")
    assert error_of(dialog, "base_order_size") == "Base order size is required."
    assert not dialog.ok_button.isEnabled()
    retype(qtbot, base, ".")
    assert error_of(dialog, "base_order_size") == "Base order size must be a number, like 10 or 2.5."


def test_a_base_order_under_the_exchange_minimum_cannot_start(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    retype(qtbot, edit(dialog, "base_order_size"), "1")
    # 1 / 27000 = 0.000037… -> 0.00003 BTC, which costs 0.81 USDT: under the 5 USDT minimum
    assert error_of(dialog, "base_order_size") == ""
    problems = dialog.problems_label.text().splitlines()
    assert problems[0] == (
        "• Base order would be 0.81 USDT, under the exchange minimum of 5 USDT for BTC/USDT. "
        "Raise the base order size."
    )
    assert dialog.problems_label.isVisible()
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text().startswith("The ladder has 2 problems")
    assert dialog.ladder_view.model().rowCount() == 6  # the ladder still shows what it would be

    retype(qtbot, edit(dialog, "base_order_size"), "6")
    assert not dialog.problems_label.isVisible()
    assert dialog.ok_button.isEnabled()


def test_too_little_free_balance_says_the_shortfall(make_dialog) -> None:
    dialog = make_dialog(free=lambda asset: D(500) if asset == "USDT" else None)
    assert dialog.balance_label.isVisible()
    assert dialog.balance_label.text() == (
        "The bot may need up to 547.50 USDT for its deal, but only 500.00 USDT is free: 47.50 USDT short. "
        "Add funds, or lower the order sizes, the max safety orders or the max active deals."
    )
    assert dialog.free_balance_label.text() == "500.00 USDT"
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Not enough free USDT for this bot (see the preview)."

    dialog.findChild(QSpinBox, "max_safety_orders").setValue(4)  # 20 + 40 + 60 + 90 + 135 = 345
    assert not dialog.balance_label.isVisible()
    assert dialog.ok_button.isEnabled()


def test_an_unknown_free_balance_is_said_but_allowed(make_dialog) -> None:
    dialog = make_dialog(free=lambda _asset: None)
    assert dialog.free_balance_label.text() == "Not known yet"
    assert "The free USDT balance is not known yet" in dialog.balance_label.text()
    assert dialog.ok_button.isEnabled()


def test_an_unknown_price_waits_then_refresh_shows_the_ladder(make_dialog) -> None:
    prices: dict[str, D] = {}
    dialog = make_dialog(price=prices.get)
    assert dialog.preview_status.text() == WAITING_FOR_PRICE == "Waiting for the pair's price…"
    assert dialog.ladder_view.model().rowCount() == 0
    assert not dialog.ok_button.isEnabled()
    assert dialog.funds_per_deal_label.text() == "547.50 USDT"  # known without a price

    prices["BTC/USDT"] = D("27000.009")
    dialog.refresh()
    assert dialog.ladder_view.model().rowCount() == 6
    assert cell(dialog, 0, 2) == "27,000.00"
    assert dialog.ok_button.isEnabled()

    prices["BTC/USDT"] = D(30000)
    dialog.refresh()
    assert cell(dialog, 1, 2) == "29,700.00"


def test_changing_the_pair_follows_its_currency_and_name(make_dialog) -> None:
    dialog = make_dialog()
    dialog.pair_combo.setCurrentText("ETH/BTC")
    assert dialog.name_edit.text() == "DCA ETH/BTC"
    assert dialog.findChild(QLabel, "safety_order_sizeUnit").text() == "BTC"
    # the headers and the money follow the quote currency and its precision
    assert dialog.ladder_view.model().headerData(2, Qt.Orientation.Horizontal) == "Price (BTC)"
    assert cell(dialog, 0, 2) == "0.06512"
    assert dialog.funds_per_deal_label.text() == "547.50000 BTC"

    dialog.name_edit.setText("My ETH bot")
    dialog.pair_combo.setCurrentText("BTC/USDT")
    assert dialog.name_edit.text() == "My ETH bot"  # a typed name is kept
    dialog.name_edit.setText("  ")
    assert error_of(dialog, "name").startswith("Name is required")
    assert not dialog.ok_button.isEnabled()


def test_trailing_and_stop_loss_are_checked_against_the_rest(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    dialog.findChild(QCheckBox, "trailing_take_profit").setChecked(True)
    assert edit(dialog, "trailing_deviation_pct").isEnabled()
    retype(qtbot, edit(dialog, "trailing_deviation_pct"), "2")
    assert error_of(dialog, "trailing_deviation_pct").startswith(
        "Trailing deviation (2 %) must be smaller than Take profit (1.5 %)"
    )
    assert not dialog.ok_button.isEnabled()
    retype(qtbot, edit(dialog, "trailing_deviation_pct"), "0.5")
    assert dialog.ok_button.isEnabled()

    dialog.findChild(QCheckBox, "stop_loss_enabled").setChecked(True)
    assert dialog.stop_loss_price_label.text() == "24,300.00 USDT (-10.00 %)"
    retype(qtbot, edit(dialog, "stop_loss_pct"), "5")
    assert error_of(dialog, "stop_loss_pct").startswith(
        "Stop loss (5 %) must be beyond the last safety order, which buys 7.4416 % below"
    )
    assert not dialog.ok_button.isEnabled()


def test_start_bot_gives_the_exact_params(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    dialog.name_edit.setText("  BTC dip buyer ")
    retype(qtbot, edit(dialog, "base_order_size"), " 25.10 ")
    retype(qtbot, edit(dialog, "safety_order_volume_scale"), "1.05")
    dialog.findChild(QCheckBox, "trailing_take_profit").setChecked(True)
    retype(qtbot, edit(dialog, "trailing_deviation_pct"), "0.3")
    dialog.findChild(QCheckBox, "stop_loss_enabled").setChecked(True)
    retype(qtbot, edit(dialog, "stop_loss_pct"), "12.5")
    dialog.findChild(QSpinBox, "cooldown_seconds").setValue(300)
    assert dialog.ok_button.isEnabled(), dialog.summary_label.text()

    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.bot_name == "BTC dip buyer"
    assert dialog.symbol == "BTC/USDT"
    expected = DcaParams(
        base_order_size=D("25.10"),
        safety_order_size=D("40"),
        max_safety_orders=5,
        price_deviation_pct=D("1"),
        safety_order_step_scale=D("1.2"),
        safety_order_volume_scale=D("1.05"),
        take_profit_pct=D("1.5"),
        trailing_take_profit=True,
        trailing_deviation_pct=D("0.3"),
        stop_loss_pct=D("12.5"),
        cooldown_seconds=300,
        max_active_deals=1,
    )
    assert dialog.params == expected
    assert all(type(v) is not float for v in dialog.params.model_dump().values())
    assert str(dialog.params.base_order_size) == "25.10"


def test_trailing_off_and_no_stop_loss_give_none(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    dialog.ok_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.params is not None
    assert dialog.params.trailing_take_profit is False
    assert dialog.params.trailing_deviation_pct is None and dialog.params.stop_loss_pct is None


def test_tab_order_follows_the_form(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    dialog.activateWindow()
    dialog.name_edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.name_edit, timeout=2000)
    order: list[QWidget] = []
    for _ in range(20):
        focused = QApplication.focusWidget()
        order.append(focused)
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
        if QApplication.focusWidget() is dialog.name_edit:
            break
    names = [w.objectName() for w in order]
    assert names[:12] == [
        "botName",
        "pairCombo",
        "alsoOnPairs",  # the filter above it shows only for accounts with many pairs
        "strategyCombo",
        "base_order_size",
        "safety_order_size",
        "max_safety_orders",
        "price_deviation_pct",
        "safety_order_step_scale",
        "safety_order_volume_scale",
        "take_profit_pct",
        "trailing_take_profit",
    ]
    assert (
        names.index("stop_loss_enabled") < names.index("cooldown_seconds") < names.index("max_active_deals")
    )
    assert names.index("max_active_deals") < names.index("ladderPreview") < names.index("startBot")
