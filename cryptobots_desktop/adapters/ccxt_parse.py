"""ccxt's unified structures (dicts of floats and strings) read into the domain's Decimal types.

Anything missing or of the wrong type raises ``ValueError``; the gateway turns that into
``MalformedResponse``, so a bad answer from an exchange never becomes a wrong number in the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.market import Candle, Market, Ticker
from cryptobots_desktop.core.orders import Fill, Order, OrderSide, OrderStatus, OrderType

TICK_SIZE, DECIMAL_PLACES, SIGNIFICANT_DIGITS = 4, 2, 3  # ccxt's precision modes
STATUSES = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: object, what: str) -> Decimal:
    """A number from ccxt (float, int or numeric string) as an exact Decimal of its shortest form."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} is missing")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{what} is not a finite number")
    return result


def opt_dec(value: object, what: str) -> Decimal | None:
    return None if value is None else dec(value, what)


def dec_or(value: object, what: str, default: Decimal = Decimal(0)) -> Decimal:
    return default if value is None else dec(value, what)


def _step(precision: object, mode: int, what: str) -> Decimal:
    if precision is None:
        raise ValueError(f"{what} precision is missing")
    value = dec(precision, what)
    if mode == TICK_SIZE:
        return value
    return Decimal(1).scaleb(-int(value))  # decimal places (significant digits: a safe upper bound)


def market(m: Mapping[str, Any], precision_mode: int) -> Market:
    """A spot market from ccxt's market structure."""
    limits = m.get("limits") or {}
    precision = m.get("precision") or {}
    symbol = str(m["symbol"])
    return Market(
        symbol=symbol,
        exchange_symbol=str(m["id"]),
        base=str(m["base"]),
        quote=str(m["quote"]),
        price_tick=_step(precision.get("price"), precision_mode, f"{symbol} price"),
        amount_step=_step(precision.get("amount"), precision_mode, f"{symbol} amount"),
        min_amount=dec_or((limits.get("amount") or {}).get("min"), "minimum amount", Decimal(0)),
        max_amount=dec_or((limits.get("amount") or {}).get("max"), "maximum amount", Decimal(0)),
        min_notional=dec_or((limits.get("cost") or {}).get("min"), "minimum notional", Decimal(0)),
        maker_fee=dec_or(m.get("maker"), "maker fee", Decimal("0.001")),
        taker_fee=dec_or(m.get("taker"), "taker fee", Decimal("0.001")),
    )


def ticker(t: Mapping[str, Any], symbol: str) -> Ticker:
    last = t.get("last") if t.get("last") is not None else t.get("close")
    return Ticker(symbol, int(t.get("timestamp") or 0), dec(last, f"{symbol} last price"))


def candle(row: Any) -> Candle:
    if not isinstance(row, list | tuple) or len(row) < 6:
        raise ValueError(f"a candle is not [time, open, high, low, close, volume]: {row!r}")
    return Candle(
        int(row[0]),
        dec(row[1], "open"),
        dec(row[2], "high"),
        dec(row[3], "low"),
        dec(row[4], "close"),
        dec(row[5] or 0, "volume"),
    )


def balances(raw: Mapping[str, Any]) -> dict[str, Balance]:
    """Every asset with a non-zero total."""
    free = raw.get("free") or {}
    used = raw.get("used") or {}
    out: dict[str, Balance] = {}
    for asset in sorted(set(free) | set(used)):
        f = dec_or(free.get(asset), f"free {asset}", Decimal(0))
        u = dec_or(used.get(asset), f"used {asset}", Decimal(0))
        if f or u:
            out[asset] = Balance(asset, f, u)
    return out


def fill(t: Mapping[str, Any], client_order_id: str, side: OrderSide, default_ts_ms: int = 0) -> Fill:
    """A fill from ccxt's trade structure; ``default_ts_ms`` if the trade has no time (Binance's create
    reply lists the order's fills without one)."""
    fee = t.get("fee") or {}
    symbol = str(t["symbol"])
    return Fill(
        trade_id=str(t["id"]),
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        price=dec(t.get("price"), "fill price"),
        amount=dec(t.get("amount"), "fill amount"),
        fee=dec_or(fee.get("cost"), "fee", Decimal(0)),
        fee_asset=str(fee.get("currency") or ""),
        ts_ms=int(t.get("timestamp") or default_ts_ms),
        is_maker=t.get("takerOrMaker") == "maker",
    )


def order(o: Mapping[str, Any], client_order_id: str, trades: tuple[Fill, ...] = ()) -> Order:
    """An order from ccxt's order structure; its fills are given separately (``trades``)."""
    status = STATUSES.get(str(o.get("status")))
    if status is None:
        raise ValueError(f"unknown order status {o.get('status')!r}")
    created = int(o.get("timestamp") or 0)
    return Order(
        exchange_order_id=str(o["id"]),
        client_order_id=client_order_id or str(o.get("clientOrderId") or ""),
        symbol=str(o["symbol"]),
        side=OrderSide(str(o["side"])),
        type=OrderType(str(o["type"])),
        amount=dec(o.get("amount"), "order amount"),
        price=opt_dec(o.get("price"), "order price") if o.get("type") == "limit" else None,
        status=status,
        created_ms=created,
        updated_ms=int(o.get("lastUpdateTimestamp") or o.get("lastTradeTimestamp") or created),
        fills=trades,
    )


def filled_amount(o: Mapping[str, Any]) -> Decimal:
    return dec_or(o.get("filled"), "filled amount", Decimal(0))
