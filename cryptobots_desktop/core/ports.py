"""The ports: what the engine needs from the outside world, as typing.Protocols.

Adapters implement them (the paper exchange, ccxt for live exchanges, the keyring, the journal); the
engine is written against these only, and one composition root wires concrete adapters in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from .balances import Balance
from .market import Candle, Market, Ticker
from .orders import Order, OrderRequest
from .replay import ReplaySpeed


class Clock(Protocol):
    """Market time in Unix milliseconds (the replay's time in paper mode, wall time live)."""

    def now_ms(self) -> int: ...


class ExchangeGateway(Protocol):
    """One exchange account: markets, prices, balances and orders. Raises ``core.errors`` only."""

    @property
    def exchange_id(self) -> str: ...

    @property
    def is_paper(self) -> bool: ...

    async def load_markets(self) -> Mapping[str, Market]:
        """Spot markets keyed by unified symbol; loaded once, then cached."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> Sequence[Candle]:
        """The last ``limit`` candles up to now, oldest first; the last one may still be forming."""
        ...

    async def fetch_balances(self) -> Mapping[str, Balance]: ...

    async def create_order(self, request: OrderRequest) -> Order:
        """Place an order under the request's client order id; a reused id is refused by the exchange."""
        ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None if the exchange never accepted it."""
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[Order]: ...

    async def close(self) -> None: ...


class ReplayControl(Clock, Protocol):
    """The paper exchange's replay of recorded market data."""

    @property
    def speed(self) -> ReplaySpeed: ...

    def set_speed(self, speed: ReplaySpeed) -> None: ...

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    def step(self, ms: int) -> None:
        """Move replay time forward by ``ms`` (used at MAX speed, where time only moves when stepped)."""
        ...
