"""What the price chart marks for the bots of an account: average entries, take-profits, resting orders
and fills, kept from the engine's deal and order events."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.orders import OrderSide, OrderType
from cryptobots_desktop.engine.events import DealUpdated, OrderUpdated

CLOSED_KEPT = 50
"""Closed deals whose fills stay on the chart (the latest ones; older ones have scrolled out of view)."""


@dataclass(frozen=True)
class ChartMarks:
    """One pair's marks; prices in its quote currency, times in Unix milliseconds."""

    entries: tuple[Decimal, ...] = ()  # the open deals' average entry prices
    take_profits: tuple[Decimal, ...] = ()  # their take-profit prices, where one is resting
    resting_buys: tuple[Decimal, ...] = ()  # limit buys waiting on the book (safety orders, grid levels)
    resting_sells: tuple[Decimal, ...] = ()  # limit sells waiting, other than the take-profits
    buys: tuple[tuple[int, Decimal], ...] = ()  # filled buys (time, price)
    sells: tuple[tuple[int, Decimal], ...] = ()  # filled sells (time, price)


_DealKey = tuple[str, int]  # (bot id, deal number)
Chart = tuple[str, str]  # (account id, pair): one chart's marks


class ChartMarkBook:
    """The deals and resting limit orders of every account, as the engine reported them."""

    def __init__(self, closed_kept: int = CLOSED_KEPT) -> None:
        self._closed_kept = closed_kept
        self._open: dict[_DealKey, DealUpdated] = {}
        self._closed: OrderedDict[_DealKey, DealUpdated] = OrderedDict()
        self._resting: dict[str, OrderUpdated] = {}  # by client order id

    def on_deal(self, event: DealUpdated) -> Chart:
        """Take a deal update; returns the chart it marks (which may need redrawing)."""
        key = (event.record.bot_id, event.record.deal_no)
        if event.record.is_active:
            self._open[key] = event
        else:
            self._open.pop(key, None)
            self._closed[key] = event
            self._closed.move_to_end(key)
            while len(self._closed) > self._closed_kept:
                self._closed.popitem(last=False)
        return event.account_id, event.record.symbol

    def on_order(self, event: OrderUpdated) -> Chart | None:
        """Take an order update; returns the chart it marks, or None for a market order (never resting)."""
        row = event.order
        request = row.intent.request
        if request.type is not OrderType.LIMIT:
            return None
        if row.state in (IntentState.PENDING, IntentState.OPEN):
            self._resting[row.client_order_id] = event
        else:
            self._resting.pop(row.client_order_id, None)
        return row.intent.account_id, request.symbol

    def marks(self, account_id: str, symbol: str) -> ChartMarks:
        """The marks of one account's chart of ``symbol``."""
        chart = (account_id, symbol)
        open_deals = [e for e in self._open.values() if (e.account_id, e.record.symbol) == chart]
        entries = [e.deal.average_entry_price for e in open_deals if e.deal is not None]
        take_profits = tuple(sorted({e.take_profit_price for e in open_deals if e.take_profit_price}))
        resting = [
            e.order.intent.request for e in self._resting.values() if e.order.intent.account_id == account_id
        ]
        resting = [r for r in resting if r.symbol == symbol and r.price is not None]
        closed = [e for e in self._closed.values() if (e.account_id, e.record.symbol) == chart]
        fills = [
            f for e in (*open_deals, *closed) if e.deal is not None for f in (*e.deal.buys, *e.deal.sells)
        ]
        return ChartMarks(
            entries=tuple(sorted({p for p in entries if p is not None})),
            take_profits=take_profits,
            resting_buys=tuple(sorted({r.price for r in resting if r.side is OrderSide.BUY and r.price})),
            resting_sells=tuple(
                sorted(
                    {
                        r.price
                        for r in resting
                        if r.side is OrderSide.SELL and r.price and r.price not in take_profits
                    }
                )
            ),
            buys=tuple(sorted((f.ts_ms, f.price) for f in fills if f.side is OrderSide.BUY)),
            sells=tuple(sorted((f.ts_ms, f.price) for f in fills if f.side is OrderSide.SELL)),
        )
