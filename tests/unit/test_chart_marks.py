"""The chart's marks book: one account's open deals and resting limit orders, from the engine's events."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817

from cryptobots_desktop.core.bots import DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import Fill, OrderRequest, OrderSide, OrderType
from cryptobots_desktop.engine.events import DealUpdated, OrderUpdated
from cryptobots_desktop.gui.chart_marks import ChartMarkBook, ChartMarks


def resting(leg: str, side: OrderSide, price: str, state: IntentState, account: str = "paper", deal: int = 1):
    cid = client_order_id("b1", deal, leg, 0)
    request = OrderRequest("BTC/USDT", side, OrderType.LIMIT, D("0.001"), cid, D(price))
    return OrderUpdated(JournaledOrder(OrderIntent(account, "b1", deal, leg, 0, request, 1_000), state))


def deal_event(
    deal_no: int, *, closed: bool = False, account: str = "paper", tp: str | None = "101"
) -> DealUpdated:
    cid = client_order_id("b1", deal_no, "base", 0)
    buy = Fill(
        f"t{deal_no}", cid, "BTC/USDT", OrderSide.BUY, D(100), D(1), D(0), "USDT", deal_no * 60_000, False
    )
    sells: tuple[Fill, ...] = ()
    if closed:
        tp_cid = client_order_id("b1", deal_no, "tp", 0)
        sells = (
            Fill(f"s{deal_no}", tp_cid, "BTC/USDT", OrderSide.SELL, D(101), D(1), D(0), "USDT", 9, True),
        )
    record = DealRecord("b1", deal_no, "BTC/USDT", "closed" if closed else "open", deal_no * 60_000)
    d = Deal(f"b1-{deal_no}", "b1", "BTC/USDT", deal_no * 60_000, (buy,), sells, 9 if closed else None)
    return DealUpdated(
        record, d, "Bot", take_profit_price=None if closed or tp is None else D(tp), account_id=account
    )


def test_open_deals_and_resting_orders_become_marks_and_go_when_done() -> None:
    book = ChartMarkBook(closed_kept=2)
    assert book.marks("paper", "BTC/USDT") == ChartMarks()
    chart = ("paper", "BTC/USDT")
    assert book.on_deal(deal_event(1)) == chart
    assert book.on_order(resting("s1", OrderSide.BUY, "99", IntentState.OPEN)) == chart
    assert book.on_order(resting("s2", OrderSide.BUY, "98", IntentState.PENDING)) == chart
    assert book.on_order(resting("tp", OrderSide.SELL, "101", IntentState.OPEN)) == chart
    marks = book.marks("paper", "BTC/USDT")
    assert marks.entries == (D(100),) and marks.take_profits == (D(101),)
    assert marks.resting_buys == (D(98), D(99))
    assert marks.resting_sells == ()  # the take-profit is drawn once, as the take-profit
    assert marks.buys == ((60_000, D(100)),) and marks.sells == ()
    assert book.marks("paper", "ETH/USDT") == ChartMarks()

    # a filled safety order and a canceled one are no longer resting; the closed deal leaves its fills
    book.on_order(resting("s1", OrderSide.BUY, "99", IntentState.FILLED))
    book.on_order(resting("s2", OrderSide.BUY, "98", IntentState.CANCELED))
    book.on_order(resting("tp", OrderSide.SELL, "101", IntentState.FILLED))
    book.on_deal(deal_event(1, closed=True))
    marks = book.marks("paper", "BTC/USDT")
    assert marks.entries == marks.take_profits == marks.resting_buys == ()
    assert marks.buys == ((60_000, D(100)),) and marks.sells == ((9, D(101)),)

    # only the latest closed deals keep their fills on the chart
    for n in (2, 3):
        book.on_deal(deal_event(n, closed=True))
    assert [t for t, _ in book.marks("paper", "BTC/USDT").buys] == [120_000, 180_000]


def test_each_account_has_its_own_marks_and_market_orders_are_not_marked() -> None:
    book = ChartMarkBook()
    assert book.on_deal(deal_event(1, account="live-1")) == ("live-1", "BTC/USDT")
    assert book.on_order(resting("s1", OrderSide.BUY, "99", IntentState.OPEN, account="live-1"))
    assert book.marks("live-1", "BTC/USDT").resting_buys == (D(99),)
    assert book.marks("live-1", "BTC/USDT").entries == (D(100),)
    cid = client_order_id("b1", 1, "base", 0)
    market = OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, D("0.001"), cid)
    row = JournaledOrder(OrderIntent("paper", "b1", 1, "base", 0, market, 1_000), IntentState.PENDING)
    assert book.on_order(OrderUpdated(row)) is None
    assert book.marks("paper", "BTC/USDT") == ChartMarks()  # the live account's marks are its own
