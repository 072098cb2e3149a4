"""Bursts of engine updates reach the Bots and Deals tables coalesced: the last of each, right totals."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord, StrategyKind
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.market import Ticker
from cryptobots_desktop.core.orders import Fill, OrderSide
from cryptobots_desktop.engine.events import BotUpdated, DealUpdated, TickerUpdated
from cryptobots_desktop.gui.formatting import fmt_signed
from cryptobots_desktop.gui.main_window import MainWindow

T0 = 1_680_000_000_000
PAIRS = ("BTC/USDT", "ETH/USDT")


def fill(symbol: str, side: OrderSide, price: str, amount: str, n: int) -> Fill:
    fee_asset = symbol.partition("/")[0] if side is OrderSide.BUY else "USDT"
    return Fill(str(n), f"c{n}", symbol, side, D(price), D(amount), D(0), fee_asset, T0 + n, True)


def deal_event(bot: int, deal_no: int, step: int) -> DealUpdated:
    """Deal ``deal_no`` of bot ``bot`` after ``step`` buys; odd deals close with a sell at step 3."""
    symbol = PAIRS[bot % 2]
    buys = tuple(fill(symbol, OrderSide.BUY, str(100 - 5 * i), "1", i) for i in range(step))
    closing = deal_no % 2 == 1 and step == 3
    sells = (fill(symbol, OrderSide.SELL, "104", str(step), 9),) if closing else ()
    phase = "closed" if closing else ("open" if step else "opening")
    deal = Deal(f"b{bot}-{deal_no}", f"b{bot}", symbol, T0, buys, sells, T0 + 9 if closing else None)
    record = DealRecord(f"b{bot}", deal_no, symbol, phase, T0, closed_ms=T0 + 9 if closing else None)
    return DealUpdated(record, deal, f"Bot {bot}", max(0, step - 1), 3, D(110), account_id="paper")


def bot_event(bot: int, closed: int, status: BotStatus = BotStatus.RUNNING) -> BotUpdated:
    record = BotRecord(
        f"b{bot}", f"Bot {bot}", "paper", StrategyKind.DCA, (PAIRS[bot % 2],), "{}", status, T0
    )
    return BotUpdated(record, 1, closed, D(closed) * D("1.5"))


def test_a_burst_of_updates_ends_with_the_last_state_and_right_totals(driver) -> None:
    w = MainWindow()
    w.show()
    w.show_page(0)  # the Dashboard: Bots and Deals are hidden
    deals = w.deals
    changes: list[str] = []
    for model in (deals.open_model, deals.closed_model):
        model.dataChanged.connect(lambda *_: changes.append("changed"))
        model.rowsInserted.connect(lambda *_: changes.append("inserted"))

    # 10 bots x 2 deals, each deal stepped 4 times; prices move between the steps
    last: dict[tuple[str, int], DealUpdated] = {}
    for step in range(4):
        for bot in range(10):
            for deal_no in (1, 2):
                event = deal_event(bot, deal_no, step)
                last[(event.record.bot_id, deal_no)] = event
                deals.on_deal(event)
            w.bots.on_bot(bot_event(bot, step))
        for symbol, price in zip(PAIRS, ("101", "99"), strict=True):
            deals.on_ticker(TickerUpdated(Ticker(symbol, T0, D(price) + step), "paper"))
    assert deals.open_model.rowCount() == deals.closed_model.rowCount() == 0  # not shown one by one

    driver.until(lambda: deals.open_model.rowCount() == 10, timeout=2, what="the deals flushed")
    assert changes.count("inserted") <= 2 and changes.count("changed") <= 1  # one change per table
    assert deals.closed_model.rowCount() == 10
    prices = {"BTC/USDT": D(104), "ETH/USDT": D(102)}
    assert deals.open_model.prices == {("paper", symbol): price for symbol, price in prices.items()}
    open_rows = {(r.record.bot_id, r.record.deal_no): r for r in deals.open_model.rows()}
    closed_rows = {(r.record.bot_id, r.record.deal_no): r for r in deals.closed_model.rows()}
    assert set(open_rows) | set(closed_rows) == set(last) and not set(open_rows) & set(closed_rows)
    for key, event in last.items():
        assert (open_rows.get(key) or closed_rows[key]) is event  # the last event of every deal
        assert (key in closed_rows) == (key[1] == 1)
    open_pnl = sum((e.deal.total_pnl(prices[e.record.symbol]) for e in open_rows.values()), D(0))
    realised = sum((e.deal.realised_pnl for e in closed_rows.values()), D(0))
    assert open_pnl != 0 and realised != 0
    assert deals.open_total.text() == f"10 open deal(s), profit/loss now {fmt_signed(open_pnl)} USDT"
    assert deals.closed_total.text() == f"10 closed deal(s), realised profit {fmt_signed(realised)} USDT"
    assert deals.tabs.tabText(0) == "Open (10)" and deals.tabs.tabText(1) == "Closed (10)"
    bots = {r.bot.bot_id: r for r in w.bots.model.rows()}
    assert len(bots) == 10 and all(b.closed_deals == 3 for b in bots.values())

    # the next burst shows as soon as the page does, without waiting for the flush
    for bot in range(10):
        w.bots.on_bot(bot_event(bot, 4, BotStatus.PAUSED))
    deals.on_ticker(TickerUpdated(Ticker("BTC/USDT", T0, D(90)), "paper"))
    w.show_page(1)
    assert {r.bot.status for r in w.bots.model.rows()} == {BotStatus.PAUSED}
    w.show_page(2)
    assert deals.open_model.prices[("paper", "BTC/USDT")] == D(90)
    btc = [e for e in open_rows.values() if e.record.symbol == "BTC/USDT"]
    assert btc and all(deals.open_model.pnl(e)[0] == e.deal.total_pnl(D(90)) for e in btc)
    open_pnl = sum((deals.open_model.pnl(e)[0] for e in open_rows.values()), D(0))
    assert deals.open_total.text() == f"10 open deal(s), profit/loss now {fmt_signed(open_pnl)} USDT"
    w.close()
    w.deleteLater()
