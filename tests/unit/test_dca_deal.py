"""The DCA deal controller: hand-computed ladders and take-profits, idempotence, closing, failures.

Inputs are journal rows built by hand (the controller is a pure function of them); the whole cycle on the
real paper exchange and journal is tested in the engine's tests.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D  # noqa: N817

from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import Fill, OrderSide, OrderType
from cryptobots_desktop.core.strategies.controller import (
    CancelOrder,
    CloseReason,
    DealPhase,
    PlaceOrder,
    RetryOrder,
    SetTrailingHigh,
    StartClosing,
)
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.dca_deal import DealView, decide

MARKET = Market(
    "ABC/USDT",
    "ABCUSDT",
    "ABC",
    "USDT",
    D("0.01"),
    D("0.001"),
    D("0.001"),
    D(9000),
    D(5),
    D("0.001"),
    D("0.001"),
)
PARAMS = DcaParams(
    base_order_size=D(10),
    safety_order_size=D(10),
    max_safety_orders=3,
    price_deviation_pct=D(1),
    safety_order_step_scale=D(2),
    safety_order_volume_scale=D(2),
    take_profit_pct=D(1),
)


class Book:
    """The journal rows of one deal, changed as the exchange would report them."""

    def __init__(self) -> None:
        self.rows: dict[str, JournaledOrder] = {}
        self.trades = 0

    def view(self, **kw: object) -> DealView:
        return DealView("paper", "bot1", 1, "ABC/USDT", tuple(self.rows.values()), **kw)  # type: ignore[arg-type]

    def accept(self, actions: tuple[object, ...]) -> None:
        for action in actions:
            assert isinstance(action, PlaceOrder)
            self.rows[action.intent.client_order_id] = JournaledOrder(action.intent, IntentState.OPEN, "x")

    def row(self, leg: str) -> JournaledOrder:
        return max((r for r in self.rows.values() if r.intent.leg == leg), key=lambda r: r.intent.attempt)

    def fill(self, leg: str, price: D | None = None) -> None:
        row = self.row(leg)
        r = row.intent.request
        price = price or r.price
        assert price is not None
        fee = r.amount * D("0.001") if r.side is OrderSide.BUY else r.amount * price * D("0.001")
        self.trades += 1
        fill = Fill(
            f"t{self.trades}",
            r.client_order_id,
            r.symbol,
            r.side,
            price,
            r.amount,
            fee,
            "ABC" if r.side is OrderSide.BUY else "USDT",
            0,
            r.type is OrderType.LIMIT,
        )
        self.rows[r.client_order_id] = dataclasses.replace(row, state=IntentState.FILLED, fills=(fill,))

    def set_state(self, leg: str, state: IntentState, error: str | None = None) -> None:
        row = self.row(leg)
        self.rows[row.client_order_id] = dataclasses.replace(row, state=state, error=error)


def opened_book() -> Book:
    """A deal whose base order bought 0.1 ABC at 100 (0.0001 ABC fee), with its ladder and take-profit."""
    book = Book()
    first = decide(PARAMS, MARKET, book.view(), D(100), 0)
    book.accept(first.actions)
    book.fill("b", D(100))
    book.accept(decide(PARAMS, MARKET, book.view(), D(100), 0).actions)
    return book


def test_a_new_deal_buys_the_base_order_at_market() -> None:
    d = decide(PARAMS, MARKET, Book().view(), D(100), 0)
    assert d.phase is DealPhase.OPENING
    (place,) = d.actions
    assert isinstance(place, PlaceOrder)
    r = place.intent.request
    assert (r.side, r.type, r.amount, r.client_order_id) == (
        OrderSide.BUY,
        OrderType.MARKET,
        D("0.1"),
        "cbbot1-1-b-0",
    )
    assert decide(PARAMS, MARKET, Book().view(), None, 0).actions == ()  # no price, no order


def test_after_the_base_fill_the_ladder_and_take_profit_are_placed() -> None:
    book = Book()
    book.accept(decide(PARAMS, MARKET, book.view(), D(100), 0).actions)
    book.fill("b", D(100))
    d = decide(PARAMS, MARKET, book.view(), D(100), 0)
    assert d.phase is DealPhase.OPEN
    orders = {a.intent.leg: a.intent.request for a in d.actions if isinstance(a, PlaceOrder)}
    # deviations 1, 1+2 = 3, 1+2+4 = 7 % -> prices 99, 97, 93; sizes 10, 20, 40 USDT
    # amounts: 10/99 = 0.10101 -> 0.101; 20/97 = 0.20618 -> 0.206; 40/93 = 0.43010 -> 0.430
    assert {leg: (r.price, r.amount) for leg, r in orders.items() if leg.startswith("s")} == {
        "s1": (D(99), D("0.101")),
        "s2": (D(97), D("0.206")),
        "s3": (D(93), D("0.430")),
    }
    # held 0.1 - 0.0001 fee = 0.0999 ABC (sellable 0.099); average 10 / 0.0999 = 100.1001...
    # take-profit 100.1001 x 1.01 = 101.1011 -> rounded up to the tick: 101.11
    tp = orders["tp"]
    assert (tp.side, tp.type, tp.amount, tp.price) == (
        OrderSide.SELL,
        OrderType.LIMIT,
        D("0.099"),
        D("101.11"),
    )


def test_decide_is_idempotent_once_everything_is_working() -> None:
    book = opened_book()
    again = decide(PARAMS, MARKET, book.view(), D("99.5"), 0)
    assert again == decide(PARAMS, MARKET, book.view(), D("99.5"), 0)
    assert again.actions == ()
    assert again.phase is DealPhase.OPEN


def test_a_safety_fill_replaces_the_take_profit_by_a_new_attempt() -> None:
    book = opened_book()
    book.fill("s1")
    d = decide(PARAMS, MARKET, book.view(), D(99), 0)
    assert d.actions == (CancelOrder(book.row("tp")),)
    book.set_state("tp", IntentState.CANCELED)
    (place,) = decide(PARAMS, MARKET, book.view(), D(99), 0).actions
    assert isinstance(place, PlaceOrder)
    r = place.intent.request
    # held 0.0999 + 0.101 x 0.999 = 0.0999 + 0.100899 = 0.200799 -> sellable 0.200
    # spent 10 + 0.101 x 99 = 19.999 -> average 19.999 / 0.200799 = 99.5971... x 1.01 = 100.5931 -> 100.60
    assert (r.client_order_id, r.amount, r.price) == ("cbbot1-1-tp-1", D("0.200"), D("100.60"))


def test_a_partly_filled_take_profit_is_replaced_when_a_safety_order_fills() -> None:
    """The take-profit sold part of the position, then the price fell and a safety order filled: the deal
    now holds more at a lower average, so the partly filled take-profit is replaced by one selling all
    that is held at the new target (it stood, unchanged, for the old rest before)."""
    book = opened_book()
    tp = book.row("tp")
    r = tp.intent.request
    assert r.price is not None
    part = Fill("t-part", r.client_order_id, r.symbol, r.side, r.price, D("0.04"), D(0), "USDT", 0, True)
    book.rows[r.client_order_id] = dataclasses.replace(tp, fills=(part,))
    # partly filled, nothing else changed: it stands for its rest (no churn every minute)
    assert decide(PARAMS, MARKET, book.view(), D(101), 0).actions == ()

    book.fill("s1")
    d = decide(PARAMS, MARKET, book.view(), D(99), 0)
    assert d.actions == (CancelOrder(book.row("tp")),)
    book.set_state("tp", IntentState.CANCELED)  # canceled with its fill kept
    (place,) = decide(PARAMS, MARKET, book.view(), D(99), 0).actions
    assert isinstance(place, PlaceOrder)
    again = place.intent.request
    # held 0.0999 - 0.040 sold + 0.101 x 0.999 = 0.160799 -> 0.160; average (average cost, sells do not
    # change it) 19.999 / 0.200799 = 99.5971 -> target x 1.01 = 100.5931 -> 100.60
    assert (again.client_order_id, again.amount, again.price) == ("cbbot1-1-tp-1", D("0.160"), D("100.60"))


def test_take_profit_fill_cancels_the_ladder_then_the_deal_is_closed() -> None:
    book = opened_book()
    book.fill("tp")
    d = decide(PARAMS, MARKET, book.view(), D("101.2"), 0)
    assert d.phase is DealPhase.CLOSING
    assert {a.order.intent.leg for a in d.actions if isinstance(a, CancelOrder)} == {"s1", "s2", "s3"}
    for leg in ("s1", "s2", "s3"):
        book.set_state(leg, IntentState.CANCELED)
    closed = decide(PARAMS, MARKET, book.view(), D("101.2"), 0)
    assert closed.phase is DealPhase.CLOSED
    assert closed.actions == ()
    assert closed.note is not None and "0.0009 ABC is left over" in closed.note  # 0.0999 held, 0.099 sold
    assert closed.deal is not None and closed.deal.realised_pnl > 0


def test_stop_loss_cancels_everything_and_sells_at_market() -> None:
    params = PARAMS.model_copy(update={"stop_loss_pct": D(10)})
    book = opened_book()
    # stop at 100 x (1 - 10 %) = 90.00: 90.01 holds, 90.00 sells out
    assert decide(params, MARKET, book.view(), D("90.01"), 0).actions == ()
    assert decide(params, MARKET, book.view(), D("90.00"), 0).actions == (
        StartClosing(CloseReason.STOP_LOSS),
    )
    view = book.view(close_reason=CloseReason.STOP_LOSS)
    d = decide(params, MARKET, view, D("89.9"), 0)
    assert {a.order.intent.leg for a in d.actions if isinstance(a, CancelOrder)} == {"s1", "s2", "s3", "tp"}
    for leg in ("s1", "s2", "s3", "tp"):
        book.set_state(leg, IntentState.CANCELED)
    (sell,) = decide(params, MARKET, book.view(close_reason=CloseReason.STOP_LOSS), D("89.9"), 0).actions
    assert isinstance(sell, PlaceOrder)
    r = sell.intent.request
    assert (r.client_order_id, r.side, r.type, r.amount) == (
        "cbbot1-1-x-0",
        OrderSide.SELL,
        OrderType.MARKET,
        D("0.099"),
    )
    book.accept((sell,))
    book.fill("x", D("89.9"))
    done = decide(params, MARKET, book.view(close_reason=CloseReason.STOP_LOSS), D("89.9"), 0)
    assert done.phase is DealPhase.CLOSED
    assert done.deal is not None and done.deal.realised_pnl < 0


def test_trailing_take_profit_follows_the_high_then_sells_on_the_pullback() -> None:
    params = PARAMS.model_copy(update={"trailing_take_profit": True, "trailing_deviation_pct": D("0.5")})
    book = Book()
    book.accept(decide(params, MARKET, book.view(), D(100), 0).actions)
    book.fill("b", D(100))
    placed = decide(params, MARKET, book.view(), D(100), 0).actions
    assert all(a.intent.leg != "tp" for a in placed if isinstance(a, PlaceOrder))  # no resting take-profit
    book.accept(placed)
    assert decide(params, MARKET, book.view(), D(102), 0).actions == (SetTrailingHigh(D(102)),)
    assert decide(params, MARKET, book.view(trailing_high=D(102)), D("101.6"), 0).actions == ()
    # 102 x (1 - 0.5 %) = 101.49: at or below it the deal sells out
    assert decide(params, MARKET, book.view(trailing_high=D(102)), D("101.49"), 0).actions == (
        StartClosing(CloseReason.TRAILING_TAKE_PROFIT),
    )


def test_unknown_fate_blocks_and_unreceived_orders_are_resent_under_their_id() -> None:
    book = opened_book()
    book.set_state("s2", IntentState.PENDING)
    assert decide(PARAMS, MARKET, book.view(), D(80), 0).actions == ()  # not even a stop loss
    book.set_state("s2", IntentState.NOT_PLACED)
    assert decide(PARAMS, MARKET, book.view(), D(99), 0).actions == (RetryOrder(book.row("s2")),)


def test_a_refused_base_order_fails_the_deal_with_the_exchanges_reason() -> None:
    book = Book()
    book.accept(decide(PARAMS, MARKET, book.view(), D(100), 0).actions)
    book.set_state("b", IntentState.REJECTED, "Account has insufficient balance for requested action.")
    d = decide(PARAMS, MARKET, book.view(), D(100), 0)
    assert d.phase is DealPhase.FAILED
    assert d.note == "The base order was refused: Account has insufficient balance for requested action."
    assert d.actions == ()
