"""The same DCA settings started on several pairs at once ("Also on"), on real widgets: each pair's ladder
checked at its own price and rules, the funds of all the bots against the free balance of each quote
currency, Grid keeping to one pair; and, in the window on the paper exchange, one bot per pair."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D  # noqa: N817
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from cryptobots_desktop.core.bots import BotStatus, StrategyKind
from cryptobots_desktop.gui.new_bot_dialog import AccountChoice, NewBotDialog
from tests.gui.test_new_bot_dialog import edit, market, open_dialog, retype, screenshot

# The shipped Binance rules (resources/market_data/binance_exchangeinfo_spot.json): every pair's minimum
# order is 5 USDT, but XRP trades in whole coins (lot step 1) where BTC's step is 0.00001.
MARKETS = {
    "BTC/USDT": market("BTC/USDT", "0.01", "0.00001", "5"),
    "ETH/USDT": market("ETH/USDT", "0.01", "0.0001", "5"),
    "XRP/USDT": market("XRP/USDT", "0.0001", "1", "5"),
    "ETH/BTC": market("ETH/BTC", "0.00001", "0.0001", "0.0001"),
}
PRICES: dict[str, D] = {
    "BTC/USDT": D(27000),
    "ETH/USDT": D(1900),
    "XRP/USDT": D("0.4999"),
    "ETH/BTC": D("0.06512"),
}


@pytest.fixture
def make_dialog(qtbot) -> Callable[..., NewBotDialog]:
    def make(
        price: Callable[[str], D | None] = PRICES.get,
        free: Callable[[str], D | None] = lambda _asset: D(10_000),
    ) -> NewBotDialog:
        return open_dialog(qtbot, MARKETS, price, free)

    return make


def names_text(dialog: NewBotDialog) -> str:
    """The bots' names under "Also on", as read (each name is kept on one line with invisible characters)."""
    return dialog.also_on.names_label.text().replace("\u2060", "").replace("\u00a0", " ")


def listed(dialog: NewBotDialog) -> list[str]:
    """The pairs "Also on" shows, as a person sees them."""
    view = dialog.also_on.list
    return [view.item(i).text() for i in range(view.count()) if not view.item(i).isHidden()]


def tick(qtbot, dialog: NewBotDialog, *pairs: str) -> None:
    """Tick pairs as a person does with the keyboard: focus the list, go to the pair, press Space."""
    view = dialog.also_on.list
    for pair in pairs:
        view.setFocus()
        item = dialog.also_on.item(pair)
        assert item is not None and not item.isHidden(), pair
        view.setCurrentItem(item)
        qtbot.keyClick(view, Qt.Key.Key_Space)
        assert item.checkState() == Qt.CheckState.Checked, pair


def test_three_pairs_give_three_bots_with_their_funds(make_dialog, qtbot, artifacts_dir: Path) -> None:
    dialog = make_dialog()
    also = dialog.also_on
    assert also.isVisible() and also.list.isEnabled()
    assert listed(dialog) == ["ETH/USDT", "XRP/USDT", "ETH/BTC"]  # the previewed pair is not offered
    assert also.list.accessibleName() == "Also on"
    assert "each pair gets its own bot with these settings" in also.list.toolTip()
    buddies = {lbl.text(): lbl.buddy() for lbl in dialog.findChildren(QLabel) if lbl.buddy() is not None}
    assert buddies["Also &on"] is also.list  # Alt+O
    assert not also.filter_edit.isVisible()  # four pairs: no filter needed
    assert not also.names_label.isVisible()

    tick(qtbot, dialog, "ETH/USDT", "XRP/USDT")
    assert also.chosen() == ["ETH/USDT", "XRP/USDT"]
    assert dialog.pairs == ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
    assert also.names_label.isVisible()
    assert names_text(dialog) == ("Starts 3 bots, one per pair: DCA BTC/USDT, DCA ETH/USDT and DCA XRP/USDT.")
    # the ladder shown stays BTC/USDT's; the funds are for the three bots
    assert dialog.preview_status.text() == "A deal opened now at 27,000.00 USDT, the last price of BTC/USDT:"
    assert dialog.funds_per_deal_label.text() == "547.50 USDT"
    assert dialog.funds_needed_label.text() == "1,642.50 USDT (3 bots × 547.50 USDT, 1 deal at a time each)"
    assert dialog.free_balance_label.text() == "10,000.00 USDT"
    assert not dialog.problems_label.isVisible() and not dialog.balance_label.isVisible()
    assert [c.pair for c in dialog.other_checks] == ["ETH/USDT", "XRP/USDT"]
    assert all(c.preview is not None and not c.problems for c in dialog.other_checks)
    # each checked at its own price: XRP's base order is 40 whole XRP at 0.4999
    xrp = dialog.other_checks[1].preview
    assert xrp is not None and xrp.base_price == D("0.4999") and xrp.rows[0].amount == D(40)
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Start 3 bots"
    assert dialog.summary_label.text() == "Ready to start 3 bots: up to 1,642.50 USDT in their deals."
    screenshot(qtbot, dialog, artifacts_dir, "new-bot-several-pairs.png")

    # Space unticks, too
    qtbot.keyClick(also.list, Qt.Key.Key_Space)
    assert also.chosen() == ["ETH/USDT"]
    assert dialog.summary_label.text() == "Ready to start 2 bots: up to 1,095.00 USDT in their deals."
    qtbot.keyClick(also.list, Qt.Key.Key_Space)

    dialog.findChild(type(dialog.inputs["max_active_deals"]), "max_active_deals").setValue(2)
    assert (
        dialog.funds_needed_label.text() == "3,285.00 USDT (3 bots × 1,095.00 USDT, 2 deals at a time each)"
    )
    dialog.findChild(type(dialog.inputs["max_active_deals"]), "max_active_deals").setValue(1)

    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.bots == (
        ("DCA BTC/USDT", "BTC/USDT"),
        ("DCA ETH/USDT", "ETH/USDT"),
        ("DCA XRP/USDT", "XRP/USDT"),
    )
    assert (dialog.bot_name, dialog.symbol) == ("DCA BTC/USDT", "BTC/USDT")
    assert dialog.strategy is StrategyKind.DCA and dialog.params is not None


def test_a_typed_name_is_followed_by_each_pair(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    dialog.name_edit.setText("  Dip buyer ")
    tick(qtbot, dialog, "ETH/USDT")
    assert names_text(dialog) == ("Starts 2 bots, one per pair: Dip buyer BTC/USDT and Dip buyer ETH/USDT.")
    dialog.ok_button.click()
    assert dialog.bots == (("Dip buyer BTC/USDT", "BTC/USDT"), ("Dip buyer ETH/USDT", "ETH/USDT"))

    # one pair: the name as typed, as before
    single = make_dialog()
    single.name_edit.setText("Dip buyer")
    single.ok_button.click()
    assert single.bots == (("Dip buyer", "BTC/USDT"),)


def test_a_ladder_invalid_at_one_pairs_own_price_blocks_start_and_names_it(
    make_dialog, qtbot, artifacts_dir: Path
) -> None:
    dialog = make_dialog()
    tick(qtbot, dialog, "ETH/USDT", "XRP/USDT")
    # 5.4 USDT buys 0.00020 BTC (5.40 USDT) and 0.0028 ETH (5.32 USDT), but only 10 whole XRP at 0.4999:
    # 4.999 USDT, under the 5 USDT minimum; and the take-profit sells 9 XRP (10 less the fee, cut to 1)
    retype(qtbot, edit(dialog, "base_order_size"), "5.4")
    (btc, eth, xrp) = (dialog.preview, *dialog.other_checks)
    assert btc is not None and not btc.problems and not eth.problems
    assert len(xrp.problems) == 2
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == (
        "The ladder on XRP/USDT has 2 problems (see the preview). Change the settings, or untick XRP/USDT "
        "under Also on, to start the bots."
    )
    problems = dialog.problems_label.text().splitlines()
    assert dialog.problems_label.isVisible()
    assert problems[0] == (
        "• XRP/USDT: Base order would be 4.99 USDT, under the exchange minimum of 5 USDT for XRP/USDT. "
        "Raise the base order size."
    )
    assert all(p.startswith("• XRP/USDT: ") for p in problems)
    screenshot(qtbot, dialog, artifacts_dir, "new-bot-several-pairs-problem.png")

    # the same settings on BTC/USDT alone are fine; unticking XRP/USDT lets the two others start
    qtbot.keyClick(dialog.also_on.list, Qt.Key.Key_Space)  # XRP/USDT is the current item
    assert dialog.also_on.chosen() == ["ETH/USDT"]
    assert not dialog.problems_label.isVisible()
    assert dialog.ok_button.isEnabled()

    # a problem on the previewed pair as well: both named, and unticking is not the way out
    retype(qtbot, edit(dialog, "base_order_size"), "5.1")  # 0.00018 BTC: 4.86 USDT
    assert dialog.summary_label.text().startswith("The ladders on BTC/USDT and ETH/USDT have ")
    assert dialog.summary_label.text().endswith("(see the preview). Change the settings to start the bots.")
    assert not dialog.ok_button.isEnabled()


def test_a_pair_without_a_price_yet_waits(make_dialog, qtbot) -> None:
    prices = {p: v for p, v in PRICES.items() if p != "XRP/USDT"}
    dialog = make_dialog(price=prices.get)
    tick(qtbot, dialog, "XRP/USDT")
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == (
        "Waiting for XRP/USDT's price to check the orders against the exchange's minimums."
    )
    prices.pop("BTC/USDT")
    dialog.refresh()
    assert dialog.summary_label.text() == (
        "Waiting for the prices of BTC/USDT and XRP/USDT to check the orders against the exchange's minimums."
    )
    prices.update(PRICES)
    dialog.refresh()
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Ready to start 2 bots: up to 1,095.00 USDT in their deals."


def test_the_funds_of_all_the_bots_are_checked_per_quote_currency(make_dialog, qtbot) -> None:
    free = {"USDT": D(1000), "BTC": D(600)}
    dialog = make_dialog(free=free.get)
    assert dialog.ok_button.isEnabled()  # one bot: 547.50 of 1,000 USDT
    tick(qtbot, dialog, "ETH/USDT")
    assert not dialog.ok_button.isEnabled()
    assert dialog.balance_label.isVisible()
    assert dialog.balance_label.text() == (
        "The 2 bots may need up to 1095.00 USDT for their deals (547.50 USDT each), but only 1000.00 USDT "
        "is free: 95.00 USDT short. Add funds, choose fewer pairs, or lower the order sizes, the max safety "
        "orders or the max active deals."
    )
    assert dialog.summary_label.text() == "Not enough free USDT for these 2 bots (see the preview)."

    # ETH/BTC is paid in BTC: its own balance, its own precision
    tick(qtbot, dialog, "ETH/BTC")
    qtbot.keyClick(dialog.also_on.list, Qt.Key.Key_Up)
    qtbot.keyClick(dialog.also_on.list, Qt.Key.Key_Up)
    qtbot.keyClick(dialog.also_on.list, Qt.Key.Key_Space)  # untick ETH/USDT
    assert dialog.also_on.chosen() == ["ETH/BTC"]
    assert dialog.funds_needed_label.text() == (
        "547.50 USDT (1 bot, 1 deal at a time)\n547.50000 BTC (1 bot, 1 deal at a time)"
    )
    assert dialog.free_balance_label.text() == "1,000.00 USDT\n600.00000 BTC"
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == (
        "Ready to start 2 bots: up to 547.50 USDT and 547.50000 BTC in their deals."
    )
    free["BTC"] = D(500)
    dialog.refresh()
    assert not dialog.ok_button.isEnabled()
    assert dialog.balance_label.text().startswith("The bot may need up to 547.50 BTC for its deal")
    assert dialog.summary_label.text() == "Not enough free BTC for these 2 bots (see the preview)."
    free.pop("BTC")
    dialog.refresh()
    assert dialog.free_balance_label.text() == "1,000.00 USDT\nBTC: not known yet"
    assert dialog.balance_label.text() == (
        "The free BTC balance is not known yet: make sure 547.50000 BTC is free before the bots' deals "
        "need it."
    )
    assert dialog.ok_button.isEnabled()  # unknown is said, not refused, as for one bot


def test_grid_keeps_to_one_pair_and_says_why(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    tick(qtbot, dialog, "ETH/USDT")
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("grid"))
    also = dialog.also_on
    assert also.isVisible() and not also.list.isEnabled()
    assert also.list.toolTip().startswith("A grid's levels are prices of one pair, so a grid bot trades only")
    assert also.list.accessibleDescription() == also.list.toolTip()
    assert also.chosen() == [] and dialog.pairs == ["BTC/USDT"]
    assert not also.names_label.isVisible()
    qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=2000)
    assert dialog.ok_button.text() == "Start bot"
    assert dialog.summary_label.text().startswith("Ready to start: about ")
    dialog.ok_button.click()
    assert dialog.bots == (("Grid BTC/USDT", "BTC/USDT"),)
    assert dialog.strategy is StrategyKind.GRID

    # back to DCA: the ticks were kept
    other = make_dialog()
    tick(qtbot, other, "ETH/USDT")
    other.strategy_combo.setCurrentIndex(other.strategy_combo.findData("grid"))
    other.strategy_combo.setCurrentIndex(other.strategy_combo.findData("dca"))
    assert other.also_on.list.isEnabled() and other.also_on.chosen() == ["ETH/USDT"]
    assert other.summary_label.text() == "Ready to start 2 bots: up to 1,095.00 USDT in their deals."


def test_previewing_a_ticked_pair_swaps_it_with_the_previewed_one(make_dialog, qtbot) -> None:
    dialog = make_dialog()
    tick(qtbot, dialog, "ETH/USDT", "XRP/USDT")
    dialog.pair_combo.setCurrentText("XRP/USDT")
    assert listed(dialog) == ["BTC/USDT", "ETH/USDT", "ETH/BTC"]
    assert dialog.pairs == ["XRP/USDT", "BTC/USDT", "ETH/USDT"]  # the same three bots
    assert dialog.preview_status.text().endswith("the last price of XRP/USDT:")
    assert names_text(dialog) == ("Starts 3 bots, one per pair: DCA XRP/USDT, DCA BTC/USDT and DCA ETH/USDT.")
    # an unticked pair chosen for the preview replaces the previewed one, as with a single pair
    dialog.pair_combo.setCurrentText("ETH/BTC")
    assert dialog.pairs == ["ETH/BTC", "BTC/USDT", "ETH/USDT"]
    assert listed(dialog) == ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
    assert dialog.also_on.item("XRP/USDT").checkState() == Qt.CheckState.Unchecked


def test_another_account_offers_its_own_pairs_and_is_asked_their_prices(qtbot) -> None:
    live_markets = {p: MARKETS[p] for p in ("BTC/USDT", "XRP/USDT")}
    live_markets["SOL/USDT"] = market("SOL/USDT", "0.01", "0.001", "5")
    live_prices: dict[str, D] = {}
    asked: list[str] = []
    paper = AccountChoice("paper", "Paper", MARKETS, PRICES.get, lambda _a: D(10_000))
    live = AccountChoice(
        "live", "Live", live_markets, live_prices.get, lambda _a: D(10_000), on_pair=asked.append
    )
    dialog = NewBotDialog(list(MARKETS), MARKETS, PRICES.get, paper.free_balance_of, accounts=[paper, live])
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    tick(qtbot, dialog, "ETH/USDT", "XRP/USDT")
    assert dialog.account_combo is not None
    dialog.account_combo.setCurrentIndex(1)
    assert listed(dialog) == ["SOL/USDT", "XRP/USDT"]  # the live account's pairs; BTC/USDT is previewed
    assert dialog.also_on.chosen() == ["XRP/USDT"]  # ETH/USDT is not traded there
    assert set(asked) == {"BTC/USDT", "XRP/USDT"}  # the account fetches the prices the dialog needs
    assert not dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == (
        "Waiting for the prices of BTC/USDT and XRP/USDT to check the orders against the exchange's minimums."
    )
    tick(qtbot, dialog, "SOL/USDT")
    assert asked[-1] == "SOL/USDT"
    live_prices.update({"BTC/USDT": D(27000), "XRP/USDT": D("0.52"), "SOL/USDT": D("21.5")})
    dialog.refresh()
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Ready to start 3 bots: up to 1,642.50 USDT in their deals."
    dialog.ok_button.click()
    assert dialog.account_id == "live"
    assert [pair for _, pair in dialog.bots] == ["BTC/USDT", "SOL/USDT", "XRP/USDT"]


def test_many_pairs_get_a_filter(qtbot) -> None:
    markets = {f"C{i:02}/USDT": market(f"C{i:02}/USDT", "0.01", "0.001", "5") for i in range(30)}
    dialog = NewBotDialog(list(markets), markets, lambda _p: D(10), lambda _a: D(10**6))
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    also = dialog.also_on
    assert also.filter_edit.isVisible()
    assert len(listed(dialog)) == 29
    qtbot.keyClicks(also.filter_edit, "c1")
    assert listed(dialog) == [f"C1{i}/USDT" for i in range(10)]
    also.filter_edit.clear()
    qtbot.keyClicks(also.filter_edit, "c05usdt")  # as the exchange spells it, without the slash
    assert listed(dialog) == ["C05/USDT"]
    # the list keeps to a few rows; the rest scrolls
    assert also.list.height() < also.list.sizeHintForRow(0) * 6
    dialog.activateWindow()
    also.filter_edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is also.filter_edit, timeout=2000)
    qtbot.keyClick(also.filter_edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is also.list


# -- in the window, on the paper exchange -------------------------------------------------------------------
def text(view, row: int, col: int) -> str:
    model = view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def test_start_creates_one_bot_per_pair(driver, make_controller, tmp_path: Path) -> None:
    c = make_controller(tmp_path / "data", tray_available=False)
    driver.run(c.start())
    driver.run(scenario_several_pairs(driver, c), timeout=60)


async def scenario_several_pairs(driver, c) -> None:  # inside the loop, as the app runs
    w = c.window
    c.open_new_bot_dialog()
    dialog = c.new_bot_dialog
    assert dialog is not None and dialog.pair == "BTC/USDT"
    assert listed(dialog) == ["ETH/USDT", "SOL/USDT", "XRP/USDT"]
    dialog.also_on.set_chosen(["ETH/USDT", "XRP/USDT"])
    # the window's tickers of every pair and the paper balance reach the dialog
    await driver.wait(dialog.ok_button.isEnabled, what="the three pairs' prices and the balance")
    assert dialog.summary_label.text() == "Ready to start 3 bots: up to 1,642.50 USDT in their deals."
    dialog.ok_button.click()
    await driver.wait(lambda: w.bots.model.rowCount() == 3, what="three bots in Bots")
    assert c.new_bot_dialog is None
    bots = {b.name: b for b in c.runtime.supervisor.bots}
    assert {name: b.symbols for name, b in bots.items()} == {
        "DCA BTC/USDT": ("BTC/USDT",),
        "DCA ETH/USDT": ("ETH/USDT",),
        "DCA XRP/USDT": ("XRP/USDT",),
    }
    assert {b.params_json for b in bots.values()} == {dialog.params.model_dump_json()}  # the same settings
    assert all(b.account_id == "paper" and b.strategy is StrategyKind.DCA for b in bots.values())
    w.show_page(1)
    rows = sorted(tuple(text(w.bots.view, r, i) for i in range(4)) for r in range(3))
    assert rows == [
        ("DCA BTC/USDT", "Paper", "BTC/USDT", "DCA"),
        ("DCA ETH/USDT", "Paper", "ETH/USDT", "DCA"),
        ("DCA XRP/USDT", "Paper", "XRP/USDT", "DCA"),
    ]
    await driver.wait(
        lambda: all(
            c.runtime.supervisor.runner(b.bot_id).bot.status is BotStatus.RUNNING for b in bots.values()
        ),
        what="the three bots running",
    )

    # one bot that cannot be created (its pair is not on the account) is reported; the others still go
    result = SimpleNamespace(
        account_id="paper",
        strategy=StrategyKind.DCA,
        params=dialog.params,
        bots=(("Dip SOL/USDT", "SOL/USDT"), ("Dip DOGE/USDT", "DOGE/USDT"), ("Dip ETH/USDT", "ETH/USDT")),
    )
    c._create_bot(result)  # what the dialog's accepted signal calls
    await driver.wait(lambda: w.bots.model.rowCount() == 5, what="the two bots that could be created")
    names = {b.name for b in c.runtime.supervisor.bots}
    assert {"Dip SOL/USDT", "Dip ETH/USDT"} <= names and "Dip DOGE/USDT" not in names
    messages = [w.activity.model.entry(i).message for i in range(w.activity.model.rowCount())]
    assert "Creating the bot Dip DOGE/USDT on DOGE/USDT failed: DOGE/USDT is not traded on this account" in (
        messages
    )
