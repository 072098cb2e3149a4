"""Bots and their deals as the journal keeps them: configuration, status, and each deal's own flags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class StrategyKind(StrEnum):
    DCA = "dca"
    GRID = "grid"


class BotStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # no new deals; open deals keep their take-profit
    STOPPED = "stopped"
    ERROR = "error"  # stopped by a failure; ``error`` says what


@dataclass(frozen=True, slots=True)
class BotRecord:
    """A bot's configuration and status; ``params_json`` is its strategy's parameters (pydantic JSON)."""

    bot_id: str
    name: str
    account_id: str
    strategy: StrategyKind
    symbols: tuple[str, ...]
    params_json: str
    status: BotStatus
    created_ms: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DealRecord:
    """What a deal needs remembered beyond its orders: phase, why it is closing, the trailing high."""

    bot_id: str
    deal_no: int
    symbol: str
    phase: str  # a strategy's phase name, e.g. core.strategies.dca_deal.DealPhase
    opened_ms: int
    close_reason: str | None = None
    trailing_high: Decimal | None = None
    closed_ms: int | None = None
    note: str | None = None

    @property
    def is_active(self) -> bool:
        return self.phase not in ("closed", "failed")
