"""Journal rows to domain objects and back. Decimals are TEXT (``str(Decimal)``), read back exactly;
a bot's symbols are a JSON array of strings; enums are their values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord, StrategyKind
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent
from cryptobots_desktop.core.orders import Fill, OrderRequest, OrderSide, OrderType

INTENT_COLUMNS = (
    "client_order_id, account_id, bot_id, deal_no, leg, attempt, symbol, side, type, amount, price, "
    "created_ms, state, exchange_order_id, error, updated_ms"
)
FILL_COLUMNS = "client_order_id, trade_id, price, amount, fee, fee_asset, ts_ms, is_maker"
BOT_COLUMNS = "bot_id, name, account_id, strategy, symbols, params_json, status, created_ms, error"
DEAL_COLUMNS = "bot_id, deal_no, symbol, phase, opened_ms, close_reason, trailing_high, closed_ms, note"

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


def _text(value: object) -> str | None:
    """A str (a ``StrEnum`` member becomes its plain value), or None."""
    return None if value is None else str(value)


_SECRET_WORDS = ("secret", "password", "passphrase", "apikey", "privatekey")


def check_params(bot_id: str, params_json: str) -> None:
    """Raise ``ValueError`` unless ``params_json`` is a JSON object with no key naming a credential."""
    try:
        params = json.loads(params_json)
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise ValueError(f"bot {bot_id}: params_json must be a JSON object of strategy parameters")
    stack: list[object] = [params]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                flat = str(key).lower().replace("_", "").replace("-", "")
                if any(word in flat for word in _SECRET_WORDS):
                    raise ValueError(f"bot {bot_id}: parameter {key!r} looks like a credential; not saved")
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def bot_row(bot: BotRecord) -> tuple[object, ...]:
    check_params(bot.bot_id, bot.params_json)
    return (
        bot.bot_id,
        bot.name,
        bot.account_id,
        StrategyKind(bot.strategy).value,
        json.dumps([str(s) for s in bot.symbols]),
        bot.params_json,
        BotStatus(bot.status).value,
        bot.created_ms,
        _text(bot.error),
    )


def bot_record(row: Row) -> BotRecord:
    """A ``BotRecord`` from a ``BOT_COLUMNS`` row."""
    bot_id, name, account, strategy, symbols, params, status, created_ms, error = row
    return BotRecord(
        bot_id,
        name,
        account,
        StrategyKind(strategy),
        tuple(str(s) for s in json.loads(symbols)),
        params,
        BotStatus(status),
        int(created_ms),
        error,
    )


def deal_row(deal: DealRecord) -> tuple[object, ...]:
    return (
        deal.bot_id,
        deal.deal_no,
        deal.symbol,
        str(deal.phase),
        deal.opened_ms,
        _text(deal.close_reason),
        _text(deal.trailing_high),
        deal.closed_ms,
        _text(deal.note),
    )


def deal_record(row: Row) -> DealRecord:
    """A ``DealRecord`` from a ``DEAL_COLUMNS`` row."""
    bot_id, deal_no, symbol, phase, opened_ms, close_reason, trailing_high, closed_ms, note = row
    high = None if trailing_high is None else Decimal(trailing_high)
    closed = None if closed_ms is None else int(closed_ms)
    return DealRecord(bot_id, int(deal_no), symbol, phase, int(opened_ms), close_reason, high, closed, note)
