"""A running grid bot as a level-triggered controller: from its journaled orders and the price now, the
actions that bring the grid where it should be.

``decide`` is pure and idempotent, like :func:`~cryptobots_desktop.core.strategies.dca_deal.decide`, and
returns the same :class:`~cryptobots_desktop.core.strategies.dca_deal.Decision`: it reads only the grid's
journaled orders (state and fills), the price, and two flags of the view. The same inputs always give the
same actions, so a restart, a repeated event or a lost one cannot place an order twice.

A grid runs as one deal. Its levels ``1 … n`` (1 = lowest) are :func:`grid_levels`'s prices. Legs:
``init`` the market buy of the base the start's sells need, ``g1`` … ``g200`` the order resting at level
``i`` (each new order at a level is the next attempt of its leg), ``x`` the market sell when stopping with
``sell_on_stop``.

**Start.** At the price now, :func:`grid_preview` assigns the sides: buys below the price, sells above, the
level nearest the price empty. If there are ``m`` > 0 sell levels, the grid first buys ``m × amount per
level`` at market (``init``) and places nothing else until it has FILLED, buys included: the ``init``
amount is the journal's record of where the grid started (``m = init amount / amount per level``), so no
level is ever placed before that record exists. With no sell level (the price at or above the top) the
buys are placed at once and the absence of ``init`` records ``m = 0``.

**The level-triggered rule.** With ``n`` levels a grid holds ``n − 1`` orders around one empty level, buys
below it and sells above it; every sell is backed by one unit (``amount per level``) of base the grid holds.
The units held are counted from the journal alone, ``k = m + FILLED grid buys − FILLED grid sells``, so
the empty level is ``e = n − k``: level ``i`` should hold a buy if ``i < e``, a sell if ``i > e``, nothing
if ``i = e``. A filled buy at ``i`` (then ``e = i + 1``) makes ``e`` move to ``i``: a sell is due at
``i + 1``; a filled sell at ``i`` moves ``e`` to ``i``: a buy is due at ``i − 1``. Each level holds at most
one live order (its leg's latest attempt); a level missing its order gets the next attempt, a level whose
untouched order is on the wrong side (only after fills outside the grid's own sequence) has it canceled.
Nothing is ever placed outside ``1 … n``; the price only matters at the start and when selling on stop.

**Partial fills** count for nothing until the order is FILLED: the grid waits. **Amounts**: buys trade
``amount per level`` (truncated to the lot step); sells trade it net of the larger fee rate, truncated
(the buy's fee is taken from the base received), so a sell never needs base the grid did not buy; the
remainder stays in the account as dust.

**Unknown fates and refusals.** A PENDING order anywhere: no action. NOT_PLACED: resent under its id.
REJECTED (any leg): the grid FAILED, with the exchange's reason in the note, and its live orders are
canceled (a failed grid does not leave orders working that nobody follows).

**Stop.** With ``stopping`` set, every live order is canceled (CLOSING), then the grid is CLOSED; with
``sell_on_stop`` the base it holds is first sold at market (``x``). A NOT_PLACED grid order is not resent
when stopping: the exchange never had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.controller import (
    Action,
    CancelOrder,
    DealPhase,
    DealRef,
    Decision,
    PlaceOrder,
    RetryOrder,
    is_live,
    latest_by_leg,
    next_attempt,
    placeable,
    position_of,
)
from cryptobots_desktop.core.strategies.grid import GridParams, grid_levels, grid_preview
from cryptobots_desktop.core.strategies.validation import fmt_fixed, fmt_number

INIT, CLOSE = "init", "x"
_GRID_PREFIX = "g"


def grid_leg(level: int) -> str:
    """The leg of the order resting at ``level`` (1 = lowest)."""
    return f"{_GRID_PREFIX}{level}"


def level_of(leg: str) -> int | None:
    """The level of a grid leg (``g3`` -> 3), None for ``init``, ``x`` or anything else."""
    digits = leg[len(_GRID_PREFIX) :]
    return int(digits) if leg.startswith(_GRID_PREFIX) and digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class GridView:
    """What ``decide`` reads: the grid's identity, its journaled orders, and the person's stop request."""

    account_id: str
    bot_id: str
    deal_no: int
    symbol: str
    orders: tuple[JournaledOrder, ...] = ()
    stopping: bool = False
    sell_on_stop: bool = False

    @property
    def ref(self) -> DealRef:
        return DealRef(self.account_id, self.bot_id, self.deal_no, self.symbol)


@dataclass(frozen=True, slots=True)
class GridProfit:
    """Realised grid profit in quote and the number of completed buy → sell cycles it comes from."""

    cycles: int
    realised: Decimal


def buy_amount(params: GridParams, market: Market) -> Decimal:
    """What every grid buy trades: the amount per level truncated to the lot step."""
    return market.floor_amount(params.amount_per_level)


def sell_amount(params: GridParams, market: Market) -> Decimal:
    """What every grid sell trades: a buy's amount net of the larger fee rate, truncated to the lot step."""
    return market.floor_amount(buy_amount(params, market) * (1 - max(market.maker_fee, market.taker_fee)))


def grid_deal(view: GridView) -> Deal:
    """The grid's position and P/L over all its fills (init, grid orders, closing sell)."""
    return position_of(view.bot_id, view.deal_no, view.symbol, view.orders)


def _units_at_start(params: GridParams, market: Market, init: JournaledOrder | None) -> int:
    """``m``, the sell levels at the start, as the ``init`` amount records it (0 without ``init``)."""
    if init is None:
        return 0
    return int((init.intent.request.amount / buy_amount(params, market)).to_integral_value())


def _filled_grid_orders(orders: Sequence[JournaledOrder]) -> list[tuple[int, JournaledOrder]]:
    """Every FILLED grid order with its level (all attempts, not only the latest)."""
    found: list[tuple[int, JournaledOrder]] = []
    for row in orders:
        level = level_of(row.intent.leg)
        if level is not None and row.state is IntentState.FILLED:
            found.append((level, row))
    return found


def empty_level(params: GridParams, market: Market, orders: Sequence[JournaledOrder]) -> int:
    """The level that should hold no order: ``n − k`` with ``k = m + filled buys − filled sells``."""
    n = len(grid_levels(params, market).prices)
    init = latest_by_leg(orders).get(INIT)
    held = _units_at_start(params, market, init)
    for _, row in _filled_grid_orders(orders):
        held += 1 if row.intent.request.side is OrderSide.BUY else -1
    return n - min(max(held, 0), n - 1)


def decide(
    params: GridParams, market: Market, view: GridView, price: Decimal | None, now_ms: int
) -> Decision:
    """The actions that move the grid toward where it should be, given the price now (None if unknown)."""
    latest = latest_by_leg(view.orders)
    deal = grid_deal(view)

    # 1. Nothing is decided while an order's fate is unknown.
    if any(row.state is IntentState.PENDING for row in view.orders):
        return Decision(_phase_while_waiting(view, latest), (), None, deal)

    # 2. Stopping: cancel, optionally sell out, close.
    if view.stopping:
        return _stop(view, market, latest, deal, price, now_ms)

    # 3. A refusal fails the grid; its live orders are canceled. Orders never received are resent.
    refused = [row for row in latest.values() if row.state is IntentState.REJECTED]
    if refused:
        stop_all = tuple(CancelOrder(row) for row in latest.values() if is_live(row))
        return Decision(DealPhase.FAILED, stop_all, _refusal(refused[0], market), deal)
    retries = tuple(RetryOrder(row) for row in latest.values() if row.state is IntentState.NOT_PLACED)
    if retries:
        return Decision(_phase_while_waiting(view, latest), retries, None, deal)

    prices = grid_levels(params, market).prices
    amount = buy_amount(params, market)
    if len(prices) < 2 or amount <= 0:
        return Decision(DealPhase.FAILED, (), "The grid has nothing to trade: see the grid's preview.", deal)

    # 4. The start: the initial buy of the sells' base, alone; or, with no sell level, straight to the grid.
    init = latest.get(INIT)
    started = bool(view.orders)
    if not started:
        if price is None:
            return Decision(DealPhase.OPENING, (), None, deal)
        sells = sum(1 for lv in grid_preview(params, market, price).levels if lv.side is OrderSide.SELL)
        if sells:
            intent = view.ref.intent(INIT, 0, OrderSide.BUY, amount * sells, None, now_ms)
            return Decision(DealPhase.OPENING, (PlaceOrder(intent),), None, deal)
    elif init is not None and init.state is IntentState.OPEN:
        return Decision(DealPhase.OPENING, (), None, deal)
    elif init is not None and init.state is IntentState.CANCELED:
        note = "The initial buy ended before it bought all the base the grid's sells need."
        return Decision(DealPhase.FAILED, (), note, deal)

    # 5. The grid: buys below the empty level, sells above it, one order per level at most.
    empty = empty_level(params, market, view.orders)
    selling = sell_amount(params, market)
    cancels: list[Action] = []
    places: list[Action] = []
    for level, level_price in enumerate(prices, 1):
        want = OrderSide.BUY if level < empty else OrderSide.SELL if level > empty else None
        leg = grid_leg(level)
        row = latest.get(leg)
        if row is not None and row.state is IntentState.OPEN:
            if row.intent.request.side is not want and row.filled == 0:
                cancels.append(CancelOrder(row))  # its replacement, if any, once it is canceled
            continue  # right side, or partly filled: wait for it
        if want is None:
            continue
        size = amount if want is OrderSide.BUY else selling
        if not placeable(market, size, level_price):
            continue  # the preview named it; the grid does not send what the exchange would refuse
        intent = view.ref.intent(leg, next_attempt(latest, leg), want, size, level_price, now_ms)
        places.append(PlaceOrder(intent))
    return Decision(DealPhase.OPEN, (*cancels, *places), None, deal)  # cancels first: they free funds


def _phase_while_waiting(view: GridView, latest: dict[str, JournaledOrder]) -> DealPhase:
    if view.stopping:
        return DealPhase.CLOSING
    init = latest.get(INIT)
    if init is not None and init.state is not IntentState.FILLED:
        return DealPhase.OPENING
    if init is None and not any(level_of(leg) is not None for leg in latest):
        return DealPhase.OPENING
    return DealPhase.OPEN


def _refusal(row: JournaledOrder, market: Market) -> str:
    leg, request = row.intent.leg, row.intent.request
    if leg == INIT:
        what = "The initial buy"
    elif leg == CLOSE:
        what = "The closing sell"
    else:
        at = "market" if request.price is None else fmt_fixed(request.price, market.price_decimals)
        what = f"The {request.side.value} at level {level_of(leg)} ({at} {market.quote})"
    return f"{what} was refused: {row.error}"


def _stop(
    view: GridView,
    market: Market,
    latest: dict[str, JournaledOrder],
    deal: Deal,
    price: Decimal | None,
    now_ms: int,
) -> Decision:
    """Cancel every live order, then sell what the grid holds at market if asked; then CLOSED."""
    live = [row for row in latest.values() if row.state is IntentState.OPEN and row.intent.leg != CLOSE]
    if live:
        return Decision(DealPhase.CLOSING, tuple(CancelOrder(row) for row in live), None, deal)
    close = latest.get(CLOSE)
    if close is not None and close.state is IntentState.OPEN:
        return Decision(DealPhase.CLOSING, (), None, deal)
    if close is not None and close.state is IntentState.NOT_PLACED:
        return Decision(DealPhase.CLOSING, (RetryOrder(close),), None, deal)
    if close is not None and close.state is IntentState.REJECTED:
        return Decision(DealPhase.FAILED, (), _refusal(close, market), deal)
    held = market.floor_amount(deal.base_held)
    fills = deal.sells or deal.buys
    reference = price or (fills[-1].price if fills else None)
    sold = close is not None and close.state is IntentState.FILLED
    if not view.sell_on_stop or sold or reference is None or not placeable(market, held, reference):
        return Decision(DealPhase.CLOSED, (), _kept(deal, market, view.sell_on_stop), deal)
    intent = view.ref.intent(CLOSE, next_attempt(latest, CLOSE), OrderSide.SELL, held, None, now_ms)
    return Decision(DealPhase.CLOSING, (PlaceOrder(intent),), None, deal)


def _kept(deal: Deal, market: Market, sell_on_stop: bool) -> str | None:
    held = deal.base_held
    if held <= 0:
        return None
    amount = f"{fmt_number(held)} {market.base}"
    if sell_on_stop:
        return f"{amount} is left over: under the exchange's minimum order, so it cannot be sold on its own."
    return f"{amount} bought by the grid stays in your account."


def grid_profit(params: GridParams, market: Market, view: GridView) -> GridProfit:
    """Realised grid profit: Σ over completed buy → sell pairs, fees included; and how many there are.

    Pairs are counted per step between adjacent levels ``i`` and ``i + 1``: the FILLED buys at ``i`` and the
    FILLED sells at ``i + 1`` are that step's order, alternately; a step above the start's empty level began
    with a sell of base from ``init`` (not a cycle: it is left out). The ``j``-th buy pairs with the
    ``j``-th remaining sell, both in attempt order. One pair's profit, with the Deal's rules for fees
    (a fee in base or quote counts, a fee in a third asset such as BNB is left out)::

        cost per base = (buy price × amount + buy fee in quote) / (amount − buy fee in base)
        profit        = sell price × amount − sell fee in quote − cost per base × (amount + sell fee in base)

    i.e. sell proceeds − the cost of the base sold − fees; the base a buy received beyond what its sell
    sold (fees, lot rounding) keeps its cost and is not realised. Partly filled orders are not in any pair.
    A buy and a sell two or more levels apart (only when both fill before the grid saw either) are not
    paired either; their result is in the grid's Deal.
    """
    n = len(grid_levels(params, market).prices)
    start_empty = n - _units_at_start(params, market, latest_by_leg(view.orders).get(INIT))
    buys: dict[int, list[JournaledOrder]] = {}
    sells: dict[int, list[JournaledOrder]] = {}
    for level, row in _filled_grid_orders(view.orders):
        side = buys if row.intent.request.side is OrderSide.BUY else sells
        side.setdefault(level, []).append(row)
    cycles, realised = 0, Decimal(0)
    for low in range(1, n):
        step_buys = sorted(buys.get(low, []), key=lambda r: r.intent.attempt)
        step_sells = sorted(sells.get(low + 1, []), key=lambda r: r.intent.attempt)
        if low >= start_empty:
            step_sells = step_sells[1:]  # the start's sell at ``low + 1`` sold base from ``init``
        for buy, sell in zip(step_buys, step_sells, strict=False):
            pair = Deal(f"{view.bot_id}-{view.deal_no}", view.bot_id, view.symbol, 0, buy.fills, sell.fills)
            realised += pair.realised_pnl
            cycles += 1
    return GridProfit(cycles, realised)
