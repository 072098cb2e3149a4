"""Order requests, orders as the exchange reports them, and their fills."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

CLIENT_ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """Lifecycle of an order at the exchange (a partially filled order is OPEN with ``filled`` > 0)."""

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self is not OrderStatus.OPEN


def is_valid_client_order_id(value: str) -> bool:
    """Client order ids are 1-36 characters of ``[A-Za-z0-9_-]`` (Binance's rule, the strictest)."""
    return bool(CLIENT_ORDER_ID_PATTERN.match(value))


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What we ask an exchange to do; ``price`` is required for limit orders and ignored for market ones."""

    symbol: str
    side: OrderSide
    type: OrderType
    amount: Decimal
    client_order_id: str
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if not is_valid_client_order_id(self.client_order_id):
            raise ValueError(f"invalid client order id: {self.client_order_id!r}")
        if self.amount <= 0:
            raise ValueError("order amount must be positive")
        if self.type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError("a limit order needs a positive price")


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade that (partly) executed an order. Fees are paid in ``fee_asset``."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_asset: str
    ts_ms: int
    is_maker: bool

    @property
    def cost(self) -> Decimal:
        """Quote value of the fill (price x amount), fees not included."""
        return self.price * self.amount


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange knows it."""

    exchange_order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    amount: Decimal
    price: Decimal | None
    status: OrderStatus
    created_ms: int
    updated_ms: int
    fills: tuple[Fill, ...] = field(default=())

    @property
    def filled(self) -> Decimal:
        return sum((f.amount for f in self.fills), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled if self.status is OrderStatus.OPEN else Decimal(0)

    @property
    def cost(self) -> Decimal:
        return sum((f.cost for f in self.fills), Decimal(0))

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled
        return self.cost / filled if filled else None
