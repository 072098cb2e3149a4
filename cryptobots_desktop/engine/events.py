"""Events the engine publishes; the window listens to these and nothing else."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptobots_desktop.core.balances import Valuation
from cryptobots_desktop.core.bots import BotRecord, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import JournaledOrder
from cryptobots_desktop.core.market import Candle, Ticker

if TYPE_CHECKING:  # annotations only: the window imports this module before its first paint
    from cryptobots_desktop.core.accounts import Account
    from cryptobots_desktop.core.permissions import KeyWarning, Severity
    from cryptobots_desktop.core.ports import VaultStatus
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
    """A pair's price now on one account (paper and live prices of the same pair differ)."""

    ticker: Ticker
    account_id: str


@dataclass(frozen=True, slots=True)
class CandlesUpdated:
    """The latest candles of the pair an account's chart shows."""

    symbol: str
    timeframe: str
    candles: tuple[Candle, ...]
    account_id: str


@dataclass(frozen=True, slots=True)
class PortfolioUpdated:
    """One account valued now; ``change`` is against its starting funds valued at the same prices (None
    for a live account, which has no starting funds to compare with)."""

    valuation: Valuation
    change: Decimal | None
    change_pct: Decimal | None
    account_id: str


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
    account_id: str = ""  # the bot's account (its prices are that account's)


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


@dataclass(frozen=True, slots=True)
class AccountState:
    """One connected account as the window shows it: no secret, its warnings worst first, its checks."""

    account: Account
    warnings: tuple[KeyWarning, ...]
    checking: bool = False  # a permission check is under way
    last_error: str = ""  # why the last check (or connection) failed, until one succeeds
    connected: bool = False  # its exchange connection is open (bots can trade once allowed)

    @property
    def worst(self) -> Severity | None:
        return max((w.severity for w in self.warnings), default=None)

    @property
    def blocking(self) -> tuple[KeyWarning, ...]:
        """The warnings that keep bots from starting on this account."""
        return tuple(w for w in self.warnings if w.blocks_bots)


@dataclass(frozen=True, slots=True)
class AccountsChanged:
    """The accounts (all of them: a handful) and whether the OS keyring can keep keys."""

    accounts: tuple[AccountState, ...]
    vault: VaultStatus


@dataclass(frozen=True, slots=True)
class KeyWarningsRaised:
    """A check found warnings the account did not have before (the tray notifies)."""

    account: Account
    warnings: tuple[KeyWarning, ...]


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
    | AccountsChanged
    | KeyWarningsRaised
)
