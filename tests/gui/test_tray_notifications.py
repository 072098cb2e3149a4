"""The tray's desktop notifications, read from the balloon Qt shows: a bot stopped on an error, a deal
closed with its profit (a real DCA bot on the paper exchange)."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon

from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams

QUICK = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=2,
    price_deviation_pct=D("0.2"),
    take_profit_pct=D("0.2"),
)
TOO_BIG = QUICK.model_copy(update={"base_order_size": D(50_000)})  # the paper account has 10,000 USDT


def balloon_texts() -> list[str]:
    """The texts of the notification balloon on screen now (title and message), or []."""
    for widget in QApplication.topLevelWidgets():
        if widget.metaObject().className() == "QBalloonTip" and widget.isVisible():
            return [label.text() for label in widget.findChildren(QLabel) if label.text()]
    return []


def test_a_bot_stopped_on_an_error_and_a_closed_deal_are_notified(
    driver, make_controller, tmp_path: Path
) -> None:
    driver.until(QSystemTrayIcon.isSystemTrayAvailable, what="a system tray host")
    c = make_controller(tmp_path / "data")
    driver.run(c.start())
    driver.run(scenario(driver, c), timeout=90)
    driver.run(c.shutdown())


async def scenario(driver, c) -> None:
    # a bot whose base order the account cannot pay stops on the exchange's refusal, and says so
    await c.runtime.supervisor.create_dca_bot("Too big", "paper", "BTC/USDT", TOO_BIG)
    await driver.wait(lambda: any("Bot stopped: Too big" in t for t in balloon_texts()), what="bot stopped")
    texts = " ".join(balloon_texts())
    assert "The base order was refused: Not enough USDT" in texts, texts

    # a deal closing by its take-profit: pair, bot, deal number and the realised profit with its sign
    await c.runtime.supervisor.create_dca_bot("Quick", "paper", "BTC/USDT", QUICK)
    c.window.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.MAX))
    await driver.wait(
        lambda: any("Deal closed: BTC/USDT" in t for t in balloon_texts()), timeout=60, what="deal closed"
    )
    c.window.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.X1))
    message = next(t for t in balloon_texts() if t.startswith("Quick #"))
    closed_model = c.window.deals.closed_model
    await driver.wait(lambda: closed_model.rowCount() >= 1, what="the closed deal listed")
    closed = closed_model.row_at(0)
    assert closed.deal is not None
    assert message.startswith(f"Quick #{closed.record.deal_no}: +") and message.endswith(" USDT"), message
