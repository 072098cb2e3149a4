"""Journal rows to domain objects and back. Decimals are TEXT (``str(Decimal)``), read back exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent
from cryptobots_desktop.core.orders import Fill, OrderRequest, OrderSide, OrderType

INTENT_COLUMNS = (
    "client_order_id, account_id, bot_id, deal_no, leg, attempt, symbol, side, type, amount, price, "
    "created_ms, state, exchange_order_id, error, updated_ms"
)
FILL_COLUMNS = "client_order_id, trade_id, price, amount, fee, fee_asset, ts_ms, is_maker"

Row = Sequence[Any]


def intent_row(order: JournaledOrder) -> tuple[object, ...]:
    i, r = order.intent, order.intent.request
    price = None if r.price is None else str(r.price)
    return (
        r.client_order_id,
        i.account_id,
        i.bot_id,
        i.deal_no,
        i.leg,
        i.attempt,
        r.symbol,
        r.side.value,
        r.type.value,
        str(r.amount),
        price,
        i.created_ms,
        order.state.value,
        order.exchange_order_id,
        order.error,
        order.updated_ms,
    )


def fill_row(client_order_id: str, f: Fill) -> tuple[object, ...]:
    return (
        client_order_id,
        f.trade_id,
        str(f.price),
        str(f.amount),
        str(f.fee),
        f.fee_asset,
        f.ts_ms,
        int(f.is_maker),
    )


def journaled(row: Row, fill_rows: Iterable[Row]) -> JournaledOrder:
    """A ``JournaledOrder`` from an ``INTENT_COLUMNS`` row and its ``FILL_COLUMNS`` rows (in order)."""
    cid, account, bot, deal_no, leg, attempt, symbol, side, type_, amount, price = row[:11]
    limit = None if price is None else Decimal(price)
    request = OrderRequest(symbol, OrderSide(side), OrderType(type_), Decimal(amount), cid, limit)
    intent = OrderIntent(account, bot, int(deal_no), leg, int(attempt), request, int(row[11]))
    fills = tuple(
        Fill(
            str(f[1]),
            cid,
            symbol,
            request.side,
            Decimal(f[2]),
            Decimal(f[3]),
            Decimal(f[4]),
            f[5],
            int(f[6]),
            bool(f[7]),
        )
        for f in fill_rows
    )
    return JournaledOrder(intent, IntentState(row[12]), row[13], fills, row[14], int(row[15]))
