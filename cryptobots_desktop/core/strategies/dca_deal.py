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

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent, client_order_id
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType
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


class DealPhase(StrEnum):
    OPENING = "opening"  # the base order is on its way
    OPEN = "open"  # position held, safety orders and take-profit working
    CLOSING = "closing"  # selling out (take-profit filled, stop loss, trailing, or closed by the person)
    CLOSED = "closed"
    FAILED = "failed"  # the exchange refused an order the deal cannot do without; see the note


class CloseReason(StrEnum):
    STOP_LOSS = "stop loss"
    TRAILING_TAKE_PROFIT = "trailing take-profit"
    BY_PERSON = "closed at market by you"


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


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    intent: OrderIntent


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order: JournaledOrder


@dataclass(frozen=True, slots=True)
class RetryOrder:
    """Send again, under the same client order id, an order the exchange never received."""

    order: JournaledOrder


@dataclass(frozen=True, slots=True)
class StartClosing:
    """Persist the close reason, then decide again: the deal cancels its orders and sells out."""

    reason: CloseReason


@dataclass(frozen=True, slots=True)
class SetTrailingHigh:
    price: Decimal


Action = PlaceOrder | CancelOrder | RetryOrder | StartClosing | SetTrailingHigh


@dataclass(frozen=True, slots=True)
class Decision:
    phase: DealPhase
    actions: tuple[Action, ...] = ()
    note: str | None = None  # why the deal failed, or what was left over when it closed
    deal: Deal | None = field(default=None, compare=False)


def latest_by_leg(orders: Sequence[JournaledOrder]) -> dict[str, JournaledOrder]:
    """The newest attempt of every leg."""
    latest: dict[str, JournaledOrder] = {}
    for row in orders:
        leg = row.intent.leg
        if leg not in latest or row.intent.attempt > latest[leg].intent.attempt:
            latest[leg] = row
    return latest


def deal_of(view: DealView) -> Deal:
    """The deal's position and P/L, from the fills of its journaled orders."""
    buys = tuple(f for o in view.orders for f in o.fills if f.side is OrderSide.BUY)
    sells = tuple(f for o in view.orders for f in o.fills if f.side is OrderSide.SELL)
    opened = min((o.intent.created_ms for o in view.orders), default=0)
    return Deal(f"{view.bot_id}-{view.deal_no}", view.bot_id, view.symbol, opened, buys, sells)


def _live(row: JournaledOrder) -> bool:
    return row.state in (IntentState.PENDING, IntentState.OPEN)


def _intent(
    view: DealView, leg: str, attempt: int, request_args: dict[str, object], now_ms: int
) -> OrderIntent:
    cid = client_order_id(view.bot_id, view.deal_no, leg, attempt)
    request = OrderRequest(symbol=view.symbol, client_order_id=cid, **request_args)  # type: ignore[arg-type]
    return OrderIntent(view.account_id, view.bot_id, view.deal_no, leg, attempt, request, now_ms)


def _next_attempt(latest: dict[str, JournaledOrder], leg: str) -> int:
    row = latest.get(leg)
    return 0 if row is None else row.intent.attempt + 1


def _placeable(market: Market, amount: Decimal, price: Decimal) -> bool:
    return amount >= market.min_amount and amount > 0 and amount * price >= market.min_notional


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
        if price is None:
            return Decision(DealPhase.OPENING, (), None, deal)
        amount = market.floor_amount(params.base_order_size / price)
        intent = _intent(
            view, BASE, 0, {"side": OrderSide.BUY, "type": OrderType.MARKET, "amount": amount}, now_ms
        )
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
        if not _placeable(market, amount, so_price):
            continue  # the preview named it; a deal does not send what the exchange would refuse
        args = {"side": OrderSide.BUY, "type": OrderType.LIMIT, "amount": amount, "price": so_price}
        actions.append(PlaceOrder(_intent(view, leg, 0, args, now_ms)))

    # 6. The take-profit sells what the deal holds at average entry + take profit (not with trailing).
    if not params.trailing_take_profit and avg is not None:
        held = market.floor_amount(deal.base_held)
        target = take_profit_price(avg, params.take_profit_pct, market)
        if tp is not None and tp.state is IntentState.REJECTED:
            return Decision(
                DealPhase.FAILED, tuple(actions), f"The take-profit order was refused: {tp.error}", deal
            )
        if tp is None or tp.state is IntentState.CANCELED:
            if _placeable(market, held, target):
                args = {"side": OrderSide.SELL, "type": OrderType.LIMIT, "amount": held, "price": target}
                actions.append(
                    PlaceOrder(_intent(view, TAKE_PROFIT, _next_attempt(latest, TAKE_PROFIT), args, now_ms))
                )
        elif tp.state is IntentState.OPEN and tp.filled == 0:
            request = tp.intent.request
            if request.amount != held or request.price != target:
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
    live = [row for row in latest.values() if _live(row) and row.intent.leg != CLOSE]
    if live:
        return Decision(DealPhase.CLOSING, tuple(CancelOrder(row) for row in live), None, deal)
    close = latest.get(CLOSE)
    if close is not None and close.state is IntentState.OPEN:
        return Decision(DealPhase.CLOSING, (), None, deal)
    held = market.floor_amount(deal.base_held)
    reference = price or (deal.sells or deal.buys)[-1].price
    if (close is not None and close.state is IntentState.FILLED) or not _placeable(market, held, reference):
        return Decision(DealPhase.CLOSED, (), _leftover(deal, market), deal)
    if close is not None and close.state is IntentState.REJECTED:
        return Decision(DealPhase.FAILED, (), f"The closing sell was refused: {close.error}", deal)
    args = {"side": OrderSide.SELL, "type": OrderType.MARKET, "amount": held}
    intent = _intent(view, CLOSE, _next_attempt(latest, CLOSE), args, now_ms)
    return Decision(DealPhase.CLOSING, (PlaceOrder(intent),), None, deal)


def _leftover(deal: Deal, market: Market) -> str | None:
    held = deal.base_held
    if held <= 0:
        return None
    return (
        f"{held.normalize():f} {market.base} is left over: under the exchange's minimum order, so it "
        "cannot be sold on its own."
    )
