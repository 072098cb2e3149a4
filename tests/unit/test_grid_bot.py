"""The grid bot controller: hand-computed placement and cycles, idempotence, the range's ends, failures, stop,
realised profit; and a random-walk property: the resting orders always form one consistent grid.

Inputs are journal rows built by hand (the controller is a pure function of them). The grid used throughout:
5 levels from 90 to 110 (arithmetic: 90, 95, 100, 105, 110), 0.1 ABC per level, fees 0.1 % both ways.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D  # noqa: N817

from hypothesis import given, settings
from hypothesis import strategies as st

from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import Fill, OrderSide, OrderType
from cryptobots_desktop.core.strategies.controller import (
    CancelOrder,
    DealPhase,
    Decision,
    PlaceOrder,
    RetryOrder,
)
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.core.strategies.grid_bot import (
    GridProfit,
    GridView,
    decide,
    empty_level,
    grid_profit,
)

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
PARAMS = GridParams(lower_price=D(90), upper_price=D(110), levels=5, amount_per_level=D("0.1"))
BUY, SELL = OrderSide.BUY, OrderSide.SELL


class Book:
    """The journal rows of one grid, changed as the exchange would report them."""

    def __init__(self) -> None:
        self.rows: dict[str, JournaledOrder] = {}
        self.trades = 0

    def view(self, **kw: bool) -> GridView:
        return GridView("paper", "bot1", 1, "ABC/USDT", tuple(self.rows.values()), **kw)

    def decide(self, price: D | None = D(100), **kw: bool) -> Decision:
        return decide(PARAMS, MARKET, self.view(**kw), price, 0)

    def accept(self, actions: tuple[object, ...]) -> None:
        for action in actions:
            assert isinstance(action, PlaceOrder)
            self.rows[action.intent.client_order_id] = JournaledOrder(action.intent, IntentState.OPEN, "x")

    def row(self, leg: str) -> JournaledOrder:
        return max((r for r in self.rows.values() if r.intent.leg == leg), key=lambda r: r.intent.attempt)

    def fill(self, leg: str, price: D | None = None, amount: D | None = None) -> None:
        """Fill the leg's latest order (at its limit price unless told), fully unless ``amount`` is given."""
        row = self.row(leg)
        r = row.intent.request
        price = price or r.price
        assert price is not None
        amount = amount or r.amount - row.filled
        fee = amount * D("0.001") if r.side is BUY else amount * price * D("0.001")
        self.trades += 1
        fill = Fill(
            f"t{self.trades}",
            r.client_order_id,
            r.symbol,
            r.side,
            price,
            amount,
            fee,
            "ABC" if r.side is BUY else "USDT",
            self.trades,
            r.type is OrderType.LIMIT,
        )
        state = IntentState.FILLED if row.filled + amount == r.amount else IntentState.OPEN
        self.rows[r.client_order_id] = dataclasses.replace(row, state=state, fills=(*row.fills, fill))

    def set_state(self, leg: str, state: IntentState, error: str | None = None) -> None:
        row = self.row(leg)
        self.rows[row.client_order_id] = dataclasses.replace(row, state=state, error=error)

    def live(self) -> dict[int, tuple[OrderSide, D | None]]:
        """Level -> (side, price) of every open grid order."""
        return {
            int(r.intent.leg[1:]): (r.intent.request.side, r.intent.request.price)
            for r in self.rows.values()
            if r.state is IntentState.OPEN and r.intent.leg.startswith("g")
        }


def placed(d: Decision) -> dict[str, tuple[str, OrderSide, OrderType, D, D | None]]:
    """client order id -> (leg, side, type, amount, price) of every PlaceOrder."""
    out = {}
    for a in d.actions:
        assert isinstance(a, PlaceOrder)
        r = a.intent.request
        out[r.client_order_id] = (a.intent.leg, r.side, r.type, r.amount, r.price)
    return out


def sides(actions: object) -> dict[str, tuple[OrderSide, D | None]]:
    """leg -> (side, price) of the PlaceOrder actions."""
    assert isinstance(actions, (tuple, list))
    return {
        leg: (side, price)
        for leg, side, _, _, price in placed(Decision(DealPhase.OPEN, tuple(actions))).values()
    }


def running_book() -> Book:
    """Started at 101: init bought 0.2 ABC at 101 (fee 0.0002 ABC), then the grid placed around level 3."""
    book = Book()
    book.accept(book.decide(D(101)).actions)
    book.fill("init", D(101))
    book.accept(book.decide(D(101)).actions)
    return book


def test_start_buys_the_sells_base_at_market_then_places_the_grid_around_the_empty_level() -> None:
    book = Book()
    assert book.decide(None).actions == ()  # no price, no start
    start = book.decide(D(101))
    assert start.phase is DealPhase.OPENING
    # 101 is nearest to level 3 (100): buys at 1, 2; sells at 4, 5 -> init buys 2 x 0.1 = 0.2 ABC at market
    assert placed(start) == {"cbbot1-1-init-0": ("init", BUY, OrderType.MARKET, D("0.2"), None)}
    book.accept(start.actions)
    assert book.decide(D(101)) == Decision(DealPhase.OPENING)  # the init buy works: nothing else yet
    book.fill("init", D(101))
    grid = book.decide(D("101.5"))  # the price at the start no longer matters: init recorded m = 2
    assert grid.phase is DealPhase.OPEN
    # buys trade 0.1; sells 0.1 x (1 - 0.1 %) = 0.0999 -> 0.099 (lot 0.001); level 3 (100) stays empty
    limit = OrderType.LIMIT
    assert placed(grid) == {
        "cbbot1-1-g1-0": ("g1", BUY, limit, D("0.1"), D(90)),
        "cbbot1-1-g2-0": ("g2", BUY, limit, D("0.1"), D(95)),
        "cbbot1-1-g4-0": ("g4", SELL, limit, D("0.099"), D(105)),
        "cbbot1-1-g5-0": ("g5", SELL, limit, D("0.099"), D(110)),
    }
    # base held: 0.2 - 0.0002 fee = 0.1998 >= the sells' 2 x 0.099 = 0.198
    assert grid.deal is not None and grid.deal.base_held == D("0.1998")


def test_above_the_range_there_is_no_init_and_only_buys() -> None:
    book = Book()
    d = book.decide(D(120))  # nearest level 5 (110) empty, buys at 1..4, nothing to sell
    assert sides(d.actions) == {
        "g1": (BUY, D(90)),
        "g2": (BUY, D(95)),
        "g3": (BUY, D(100)),
        "g4": (BUY, D(105)),
    }
    book.accept(d.actions)
    assert book.decide(D(100)).actions == ()  # no init in the journal: m = 0, still level 5 empty


def test_a_buy_fill_places_the_sell_one_level_up() -> None:
    book = running_book()
    book.fill("g2")  # bought 0.1 at 95: units 2 + 1 = 3 -> empty level 5 - 3 = 2
    d = book.decide(D(95))
    assert placed(d) == {"cbbot1-1-g3-0": ("g3", SELL, OrderType.LIMIT, D("0.099"), D(100))}
    book.accept(d.actions)
    assert book.live() == {1: (BUY, D(90)), 3: (SELL, D(100)), 4: (SELL, D(105)), 5: (SELL, D(110))}


def test_a_sell_fill_places_the_buy_one_level_down() -> None:
    book = running_book()
    book.fill("g4")  # sold 0.099 at 105: units 2 - 1 = 1 -> empty level 4
    d = book.decide(D(105))
    assert grid_profit(PARAMS, MARKET, book.view()) == GridProfit(0, D(0))  # init's base sold: no cycle
    assert placed(d) == {"cbbot1-1-g3-0": ("g3", BUY, OrderType.LIMIT, D("0.1"), D(100))}
    book.accept(d.actions)
    book.fill("g3")  # and that buy fills: the sell above it is the next attempt of level 4
    assert placed(book.decide(D(100))) == {"cbbot1-1-g4-1": ("g4", SELL, OrderType.LIMIT, D("0.099"), D(105))}


def test_decide_is_idempotent_and_quiet_once_every_level_works() -> None:
    book = running_book()
    book.fill("g2")
    first = book.decide(D(95))
    assert first == book.decide(D(95))  # same rows, same actions (same client order ids)
    book.accept(first.actions)
    for price in (D(95), D("97.3"), D(104), None):
        assert book.decide(price) == Decision(DealPhase.OPEN)


def test_the_price_leaving_the_range_places_nothing_beyond_the_ends() -> None:
    down = running_book()
    down.fill("g2")
    down.accept(down.decide(D(95)).actions)
    down.fill("g1")  # every buy filled: units 4 -> empty level 1, sells at 2..5
    assert placed(down.decide(D(80))) == {"cbbot1-1-g2-1": ("g2", SELL, OrderType.LIMIT, D("0.099"), D(95))}
    down.accept(down.decide(D(80)).actions)
    assert down.decide(D(70)).actions == ()
    assert down.live() == {2: (SELL, D(95)), 3: (SELL, D(100)), 4: (SELL, D(105)), 5: (SELL, D(110))}

    up = running_book()
    up.fill("g4")
    up.fill("g5")  # both sells filled before the grid looked: units 0 -> empty level 5, buys at 1..4
    d = up.decide(D(130))
    assert sides(d.actions) == {
        "g3": (BUY, D(100)),
        "g4": (BUY, D(105)),
    }
    up.accept(d.actions)
    assert up.decide(D(150)).actions == ()
    assert empty_level(PARAMS, MARKET, tuple(up.rows.values())) == 5


def test_opposite_fills_around_the_empty_level_restore_the_same_grid() -> None:
    book = running_book()
    book.fill("g2")  # the buy below the empty level 3 ...
    book.fill("g4")  # ... and the sell above it, both before the grid looked: units unchanged, still 3
    d = book.decide(D(103))
    assert sides(d.actions) == {
        "g2": (BUY, D(95)),
        "g4": (SELL, D(105)),
    }  # not a buy and a sell both at level 3


def test_fills_known_out_of_order_cancel_the_order_on_the_wrong_side_then_the_grid_converges() -> None:
    book = running_book()
    book.fill("g1")  # the buy at 90 is known filled, the one at 95 not yet: units 3 -> empty level 2
    cancel, *places = book.decide(D(90)).actions
    assert cancel == CancelOrder(book.row("g2"))  # level 2 must be empty: its untouched buy goes, first
    assert sides(places) == {"g1": (BUY, D(90)), "g3": (SELL, D(100))}
    book.accept(tuple(places))
    book.fill("g2")  # the cancel finds it filled after all: units 4 -> empty level 1
    cancel, *places = book.decide(D(90)).actions
    assert cancel == CancelOrder(book.row("g1"))
    assert sides(places) == {"g2": (SELL, D(95))}
    book.set_state("g1", IntentState.CANCELED)
    book.accept(tuple(places))
    assert book.decide(D(90)).actions == ()
    assert book.live() == {2: (SELL, D(95)), 3: (SELL, D(100)), 4: (SELL, D(105)), 5: (SELL, D(110))}


def test_a_partly_filled_order_is_waited_for() -> None:
    book = running_book()
    book.fill("g2", amount=D("0.04"))
    assert book.decide(D(95)).actions == ()
    book.fill("g2")  # the other 0.06: FILLED
    assert [leg for leg, *_ in placed(book.decide(D(95))).values()] == ["g3"]


def test_unknown_fate_blocks_unreceived_orders_are_resent_and_a_refusal_fails_the_grid() -> None:
    book = running_book()
    book.fill("g2")  # a sell at level 3 is due ...
    book.set_state("g5", IntentState.PENDING)
    assert book.decide(D(95)) == Decision(DealPhase.OPEN)  # ... not yet
    book.set_state("g5", IntentState.NOT_PLACED)
    assert book.decide(D(95)).actions == (RetryOrder(book.row("g5")),)  # same id, before anything new
    book.set_state("g5", IntentState.REJECTED, "Account has insufficient balance for requested action.")
    d = book.decide(D(95))
    assert d.phase is DealPhase.FAILED
    assert d.note == (
        "The sell at level 5 (110.00 USDT) was refused: "
        "Account has insufficient balance for requested action."
    )
    assert {a.order.intent.leg for a in d.actions if isinstance(a, CancelOrder)} == {"g1", "g4"}
    assert len(d.actions) == 2  # and nothing placed


def test_a_refused_init_fails_the_grid_before_any_level_is_placed() -> None:
    book = Book()
    book.accept(book.decide(D(101)).actions)
    book.set_state("init", IntentState.REJECTED, "Account has insufficient balance for requested action.")
    d = book.decide(D(101))
    assert (d.phase, d.actions) == (DealPhase.FAILED, ())
    assert d.note == "The initial buy was refused: Account has insufficient balance for requested action."


def test_stop_cancels_every_order_then_closes_keeping_the_base() -> None:
    book = running_book()
    d = book.decide(D(100), stopping=True)
    assert d.phase is DealPhase.CLOSING
    assert {a.order.intent.leg for a in d.actions if isinstance(a, CancelOrder)} == {"g1", "g2", "g4", "g5"}
    for leg in ("g1", "g2", "g4", "g5"):
        book.set_state(leg, IntentState.CANCELED)
    closed = book.decide(D(100), stopping=True)
    assert (closed.phase, closed.actions) == (DealPhase.CLOSED, ())
    assert closed.note == "0.1998 ABC bought by the grid stays in your account."


def test_stop_with_sell_on_stop_sells_the_base_at_market() -> None:
    book = running_book()
    for leg in ("g1", "g2", "g4", "g5"):
        book.set_state(leg, IntentState.CANCELED)
    d = book.decide(D(100), stopping=True, sell_on_stop=True)
    # held 0.1998 -> 0.199 at the lot step
    assert d.phase is DealPhase.CLOSING
    assert placed(d) == {"cbbot1-1-x-0": ("x", SELL, OrderType.MARKET, D("0.199"), None)}
    book.accept(d.actions)
    assert book.decide(D(100), stopping=True, sell_on_stop=True) == Decision(DealPhase.CLOSING)
    book.fill("x", D(100))
    done = book.decide(D(100), stopping=True, sell_on_stop=True)
    assert (done.phase, done.actions) == (DealPhase.CLOSED, ())
    assert done.note is not None and done.note.startswith("0.0008 ABC is left over")  # 0.1998 - 0.199


def test_realised_profit_of_two_cycles_with_fees() -> None:
    book = running_book()  # started with empty level 3; init's 2 units back the sells at 4 and 5
    book.fill("g2")  # buy 0.1 at 95, fee 0.0001 ABC
    book.accept(book.decide().actions)
    book.fill("g3")  # sell 0.099 at 100, fee 0.0099 USDT: cycle 1 (level 2 -> 3)
    book.accept(book.decide().actions)
    book.fill("g2")  # buy again at 95 (attempt 1): its sell at 100 rests, not a cycle yet
    book.accept(book.decide().actions)
    book.fill("g1")  # buy 0.1 at 90
    book.accept(book.decide().actions)
    book.fill("g2")  # sell 0.099 at 95 (attempt 2), fee 0.009405 USDT: cycle 2 (level 1 -> 2)
    book.accept(book.decide().actions)
    # cycle 1: cost per base 9.5 / 0.0999; proceeds 9.9 - 0.0099 = 9.8901; 9.8901 - 0.099 x 9.5 / 0.0999
    #        = 9.8901 - 9.4144144144... = 0.4756855855...
    # cycle 2: 9.405 - 0.009405 = 9.395595; cost 0.099 x 9 / 0.0999 = 8.9189189189...; = 0.4766760810...
    # total  = 9.8901 + 9.395595 - (9.5 + 9) x 0.099 / 0.0999 = 19.285695 - 18.3333333333... = 0.9523616666...
    profit = grid_profit(PARAMS, MARKET, book.view())
    assert profit.cycles == 2
    assert profit.realised.quantize(D("1e-12")) == D("0.952361666667")
    assert grid_profit(PARAMS, MARKET, Book().view()) == GridProfit(0, D(0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=25))
def test_on_any_price_path_the_grid_stays_one_consistent_ladder(path: list[int]) -> None:
    """Prices jump between levels (0 and 6 are outside the range); every crossed order fills before the grid
    looks. After each settle: at most one order per level, buys below sells, one empty level, n - 1 orders."""
    ladder = {i: D(85 + 5 * i) for i in range(7)}  # 85 (below), 90 … 110, 115 (above)
    book = running_book()
    for step in path:
        price = ladder[step]
        for r in list(book.rows.values()):
            req = r.intent.request
            crossed = req.price is not None and (
                (req.side is BUY and price <= req.price) or (req.side is SELL and price >= req.price)
            )
            if r.state is IntentState.OPEN and r.intent.leg.startswith("g") and crossed:
                book.fill(r.intent.leg)
        for _ in range(4):
            d = book.decide(price)
            if not d.actions:
                break
            for a in d.actions:
                if isinstance(a, CancelOrder):
                    book.set_state(a.order.intent.leg, IntentState.CANCELED)
            book.accept(tuple(a for a in d.actions if isinstance(a, PlaceOrder)))
        assert book.decide(price).actions == ()
        live = book.live()
        legs = [r.intent.leg for r in book.rows.values() if r.state is IntentState.OPEN]
        assert len(legs) == len(set(legs)) == 4
        empty = empty_level(PARAMS, MARKET, tuple(book.rows.values()))
        assert set(live) == {1, 2, 3, 4, 5} - {empty}
        assert all((side is BUY) == (level < empty) for level, (side, _) in live.items())
    assert grid_profit(PARAMS, MARKET, book.view()).realised >= 0
