"""The Dashboard's price chart marks the bots' deals: average entry, take-profit, resting orders, fills."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.orders import OrderSide, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams

PARAMS = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=3,
    price_deviation_pct=D("0.3"),
    take_profit_pct=D("0.4"),
)

KINDS = ("entries", "take_profits", "resting_buys", "resting_sells")


def test_the_chart_marks_what_the_journal_holds(
    driver, make_controller, tmp_path: Path, artifacts_dir
) -> None:
    c = make_controller(tmp_path / "data", tray_available=False)
    driver.run(c.start())
    driver.run(scenario_marks(driver, c, artifacts_dir), timeout=90)


def expected_from(rows, entry: D | None) -> dict[str, list[float]]:
    resting = [r for r in rows if r.state in (IntentState.OPEN, IntentState.PENDING)]
    limit = [r.intent.request for r in resting if r.intent.request.type is OrderType.LIMIT]
    buys = sorted(float(r.price) for r in limit if r.side is OrderSide.BUY)
    sells = sorted(float(r.price) for r in limit if r.side is OrderSide.SELL)
    return {
        "entries": [float(entry)] if entry is not None else [],
        "take_profits": sells,  # a DCA deal's one resting sell is its take-profit
        "resting_buys": buys,
        "resting_sells": [],
    }


async def scenario_marks(driver, c, artifacts_dir: Path) -> None:
    w = c.window
    dash = w.dashboard
    chart = dash.chart
    assert dash.pair == "BTC/USDT"
    assert all(chart.visible_lines(k) == [] for k in ("entries", "take_profits", "resting_buys"))
    bot = await c.runtime.supervisor.create_dca_bot("Marked", "paper", "BTC/USDT", PARAMS)
    w.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.MAX))
    await driver.wait(lambda: w.deals.closed_model.rowCount() >= 1, timeout=45, what="a closed deal")
    await driver.wait(
        lambda: w.deals.open_model.rowCount() == 1 and w.deals.open_model.row_at(0).take_profit_price,
        what="the next deal with its take-profit resting",
    )
    w.status.speed_combo.setCurrentIndex(list(ReplaySpeed).index(ReplaySpeed.X1))  # hold the market still

    # the lines on the chart are the journal's resting orders and the deal's average entry
    deadline = time.monotonic() + 20
    while True:
        rows = list(await c.runtime.journal.orders_of_bot(bot.bot_id))
        open_deal = w.deals.open_model.row_at(0) if w.deals.open_model.rowCount() else None
        entry = open_deal.deal.average_entry_price if open_deal and open_deal.deal else None
        dash._draw_marks()  # what the next redraw (at most 0.2 s away) would show, now
        shown = {
            k: sorted(chart.visible_lines(k))
            for k in ("entries", "take_profits", "resting_buys", "resting_sells")
        }
        want = expected_from(rows, entry)
        if shown == want or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert shown == want
    assert len(want["entries"]) == 1 and len(want["take_profits"]) == 1
    assert len(want["resting_buys"]) <= PARAMS.max_safety_orders
    assert all(b < want["entries"][0] < want["take_profits"][0] for b in want["resting_buys"])
    # the take-profit line is labelled with its price, in the pair's precision
    tp_line = next(line for line in chart._lines["take_profits"] if line.isVisible())
    assert tp_line.label.toPlainText().replace(",", "") == f"Take profit {want['take_profits'][0]:.2f}"

    # every fill of the bot (the closed deal's and the open one's) is a point at its time and price
    fills = [f for r in rows for f in r.fills]
    buy_points = sorted(zip(*chart.buy_points.getData(), strict=True))
    sell_points = sorted(zip(*chart.sell_points.getData(), strict=True))
    assert buy_points == sorted((f.ts_ms / 1000, float(f.price)) for f in fills if f.side is OrderSide.BUY)
    assert sell_points == sorted((f.ts_ms / 1000, float(f.price)) for f in fills if f.side is OrderSide.SELL)
    assert sell_points, "the closed deal's take-profit sell is marked"
    # the take-profit is within the chart's price range, even when the candles have not reached it
    low, high = chart.plot.getViewBox().viewRange()[1]
    assert low < want["entries"][0] and want["take_profits"][0] < high

    shot = artifacts_dir / "screenshots"
    shot.mkdir(parents=True, exist_ok=True)
    w.show_page(0)
    w.grab().save(str(shot / "dashboard-deal-marks.png"))

    # another pair's chart has none of these marks; coming back shows them again
    dash.pair_combo.setCurrentText("ETH/USDT")
    assert all(chart.visible_lines(k) == [] for k in want)
    assert len(chart.buy_points.getData()[0]) == 0
    dash.pair_combo.setCurrentText("BTC/USDT")
    assert len(chart.visible_lines("entries")) == 1


def test_many_deals_lines_are_drawn_unlabelled_in_one_item_each(qtbot) -> None:
    """Many bots on one pair: their entries, take-profits and safety orders are all drawn (as one item per
    kind, unlabelled: 150 single lines froze the window ~20 ms a repaint, their labels piled up); a few are
    single lines with their price labelled."""
    from PySide6.QtGui import QColor

    from cryptobots_desktop.core.market import Candle
    from cryptobots_desktop.gui.candle_chart import ENTRY, CandleChart
    from cryptobots_desktop.gui.chart_marks import ChartMarks

    chart = CandleChart()
    qtbot.addWidget(chart)
    chart.resize(900, 500)
    chart.show()
    qtbot.waitExposed(chart)
    base = 1_680_000_000_000
    candles = [
        Candle(base + i * 60_000, D(100), D(101), D(99), D(100) + D(i % 3) / 4, D(1)) for i in range(120)
    ]
    chart.set_candles(candles)
    entries = tuple(D(99) + D(i) / 5 for i in range(8))
    buys = tuple(D(98) - D(i) / 10 for i in range(30))
    chart.set_marks(ChartMarks(entries=entries, take_profits=(D(101),), resting_buys=buys))
    assert sorted(chart.visible_lines("entries")) == [float(p) for p in entries]
    assert not any(line.isVisible() for line in chart._lines["entries"])  # one item, no labels
    assert len(chart.visible_lines("resting_buys")) == 30
    tp = [line for line in chart._lines["take_profits"] if line.isVisible()]
    assert len(tp) == 1 and tp[0].label.toPlainText() == "Take profit 101.00"  # a few: labelled
    qtbot.wait(50)
    image = chart.plot.grab().toImage()
    purple = QColor(ENTRY).rgb() & 0xFFFFFF
    rows = {
        y
        for y in range(image.height())
        for x in range(image.width() // 3, image.width() // 3 + 5)
        if image.pixel(x, y) & 0xFFFFFF == purple
    }
    assert len(rows) >= 4, f"the entry lines are drawn ({len(rows)} rows of their colour)"

    chart.set_marks(ChartMarks(entries=entries[:2]))  # back to a few: single labelled lines again
    assert [line.isVisible() for line in chart._lines["entries"]][:2] == [True, True]
    assert chart._many["entries"].prices == ()


def test_the_price_above_the_chart_and_its_last_price_line_say_the_same(qtbot) -> None:
    """The ticker and the forming candle arrive separately (a tick apart at 10x): whichever came last, the
    price above the chart and the label of the chart's last-price line show the same price, rounded alike
    (half up, as every price in the window; a float's rounding showed 28,092.23 beside 28,092.24)."""
    from cryptobots_desktop.core.market import Candle, Ticker
    from cryptobots_desktop.engine.events import CandlesUpdated, TickerUpdated
    from cryptobots_desktop.gui.dashboard_page import DashboardPage

    dash = DashboardPage()
    qtbot.addWidget(dash)
    dash.set_pairs(["BTC/USDT", "ETH/USDT"], "BTC/USDT")
    base = 1_680_000_000_000

    def candles(close: D) -> tuple[Candle, ...]:
        return tuple(Candle(base + i * 60_000, D(28090), D(28100), D(28080), close, D(1)) for i in range(30))

    def shown() -> tuple[str, str]:
        return dash.price_label.text(), dash.chart.last_line.label.toPlainText()

    dash.on_candles(CandlesUpdated("BTC/USDT", "1m", candles(D("28092.23")), "paper"))
    assert shown() == ("28,092.23", "28,092.23")
    dash.on_ticker(TickerUpdated(Ticker("BTC/USDT", base + 1_800_000, D("28092.24")), "paper"))
    assert shown() == ("28,092.24", "28,092.24")
    assert dash.chart.last_line.value() == 28092.24
    dash.on_candles(CandlesUpdated("BTC/USDT", "1m", candles(D("28092.22")), "paper"))
    assert shown() == ("28,092.22", "28,092.22")
    # a price with more decimals than shown (a live exchange's average, say) is rounded half up in both
    dash.on_ticker(TickerUpdated(Ticker("BTC/USDT", base + 1_800_500, D("28092.235")), "paper"))
    assert shown() == ("28,092.24", "28,092.24")
    # another account's or pair's prices change neither
    dash.on_ticker(TickerUpdated(Ticker("BTC/USDT", base + 1_801_000, D("1")), "binance-main"))
    dash.on_ticker(TickerUpdated(Ticker("ETH/USDT", base + 1_801_000, D("2")), "paper"))
    assert shown() == ("28,092.24", "28,092.24")
