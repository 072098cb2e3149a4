"""One DCA deal as a level-triggered controller: from its journaled orders and the price now, the actions
that bring it where it should be.

``decide`` is pure and idempotent. It reads only what the journal holds (every order of the deal with its
state and fills) plus the price, the deal's persisted close reason and the trailing high. The same inputs
always give the same actions, so a restart, a repeated event or a lost one cannot place an order twice:
the engine simply calls ``decide`` again after anything changes, executes the actions journal-first, and
repeats until there is nothing left to do.

Legs of a deal (each order's leg in its client order id): ``b`` base order (market buy), ``s1``..``sN``
safety orders (limit buys), ``tp`` take-profit (limit sell; a new attempt replaces it after the position
changes), ``x`` closing market sell (stop loss, trailing take-profit, or the person's "close at market").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.controller import (
    Action,
    CancelOrder,
    CloseReason,
    DealPhase,
    DealRef,
    Decision,
    PlaceOrder,
    RetryOrder,
    SetTrailingHigh,
    StartClosing,
    is_live,
    latest_by_leg,
    next_attempt,
    placeable,
    position_of,
)
from cryptobots_desktop.core.strategies.dca import (
    HUNDRED,
    DcaParams,
    buy_price,
    safety_order_deviation_pct,
    safety_order_size,
    stop_loss_price,
    take_profit_price,
)

BASE, TAKE_PROFIT, CLOSE = "b", "tp", "x"


def safety_leg(index: int) -> str:
    return f"s{index}"


@dataclass(frozen=True, slots=True)
class DealView:
    """What ``decide`` reads: the deal's identity, its journaled orders, and its two persisted flags."""

    account_id: str
    bot_id: str
    deal_no: int
    symbol: str
    orders: tuple[JournaledOrder, ...] = ()
    close_reason: CloseReason | None = None
    trailing_high: Decimal | None = None

    @property
    def ref(self) -> DealRef:
        return DealRef(self.account_id, self.bot_id, self.deal_no, self.symbol)


def deal_of(view: DealView) -> Deal:
    """The deal's position and P/L, from the fills of its journaled orders."""
    return position_of(view.bot_id, view.deal_no, view.symbol, view.orders)


def decide(params: DcaParams, market: Market, view: DealView, price: Decimal | None, now_ms: int) -> Decision:
    """The actions that move the deal toward where it should be, given the price now (None if unknown)."""
    latest = latest_by_leg(view.orders)
    deal = deal_of(view)

    # 1. Nothing is decided while an order's fate is unknown; orders the exchange never got are resent.
    if any(row.state is IntentState.PENDING for row in view.orders):
        return Decision(_phase_while_waiting(latest), (), None, deal)
    retries = tuple(RetryOrder(row) for row in latest.values() if row.state is IntentState.NOT_PLACED)
    if retries:
        return Decision(_phase_while_waiting(latest), retries, None, deal)

    # 2. The base order.
    base = latest.get(BASE)
    if base is None:
        if view.close_reason is not None:  # closed before its base order was sent: nothing to undo or sell
            return Decision(DealPhase.CLOSED, (), None, deal)
        if price is None:
            return Decision(DealPhase.OPENING, (), None, deal)
        amount = market.floor_amount(params.base_order_size / price)
        intent = view.ref.intent(BASE, 0, OrderSide.BUY, amount, None, now_ms)
        return Decision(DealPhase.OPENING, (PlaceOrder(intent),), None, deal)
    if base.state is IntentState.REJECTED:
        return Decision(DealPhase.FAILED, (), f"The base order was refused: {base.error}", deal)
    if base.state is not IntentState.FILLED and not (base.state is IntentState.CANCELED and base.filled > 0):
        return Decision(DealPhase.OPENING, (), None, deal)
    base_price = deal.buys[0].price if deal.buys else None
    if base_price is None:
        return Decision(DealPhase.FAILED, (), "The base order ended without buying anything.", deal)

    # 3. Closing: the take-profit or the closing sell filled, or a close reason was set.
    tp, close = latest.get(TAKE_PROFIT), latest.get(CLOSE)
    sold_out = (tp is not None and tp.state is IntentState.FILLED) or (
        close is not None and close.state is IntentState.FILLED
    )
    if sold_out or view.close_reason is not None:
        return _close(view, market, latest, deal, price, now_ms)

    # 4. Open: stop loss and trailing take-profit watch the price.
    actions: list[Action] = []
    avg = deal.average_entry_price
    stop = None if params.stop_loss_pct is None else stop_loss_price(base_price, params.stop_loss_pct, market)
    if price is not None and stop is not None and price <= stop:
        return Decision(DealPhase.OPEN, (StartClosing(CloseReason.STOP_LOSS),), None, deal)
    if price is not None and params.trailing_take_profit and avg is not None:
        target = take_profit_price(avg, params.take_profit_pct, market)
        high = view.trailing_high
        if price >= target and (high is None or price > high):
            actions.append(SetTrailingHigh(price))
            high = price
        deviation = params.trailing_deviation_pct or Decimal(0)
        if high is not None and price <= high * (1 - deviation / HUNDRED):
            return Decision(DealPhase.OPEN, (StartClosing(CloseReason.TRAILING_TAKE_PROFIT),), None, deal)

    # 5. Safety orders, each placed once, below the base order's fill price.
    for index in range(1, params.max_safety_orders + 1):
        leg = safety_leg(index)
        if leg in latest:
            continue
        so_price = buy_price(base_price, safety_order_deviation_pct(params, index), market)
        if so_price <= 0:
            break
        amount = market.floor_amount(safety_order_size(params, index) / so_price)
        if not placeable(market, amount, so_price):
            continue  # the preview named it; a deal does not send what the exchange would refuse
        actions.append(PlaceOrder(view.ref.intent(leg, 0, OrderSide.BUY, amount, so_price, now_ms)))

    # 6. The take-profit sells what the deal holds at average entry + take profit (not with trailing).
    if not params.trailing_take_profit and avg is not None:
        held = market.floor_amount(deal.base_held)
        target = take_profit_price(avg, params.take_profit_pct, market)
        if tp is not None and tp.state is IntentState.REJECTED:
            # the deal cannot sell: nothing more is placed and its working orders are withdrawn
            working = tuple(CancelOrder(row) for row in latest.values() if is_live(row))
            return Decision(DealPhase.FAILED, working, f"The take-profit order was refused: {tp.error}", deal)
        if tp is None or tp.state is IntentState.CANCELED:
            if placeable(market, held, target):
                attempt = next_attempt(latest, TAKE_PROFIT)
                actions.append(
                    PlaceOrder(view.ref.intent(TAKE_PROFIT, attempt, OrderSide.SELL, held, target, now_ms))
                )
        elif tp.state is IntentState.OPEN:
            # it must sell what is held (a partly filled one: its unfilled rest) at the current target; a
            # safety order that filled meanwhile changes both, so it is replaced (its fills are kept)
            request = tp.intent.request
            if request.amount - tp.filled != held or request.price != target:
                actions.append(CancelOrder(tp))  # replaced by the next attempt once canceled
    return Decision(DealPhase.OPEN, tuple(actions), None, deal)


def _phase_while_waiting(latest: dict[str, JournaledOrder]) -> DealPhase:
    base = latest.get(BASE)
    return DealPhase.OPEN if base is not None and base.state is IntentState.FILLED else DealPhase.OPENING


def _close(
    view: DealView,
    market: Market,
    latest: dict[str, JournaledOrder],
    deal: Deal,
    price: Decimal | None,
    now_ms: int,
) -> Decision:
    """Cancel every working order, then sell what is held at market; what cannot be sold is reported."""
    live = [row for row in latest.values() if is_live(row) and row.intent.leg != CLOSE]
    if live:
        return Decision(DealPhase.CLOSING, tuple(CancelOrder(row) for row in live), None, deal)
    close = latest.get(CLOSE)
    if close is not None and close.state is IntentState.OPEN:
        return Decision(DealPhase.CLOSING, (), None, deal)
    held = market.floor_amount(deal.base_held)
    reference = price or (deal.sells or deal.buys)[-1].price
    if (close is not None and close.state is IntentState.FILLED) or not placeable(market, held, reference):
        return Decision(DealPhase.CLOSED, (), _leftover(deal, market), deal)
    if close is not None and close.state is IntentState.REJECTED:
        return Decision(DealPhase.FAILED, (), f"The closing sell was refused: {close.error}", deal)
    intent = view.ref.intent(CLOSE, next_attempt(latest, CLOSE), OrderSide.SELL, held, None, now_ms)
    return Decision(DealPhase.CLOSING, (PlaceOrder(intent),), None, deal)


def _leftover(deal: Deal, market: Market) -> str | None:
    held = deal.base_held
    if held <= 0:
        return None
    return (
        f"{held.normalize():f} {market.base} is left over: under the exchange's minimum order, so it "
        "cannot be sold on its own."
    )


@dataclass(frozen=True, slots=True)
class Watch:
    """What would make ``decide`` act on a deal it has nothing to do for at the moment.

    ``now``: the deal must be decided again whatever the price (an order's fate is unknown, an order is
    to be sent or replaced, the deal is opening or closing). Otherwise the decision changes only once the
    price is at or below ``low`` or at or above ``high`` (None: no such level), or when one of the deal's
    resting orders fills (the exchange knows those prices).
    """

    low: Decimal | None = None
    high: Decimal | None = None
    now: bool = False


def watch(params: DcaParams, market: Market, view: DealView) -> Watch:
    """The price levels that would change ``decide``'s answer for the deal, or ``now`` if it acts anyway.

    Pure, like ``decide``, and conservative: a level is reported as touched on equality, and any deal that
    is not simply open and settled is to be decided now. Only the stop loss and the trailing take-profit
    (its target, its high and its pull-back level) read the price of an open deal.
    """
    latest = latest_by_leg(view.orders)
    if any(row.state in (IntentState.PENDING, IntentState.NOT_PLACED) for row in view.orders):
        return Watch(now=True)
    base = latest.get(BASE)
    if base is None or base.state is not IntentState.FILLED:
        return Watch(now=True)  # opening, or a base order that ended otherwise: decide says what follows
    settled = decide(params, market, view, None, 0)  # what it does whatever the price
    if settled.actions or settled.phase is not DealPhase.OPEN or settled.note is not None:
        return Watch(now=True)
    deal = settled.deal
    if deal is None or not deal.buys or deal.average_entry_price is None:
        return Watch(now=True)
    low: Decimal | None = None
    high: Decimal | None = None
    if params.stop_loss_pct is not None:
        low = stop_loss_price(deal.buys[0].price, params.stop_loss_pct, market)
    if params.trailing_take_profit:
        target = take_profit_price(deal.average_entry_price, params.take_profit_pct, market)
        trailing = view.trailing_high
        high = target if trailing is None else max(target, trailing)
        if trailing is not None:
            deviation = params.trailing_deviation_pct or Decimal(0)
            pull_back = trailing * (1 - deviation / HUNDRED)
            low = pull_back if low is None else max(low, pull_back)
    return Watch(low, high)
