"""The Bots and Deals pages and the tray's pause-all, with a real DCA bot on the paper exchange."""

from __future__ import annotations

import asyncio
import csv
from decimal import Decimal as D  # noqa: N817
from itertools import combinations
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams

PARAMS = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=2,
    price_deviation_pct=D("0.2"),
    take_profit_pct=D("0.2"),
)


def text(view, row: int, col: int) -> str:
    model = view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def test_a_bot_shows_in_bots_and_deals_and_pause_all_works(driver, make_controller, tmp_path: Path) -> None:
    driver.until(QSystemTrayIcon.isSystemTrayAvailable, what="a system tray host")
    c = make_controller(tmp_path / "data")
    driver.run(c.start())
    driver.run(scenario_bots_and_pause(driver, c), timeout=60)


async def scenario_bots_and_pause(driver, c) -> None:  # runs inside the loop, as the app does
    w = c.window
    assert [w.nav.item(i).text() for i in range(w.nav.count())] == [
        "Dashboard",
        "Bots",
        "Deals",
        "Accounts",
        "Activity",
    ]
    glyphs = [w.nav.item(i).icon().pixmap(20, 20).toImage() for i in range(w.nav.count())]
    assert all(not g.isNull() for g in glyphs)
    assert all(a != b for a, b in combinations(glyphs, 2)), "each page has its own icon"
    assert w.bots.model.rowCount() == 0
    assert w.status.bots_label.text() == "Bots: none yet"
    bot = await c.runtime.supervisor.create_dca_bot("BTC scalper", "paper", "BTC/USDT", PARAMS)
    w.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.MAX))
    await driver.wait(
        lambda: (
            w.deals.closed_model.rowCount() >= 1
            and w.bots.model.rowCount() == 1
            and w.bots.model.row_at(0).closed_deals >= 1
        ),
        timeout=30,
        what="a closed deal, announced on both pages",
    )

    # Bots: one row with its live figures
    w.show_page(1)
    assert w.bots.model.rowCount() == 1
    assert [text(w.bots.view, 0, i) for i in range(5)] == [
        "BTC scalper",
        "Paper",
        "BTC/USDT",
        "DCA",
        "running",
    ]
    assert int(text(w.bots.view, 0, 6)) >= 1
    assert text(w.bots.view, 0, 7).startswith("+")  # profit with its sign, not only its colour

    # Deals: the closed one with its realised profit, the open one with live P/L
    closed = w.deals.closed_view
    assert text(closed, 0, 0) == "BTC scalper" and text(closed, 0, 1) == "BTC/USDT"
    assert text(closed, 0, 6) == "take-profit" and text(closed, 0, 7).endswith(" USDT")
    assert w.deals.closed_total.text().startswith(f"{w.deals.closed_model.rowCount()} closed deal(s)")
    await driver.wait(lambda: w.deals.open_model.rowCount() == 1, what="the next deal")
    assert w.deals.tabs.tabText(0) == "Open (1)"

    # the tray pauses all bots and says so; then resumes them
    assert c.tray.pause_action.isEnabled() and c.tray.pause_action.text() == "Pause all bots"
    c.tray.pause_action.trigger()
    await driver.wait(
        lambda: c.runtime.supervisor.runner(bot.bot_id).bot.status is BotStatus.PAUSED, what="paused"
    )
    await driver.wait(lambda: c.tray.pause_action.text() == "Resume all bots", what="tray resume")
    assert "paused" in text(w.bots.view, 0, 4)
    assert "Bots: 0 running, 1 paused" in c.tray.icon.toolTip()
    assert w.status.bots_label.text() == "Bots: 0 running, 1 paused"  # the window's status bar says so too
    c.tray.pause_action.trigger()
    await driver.wait(
        lambda: c.runtime.supervisor.runner(bot.bot_id).bot.status is BotStatus.RUNNING, what="resumed"
    )

    # every closed deal is in the activity log (the tray's balloon shows only the latest one)
    messages = [w.activity.model.entry(i).message for i in range(w.activity.model.rowCount())]
    assert any("closed on BTC/USDT: profit +" in m for m in messages)


def test_close_at_market_asks_first_and_export_writes_csv(driver, make_controller, tmp_path: Path) -> None:
    c = make_controller(tmp_path / "data", tray_available=False)
    driver.run(c.start())
    driver.run(scenario_close_and_export(driver, c, tmp_path), timeout=60)


async def scenario_close_and_export(driver, c, tmp_path: Path) -> None:  # inside the loop, as the app runs
    w = c.window
    await c.runtime.supervisor.create_dca_bot("ETH", "paper", "ETH/USDT", PARAMS)
    await driver.wait(
        lambda: w.deals.open_model.rowCount() == 1 and w.deals.open_model.row_at(0).record.phase == "open",
        what="an open deal",
    )
    w.show_page(2)
    w.deals.open_view.selectRow(0)
    assert w.deals.close_button.isEnabled()
    w.deals.close_button.click()
    box = c.close_deal_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "canceled, then the" in box.text() and "sold at the market price now" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    await asyncio.sleep(0.3)
    assert w.deals.open_model.rowCount() == 1  # Cancel changes nothing

    w.deals.close_button.click()
    confirm = next(b for b in c.close_deal_box.buttons() if b.text() == "Close at market")
    confirm.click()
    await driver.wait(lambda: w.deals.closed_model.rowCount() >= 1, what="the deal closed at market")
    row = next(r for r in w.deals.closed_model.rows() if r.record.close_reason)
    assert row.record.close_reason == "closed at market by you"

    out = tmp_path / "deals.csv"
    await c.export_closed_deals(out)
    rows = list(csv.reader(out.open()))
    assert rows[0][:3] == ["bot", "pair", "deal"]
    assert any(r[5] == "closed at market by you" for r in rows[1:])
