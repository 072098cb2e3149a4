"""End to end in the window: New bot, choose Grid, start it; the bot is in the Bots view as a grid."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.strategies.grid import GridParams


def text(view, row: int, col: int) -> str:
    model = view.model()
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def test_a_grid_bot_started_from_the_dialog_shows_in_bots(driver, make_controller, tmp_path: Path) -> None:
    c = make_controller(tmp_path / "data", tray_available=False)
    driver.run(c.start())
    driver.run(scenario_grid_from_dialog(driver, c), timeout=60)


async def scenario_grid_from_dialog(driver, c) -> None:  # inside the loop, as the app runs
    w = c.window
    assert w.bots.model.rowCount() == 0
    c.open_new_bot_dialog()  # what New bot and Ctrl+N do
    dialog = c.new_bot_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("grid"))
    assert dialog.windowTitle() == "New grid bot"
    # the window's tickers and balances reach the dialog: defaults around the price, ready to start
    await driver.wait(dialog.ok_button.isEnabled, what="the grid's defaults and preview")
    assert dialog.grid_form.levels_view.model().rowCount() == 10
    assert dialog.name_edit.text() == "Grid BTC/USDT"
    dialog.ok_button.click()
    await driver.wait(lambda: w.bots.model.rowCount() == 1, what="the grid bot in Bots")
    assert c.new_bot_dialog is None
    w.show_page(1)
    assert [text(w.bots.view, 0, i) for i in range(3)] == ["Grid BTC/USDT", "Paper", "BTC/USDT"]
    assert text(w.bots.view, 0, 3).lower() == "grid"  # the Bots table upper-cases strategies: "GRID"
    await driver.wait(lambda: text(w.bots.view, 0, 4) == "running", what="the grid running")
    (runner,) = [c.runtime.supervisor.runner(b.bot_id) for b in c.runtime.supervisor.bots]
    assert runner.bot.strategy is StrategyKind.GRID
    assert runner.params == GridParams.model_validate_json(runner.bot.params_json)
    assert runner.params.levels == 10
