"""What every strategy's level-triggered controller shares: phases, actions, decisions and helpers.

A controller is a pure ``decide(params, market, view, price, now_ms) -> Decision``: from the journaled
orders of one deal (or grid) and the price now, the actions that move it where it should be. The engine
executes them journal-first and decides again until nothing is left to do.
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


class DealPhase(StrEnum):
    OPENING = "opening"  # its first order (a DCA base order, a grid's initial buy) is on its way
    OPEN = "open"  # working: orders resting, position held
    CLOSING = "closing"  # canceling its orders and selling out
    CLOSED = "closed"
    FAILED = "failed"  # the exchange refused an order it cannot do without; see the note


class CloseReason(StrEnum):
    STOP_LOSS = "stop loss"
    TRAILING_TAKE_PROFIT = "trailing take-profit"
    BY_PERSON = "closed at market by you"


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
    note: str | None = None  # why it failed, or what was left over when it closed
    deal: Deal | None = field(default=None, compare=False)


def latest_by_leg(orders: Sequence[JournaledOrder]) -> dict[str, JournaledOrder]:
    """The newest attempt of every leg."""
    latest: dict[str, JournaledOrder] = {}
    for row in orders:
        leg = row.intent.leg
        if leg not in latest or row.intent.attempt > latest[leg].intent.attempt:
            latest[leg] = row
    return latest


def next_attempt(latest: dict[str, JournaledOrder], leg: str) -> int:
    row = latest.get(leg)
    return 0 if row is None else row.intent.attempt + 1


def is_live(row: JournaledOrder) -> bool:
    return row.state in (IntentState.PENDING, IntentState.OPEN)


def placeable(market: Market, amount: Decimal, price: Decimal) -> bool:
    """Whether the exchange would take this amount at this price (lot minimum and minimum notional)."""
    return amount >= market.min_amount and amount > 0 and amount * price >= market.min_notional


def position_of(bot_id: str, deal_no: int, symbol: str, orders: Sequence[JournaledOrder]) -> Deal:
    """The position and P/L of one deal (or grid), from the fills of its journaled orders."""
    buys = tuple(f for o in orders for f in o.fills if f.side is OrderSide.BUY)
    sells = tuple(f for o in orders for f in o.fills if f.side is OrderSide.SELL)
    opened = min((o.intent.created_ms for o in orders), default=0)
    return Deal(f"{bot_id}-{deal_no}", bot_id, symbol, opened, buys, sells)


@dataclass(frozen=True, slots=True)
class DealRef:
    """Who an order belongs to: enough to give it its client order id."""

    account_id: str
    bot_id: str
    deal_no: int
    symbol: str

    def intent(
        self, leg: str, attempt: int, side: OrderSide, amount: Decimal, price: Decimal | None, now_ms: int
    ) -> OrderIntent:
        """A market order when ``price`` is None, else a limit order, under its deterministic id."""
        kind = OrderType.MARKET if price is None else OrderType.LIMIT
        cid = client_order_id(self.bot_id, self.deal_no, leg, attempt)
        request = OrderRequest(self.symbol, side, kind, amount, cid, price)
        return OrderIntent(self.account_id, self.bot_id, self.deal_no, leg, attempt, request, now_ms)
