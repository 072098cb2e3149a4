"""Events the engine publishes; the window listens to these and nothing else."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from cryptobots_desktop.core.balances import Valuation
from cryptobots_desktop.core.bots import BotRecord, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import JournaledOrder
from cryptobots_desktop.core.market import Candle, Ticker
from cryptobots_desktop.core.replay import ReplaySpeed


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RATE_LIMITED = "rate limited"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class TickerUpdated:
    ticker: Ticker


@dataclass(frozen=True, slots=True)
class CandlesUpdated:
    symbol: str
    timeframe: str
    candles: tuple[Candle, ...]


@dataclass(frozen=True, slots=True)
class PortfolioUpdated:
    """The account valued now; ``change`` is against the starting funds valued at the same prices."""

    valuation: Valuation
    change: Decimal
    change_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    now_ms: int
    speed: ReplaySpeed
    start_ms: int
    end_ms: int
    finished: bool


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    exchange_id: str
    state: ConnectionState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ActivityLogged:
    """One line of the activity log: what happened, where, how serious, when (wall time)."""

    level: Level
    source: str
    message: str
    ts: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order's journal row changed (placed, filled, canceled, rejected, reconciled): already durable."""

    order: JournaledOrder


@dataclass(frozen=True, slots=True)
class DealUpdated:
    """A deal's record or position changed: already journaled."""

    record: DealRecord
    deal: Deal | None
    bot_name: str = ""
    safety_orders_filled: int = 0
    safety_orders_max: int = 0
    take_profit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BotUpdated:
    """A bot's record or deals changed: status, open and closed deals, realised profit (journaled)."""

    bot: BotRecord
    open_deals: int
    closed_deals: int
    realised_pnl: Decimal


@dataclass(frozen=True, slots=True)
class BotStopped:
    """A bot stopped on an error: the window and the tray tell the person."""

    bot: BotRecord
    reason: str


Event = (
    TickerUpdated
    | CandlesUpdated
    | PortfolioUpdated
    | ReplayProgress
    | ConnectionChanged
    | ActivityLogged
    | OrderUpdated
    | DealUpdated
    | BotUpdated
    | BotStopped
)
