"""The real main window on the real recorded market data, in paper mode."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon

from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.gui.status_bar import PAPER_MODE_TEXT


def cell(view, row: int, col: int) -> str:
    model = view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def test_window_shows_paper_portfolio_chart_and_status(driver, make_controller, tmp_path: Path) -> None:
    c = make_controller(tmp_path / "data")
    driver.run(c.start())
    w = c.window
    dash = w.dashboard
    driver.until(lambda: dash.balances_model.rowCount() > 0 and len(dash.chart.candles) >= 100, what="data")

    assert w.isVisible()
    assert "Paper trading" in w.windowTitle()
    assert w.status.mode_label.text() == PAPER_MODE_TEXT == "Paper trading — simulated funds"
    # a new paper account: 10,000 USDT, all free, valued 1:1
    assert dash.value_label.text() == "10,000.00 USDT"
    assert dash.change_label.text().startswith("0.00 USDT")
    view = dash.balances_view
    headers = [view.model().headerData(i, Qt.Orientation.Horizontal) for i in range(5)]
    assert headers == ["Asset", "Free", "In orders", "Total", "Value (USDT)"]
    assert [cell(view, 0, i) for i in range(5)] == ["USDT", "10,000.00", "0.00", "10,000.00", "10,000.00"]

    # the chart replays BTC/USDT 1m candles of March 2023 (closes 24,883 .. 30,963 in that window)
    assert [dash.pair_combo.itemText(i) for i in range(dash.pair_combo.count())] == [
        "BTC/USDT",
        "ETH/USDT",
        "SOL/USDT",
        "XRP/USDT",
    ]
    candles = dash.chart.candles
    assert len(candles) == 120
    assert all(b.ts_ms - a.ts_ms >= 60_000 for a, b in itertools.pairwise(candles))
    assert all(Decimal(20_000) < k.close < Decimal(32_000) for k in candles)
    assert dash.price_label.text().replace(",", "").replace(".", "").isdigit()
    assert w.status.replay_label.text().startswith("Replay: 2023-04-")
    driver.until(lambda: "connected" in w.status.connection_label.text(), what="connected")

    # time moves: the replay advances and the chart follows
    first_now = c.runtime.replay.now_ms()
    driver.pump(0.6)
    assert c.runtime.replay.now_ms() > first_now

    # another pair: the chart shows ETH prices (1,663 .. 2,137 in this window)
    dash.pair_combo.setCurrentText("ETH/USDT")
    driver.until(lambda: dash.chart.candles and dash.chart.candles[-1].close < 3000, what="ETH candles")
    assert all(Decimal(1500) < k.close < Decimal(2300) for k in dash.chart.candles)

    # the activity page says what paper mode is
    entries = [c.window.activity.model.entry(i).message for i in range(c.window.activity.model.rowCount())]
    assert any("Paper trading on Binance spot" in m and "no network" in m for m in entries)


def test_choices_persist_between_runs(driver, make_controller, tmp_path: Path) -> None:
    data = tmp_path / "data"
    c = make_controller(data)
    driver.run(c.start())
    driver.until(lambda: c.window.dashboard.pair_combo.count() == 4, what="pairs")
    c.window.resize(1000, 700)
    c.window.dashboard.pair_combo.setCurrentText("SOL/USDT")
    c.window.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.X100))
    assert c.runtime.replay.speed is ReplaySpeed.X100
    # the person widens the closed deals' first column: the table stops fitting it to its contents
    closed = c.window.deals.closed_view
    c.window.show_page(2)
    closed.fit_columns()
    assert not closed.user_sized and closed.columns_state() is None
    closed.horizontalHeader().resizeSection(0, 333)  # what dragging the column's edge does
    closed.fit_columns()
    assert closed.user_sized and closed.columnWidth(0) == 333
    bots = c.window.bots.view
    assert bots.columns_state() is None  # a table nobody sized keeps fitting, and saves nothing
    replay_at_quit = c.runtime.replay.now_ms()
    driver.run(c.shutdown())

    saved = json.loads((data / "settings.json").read_text())
    assert saved["window"]["chart_pair"] == "SOL/USDT"
    assert saved["paper"]["speed"] == "100x"
    assert saved["window"]["geometry"]
    assert set(saved["window"]["columns"]) == {"closedDealsTable"}
    assert "secret" not in json.dumps(saved).lower()

    again = make_controller(data)
    driver.run(again.start())
    driver.until(lambda: again.window.dashboard.pair_combo.count() == 4, what="pairs")
    assert again.window.dashboard.pair == "SOL/USDT"
    assert again.window.size().width() == 1000
    assert again.window.status.speed is ReplaySpeed.X100
    closed = again.window.deals.closed_view
    again.window.show_page(2)
    closed.fit_columns()
    assert closed.user_sized and closed.columnWidth(0) == 333  # the width chosen last time
    assert not again.window.bots.view.user_sized
    # the paper account resumes where it stopped, not at the start of the data
    assert again.runtime.replay.now_ms() >= replay_at_quit


def test_tray_menu_close_to_tray_then_quit(driver, make_controller, tmp_path: Path, qapp) -> None:
    driver.until(QSystemTrayIcon.isSystemTrayAvailable, what="a system tray host")
    c = make_controller(tmp_path / "data")
    assert c.tray is not None
    run = driver.loop.create_task(c.run())
    driver.until(lambda: c.runtime is not None and c.window.isVisible(), what="window")
    driver.until(lambda: c.window.dashboard.balances_model.rowCount() > 0, what="balances")

    actions = [a.text() for a in c.tray.menu.actions() if not a.isSeparator()]
    assert actions == ["Hide window", "Pause all bots", "About Cryptobots Desktop", "Quit Cryptobots Desktop"]
    assert not c.tray.pause_action.isEnabled()  # no bot yet
    driver.until(lambda: "Portfolio: 10,000.00 USDT" in c.tray.icon.toolTip(), what="tray tooltip")
    assert "Paper trading" in c.tray.icon.toolTip()

    # closing the window keeps the app running in the tray, and says so the first time
    c.window.close()
    driver.pump(0.2)
    assert not c.window.isVisible()
    assert not run.done()
    assert c.settings.window.tray_hint_shown
    balloons = [
        w for w in qapp.topLevelWidgets() if w.metaObject().className() == "QBalloonTip" and w.isVisible()
    ]
    assert balloons, "the first close to the tray shows a notification"
    assert c.tray.show_hide_action.text() == "Show window"

    c.tray.show_hide_action.trigger()
    assert c.window.isVisible()
    c.window.close()
    assert not c.window.isVisible()

    # Quit in the tray ends the app cleanly: the loop's run() returns, the paper account is saved
    c.tray.quit_action.trigger()
    driver.run(run, timeout=15)
    assert c.runtime is None
    assert json.loads((tmp_path / "data" / "settings.json").read_text())["window"]["tray_hint_shown"] is True


def test_without_a_tray_closing_the_window_quits(driver, make_controller, tmp_path: Path) -> None:
    c = make_controller(tmp_path / "data", tray_available=False)
    assert c.tray is None
    run = driver.loop.create_task(c.run())
    driver.until(lambda: c.runtime is not None, what="runtime")
    driver.until(lambda: c.window.dashboard.balances_model.rowCount() > 0, what="balances")
    c.window.close()
    driver.run(run, timeout=15)
    assert not c.window.isVisible()
    assert c.runtime is None


def test_unreadable_settings_are_kept_aside_and_reported(driver, make_controller, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text("{not json")
    c = make_controller(data)
    model = c.window.activity.model
    messages = [model.entry(i).message for i in range(model.rowCount())]
    assert any("settings file could not be read" in m for m in messages)
    assert (data / "settings.json.unreadable").read_text() == "{not json"
    driver.run(c.start())
    driver.until(lambda: c.window.dashboard.balances_model.rowCount() > 0, what="balances")


def test_the_cycle_collector_is_on_again_once_the_window_has_painted(
    driver, make_controller, tmp_path: Path
) -> None:
    """The command line turns the cycle collector off for start-up (faster first paint); the controller
    turns it on again right after the first paint, whatever happens next."""
    import gc

    c = make_controller(tmp_path / "data", tray_available=False)
    gc.disable()
    try:
        driver.run(c.start())
        assert gc.isenabled()
    finally:
        gc.enable()
    driver.run(c.shutdown())
