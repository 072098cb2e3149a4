"""The Dashboard shows a connected live account too (real ccxt against the local exchange): its balances
valued at its own prices, its chart, a "Real funds" note; and paper again when switched back."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.gui.dashboard_page import PAPER
from cryptobots_desktop.gui.main_window import DASHBOARD
from tests.exchange_server.fixture import ThreadedExchange
from tests.gui.test_accounts import open_dialog, screenshot, started, submit

__all__ = ["started"]  # the fixture: the app started with the local exchange as Binance and OKX

KLINES = "/api/v3/klines"


def test_the_dashboard_shows_a_live_account_and_paper_again(
    driver, started, local_exchange: ThreadedExchange, artifacts_dir: Path
) -> None:
    driver.run(scenario(driver, started, local_exchange, artifacts_dir), timeout=120)


async def scenario(driver, c, ex: ThreadedExchange, artifacts_dir: Path) -> None:
    ex.reset(accounts=True)  # the exchange's default balances: 10,000 USDT, 0.5 BTC, 5 ETH, 50 SOL, 5,000 XRP
    w = c.window
    dash = w.dashboard
    await driver.wait(lambda: dash.value_label.text() == "10,000.00 USDT", what="the paper portfolio")
    assert [dash.account_combo.itemText(i) for i in range(dash.account_combo.count())] == ["Paper trading"]

    dialog = await open_dialog(driver, c, "binance")
    dialog.label_edit.setText("Main")
    dialog.edits["api_key"].setText(ex.key)
    dialog.edits["secret"].setText(ex.secret)
    assert await submit(driver, c, dialog) == ""
    await driver.wait(lambda: dash.account_combo.count() == 2, what="the connected account offered")
    assert dash.account_combo.itemText(1) == "Main (live)"
    account_id = dash.account_combo.itemData(1)
    assert dash.account_id == PAPER  # connecting does not switch what the person looks at

    w.show_page(DASHBOARD)
    dash.account_combo.setCurrentIndex(1)
    assert dash.account_note.text() == "Real funds"
    assert dash.pair == "BTC/USDT" and dash.pair_combo.findText("XRP/USDT") >= 0
    await driver.wait(lambda: dash.balances_model.rowCount() == 5, what="the live balances")
    await driver.wait(lambda: len(dash.chart.candles) >= 100, what="the live account's candles")
    last = c.runtime.live._feeds[account_id][1].last
    rows = {r.balance.asset: r for r in last.valuation.rows}
    assert set(rows) == {"USDT", "BTC", "ETH", "SOL", "XRP"} and last.valuation.unpriced == ()
    assert rows["BTC"].balance.total == D("0.5") and rows["USDT"].value == D(10_000)
    total = last.valuation.total
    assert total == sum(r.value for r in rows.values()) and total > D(20_000)
    assert dash.value_label.text() == f"{total:,.2f} USDT"
    assert dash.change_label.text() == ""  # a live account has no "since start"
    assert all(D(20_000) < k.close < D(32_000) for k in dash.chart.candles)
    await driver.wait(lambda: dash.price_label.text() != "", what="the live last price")

    dash.pair_combo.setCurrentText("ETH/USDT")
    await driver.wait(
        lambda: dash.chart.candles and dash.chart.candles[-1].close < 3000, what="the live ETH candles"
    )
    assert any(r["path"] == KLINES and "ETHUSDT" in str(r["query"]) for r in ex.requests())
    assert c.settings.window.chart_pair != "ETH/USDT"  # the paper chart's pair is kept as it was
    screenshot(w, artifacts_dir, "dashboard-live-account.png")

    # back to paper: its own value and change, its chart pair; the live feed stops fetching candles
    dash.account_combo.setCurrentIndex(0)
    assert dash.account_note.text() == ""
    await driver.wait(lambda: dash.value_label.text() == "10,000.00 USDT", what="the paper portfolio again")
    await driver.wait(lambda: "since start" in dash.change_label.text(), what="the paper change")
    assert dash.pair == c.settings.window.chart_pair
    ex.clear_requests()
    feed = c.runtime.live._feeds[account_id][0]
    assert feed.chart_symbol is None
    await feed.poll_once()
    paths = [r["path"] for r in ex.requests()]
    assert "/api/v3/ticker/24hr" in paths and KLINES not in paths

    # the account removed: the Dashboard offers paper alone
    await c.accounts.service.remove(account_id)
    await driver.wait(lambda: dash.account_combo.count() == 1, what="the live account gone")
    assert dash.account_id == PAPER
