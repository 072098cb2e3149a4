"""What every bot runner shares: deals rebuilt from the journal, orders refreshed from the exchange, and
each active deal driven by its strategy's level-triggered controller, journal first, until it settles.

A strategy's runner says only how to view a deal, how to decide it, when a new deal may open, and what the
window shows of a deal; everything that touches the journal and the exchange is here, once.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.errors import ExchangeError
from cryptobots_desktop.core.intents import JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import Clock, Journal
from cryptobots_desktop.core.strategies.controller import (
    CancelOrder,
    CloseReason,
    DealPhase,
    Decision,
    PlaceOrder,
    RetryOrder,
    SetTrailingHigh,
    StartClosing,
    position_of,
)
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import DealUpdated, Level
from cryptobots_desktop.engine.order_executor import OrderExecutor

log = logging.getLogger(__name__)

CENT = Decimal("0.01")  # money in messages rounds half up, as the window's tables do
MAX_SETTLE_ROUNDS = 8  # decide/act rounds per deal per step; a deal settles in 2-3


@dataclass(frozen=True, slots=True)
class BotWatch:
    """What would make the bot's next ``step`` do anything (see ``BotRunner.watch``).

    ``now``: step it at the next moment whatever happens. Otherwise a step changes nothing until the price
    is at or below ``low`` or at or above ``high``, a resting order of the bot fills, or the time reaches
    ``wake_ms`` (a cooldown ends and a new deal may open); None means no such level or time.
    """

    now: bool = False
    low: Decimal | None = None
    high: Decimal | None = None
    wake_ms: int | None = None


class BotRunner(ABC):
    """One bot. Call ``load`` once, then ``step(price)`` whenever the price or an order may have moved."""

    closes_on_stop: ClassVar[bool] = False
    """Whether stopping the bot closes its open deals (a grid's orders are the bot; a DCA deal is not)."""

    def __init__(
        self,
        bot: BotRecord,
        market: Market,
        journal: Journal,
        executor: OrderExecutor,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self.bot = bot
        self.market = market
        self._journal = journal
        self._executor = executor
        self._bus = bus
        self._clock = clock
        self._deals: dict[int, DealRecord] = {}
        self._orders: dict[int, list[JournaledOrder]] = {}
        self.last: dict[int, DealUpdated] = {}
        self._busy = asyncio.Lock()  # one step at a time: the feed's and the person's never interleave

    # -- what a strategy says ----------------------------------------------------------------------------
    @abstractmethod
    def _decide(
        self, record: DealRecord, orders: tuple[JournaledOrder, ...], price: Decimal | None
    ) -> Decision:
        """The strategy's controller on one deal."""

    @abstractmethod
    def _may_open_deal(self, price: Decimal | None) -> bool:
        """Whether a new deal opens now."""

    @abstractmethod
    def _deal_update(self, deal_no: int, deal: Deal | None) -> DealUpdated:
        """What the window shows of a deal."""

    def watch(self) -> BotWatch:
        """What would make ``step`` act, as of the last step (for skipping quiet time in a backtest).

        A runner that cannot tell says ``now``: it is stepped every minute.
        """
        return BotWatch(now=True)

    def realised_profit(self) -> Decimal:
        """Profit the bot has locked in (closed deals), in the quote currency."""
        return sum((self.deal(d.deal_no).realised_pnl for d in self.deals if d.phase == "closed"), Decimal(0))

    # -- state -----------------------------------------------------------------------------------------
    async def load(self) -> None:
        """Rebuild the bot's deals from the journal (at start and after a crash)."""
        self._deals = {d.deal_no: d for d in await self._journal.deals_of_bot(self.bot.bot_id)}
        self._orders = {}
        for row in await self._journal.orders_of_bot(self.bot.bot_id):
            self._orders.setdefault(row.intent.deal_no, []).append(row)
        for deal_no in sorted(self._deals):  # the window lists every deal, closed ones included
            self.last[deal_no] = self._deal_update(deal_no, self.deal(deal_no))
            self._bus.publish(self.last[deal_no])

    @property
    def deals(self) -> Sequence[DealRecord]:
        return tuple(self._deals[n] for n in sorted(self._deals))

    @property
    def active_deals(self) -> Sequence[DealRecord]:
        return tuple(d for d in self.deals if d.is_active)

    @property
    def failed(self) -> bool:
        """True once the bot stopped on an error (a deal failed)."""
        return self.bot.status is BotStatus.ERROR

    def orders_of(self, deal_no: int) -> tuple[JournaledOrder, ...]:
        return tuple(self._orders.get(deal_no, ()))

    def deal(self, deal_no: int) -> Deal:
        """A deal's position and P/L, from its journaled fills (the same after a restart)."""
        record = self._deals[deal_no]
        return position_of(self.bot.bot_id, deal_no, record.symbol, self.orders_of(deal_no))

    async def set_status(self, status: BotStatus, error: str | None = None) -> None:
        self.bot = replace(self.bot, status=status, error=error)
        await self._journal.save_bot(self.bot)

    async def close_deal(self, deal_no: int, reason: CloseReason = CloseReason.BY_PERSON) -> None:
        """Close a deal: its orders are canceled and what it holds is sold at the next step."""
        async with self._busy:
            record = self._deals[deal_no]
            if record.is_active and record.close_reason is None:
                await self._save_deal(replace(record, close_reason=reason.value))

    # -- the step --------------------------------------------------------------------------------------
    @property
    def closing_deals(self) -> Sequence[DealRecord]:
        """Active deals the person or the strategy asked to close, still winding down."""
        return tuple(d for d in self.active_deals if d.close_reason is not None)

    @property
    def is_stopped(self) -> bool:
        """Stopped by the person or on an error: its open deals are left as they are unless asked to close."""
        return self.bot.status in (BotStatus.STOPPED, BotStatus.ERROR)

    @property
    def needs_steps(self) -> bool:
        """Whether stepping can do anything: a running or paused bot, or a stopped one still closing deals."""
        return not self.is_stopped or bool(self.closing_deals)

    async def step(self, price: Decimal | None) -> None:
        """Refresh orders, drive every active deal, and open a new one when the bot may.

        A stopped bot (by the person or on an error) only finishes closing the deals it was asked to close;
        it opens nothing.
        """
        async with self._busy:
            await self._step(price)

    async def _step(self, price: Decimal | None) -> None:
        if not self.needs_steps:
            return
        stopped = self.is_stopped
        await self._refresh_open_orders()
        for record in self.closing_deals if stopped else self.active_deals:
            await self._drive(record.deal_no, price)
        if not stopped and self._may_open_deal(price):
            deal_no = max(self._deals, default=0) + 1
            symbol = self.bot.symbols[0]
            await self._save_deal(
                DealRecord(self.bot.bot_id, deal_no, symbol, DealPhase.OPENING.value, self._clock.now_ms())
            )
            self._bus.activity(Level.INFO, self.bot.name, f"Deal {deal_no} opens on {symbol}.")
            await self._drive(deal_no, price)

    async def _refresh_open_orders(self) -> None:
        for deal_no, rows in self._orders.items():
            if deal_no not in self._deals or not self._deals[deal_no].is_active:
                continue
            for i, row in enumerate(rows):
                if row.state.needs_reconciling:  # OPEN (fills?) and PENDING (did it reach the exchange?)
                    try:
                        rows[i] = await self._executor.reconciler.reconcile_one(row)
                    except ExchangeError as exc:
                        log.info("could not refresh %s: %s", row.client_order_id, exc)

    async def _drive(self, deal_no: int, price: Decimal | None) -> None:
        decision: Decision | None = None
        for _ in range(MAX_SETTLE_ROUNDS):
            record = self._deals[deal_no]
            decision = self._decide(record, self.orders_of(deal_no), price)
            await self._record_phase(record, decision)
            if not decision.actions:
                break
            for action in decision.actions:
                await self._act(deal_no, action)
        if decision is not None:
            update = self._deal_update(deal_no, decision.deal)
            if self.last.get(deal_no) != update:
                self.last[deal_no] = update
                self._bus.publish(update)

    async def _act(self, deal_no: int, action: object) -> None:
        record = self._deals[deal_no]
        if isinstance(action, PlaceOrder):
            self._remember(await self._executor.place(action.intent))
        elif isinstance(action, CancelOrder):
            self._remember(await self._executor.cancel(action.order))
        elif isinstance(action, RetryOrder):
            self._remember(await self._executor.retry(action.order))
        elif isinstance(action, StartClosing):
            await self._save_deal(replace(record, close_reason=action.reason.value))
            self._bus.activity(Level.INFO, self.bot.name, f"Deal {deal_no} closes: {action.reason.value}.")
        elif isinstance(action, SetTrailingHigh):
            await self._save_deal(replace(record, trailing_high=action.price))
        else:  # pragma: no cover - the controllers' actions are a closed set
            raise TypeError(f"unknown action {action!r}")

    def _remember(self, row: JournaledOrder) -> None:
        rows = self._orders.setdefault(row.intent.deal_no, [])
        for i, known in enumerate(rows):
            if known.client_order_id == row.client_order_id:
                rows[i] = row
                return
        rows.append(row)

    async def _record_phase(self, record: DealRecord, decision: Decision) -> None:
        phase = decision.phase.value
        if phase == record.phase and decision.note == record.note:
            return
        closed_ms = self._clock.now_ms() if decision.phase in (DealPhase.CLOSED, DealPhase.FAILED) else None
        await self._save_deal(replace(record, phase=phase, note=decision.note, closed_ms=closed_ms))
        if decision.phase is DealPhase.CLOSED and decision.deal is not None:
            pnl = decision.deal.realised_pnl.quantize(CENT, ROUND_HALF_UP)
            self._bus.activity(
                Level.INFO,
                self.bot.name,
                f"Deal {record.deal_no} closed on {record.symbol}: profit {pnl:+f} {self.market.quote}.",
            )
        elif decision.phase is DealPhase.FAILED:
            self._bus.activity(Level.ERROR, self.bot.name, f"Deal {record.deal_no} failed: {decision.note}")
            await self.set_status(BotStatus.ERROR, decision.note)

    async def _save_deal(self, record: DealRecord) -> None:
        await self._journal.save_deal(record)
        self._deals[record.deal_no] = record
