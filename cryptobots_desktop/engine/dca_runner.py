"""Runs one DCA bot on one pair: opens deals and drives each one with the level-triggered controller.

Each step: the bot's open orders are refreshed from the exchange (fills are journaled by the
reconciler), then every active deal is decided and its actions executed journal-first, again and again
until the deal has nothing left to do; then, if the bot is running and the cooldown has passed, a new deal
opens. A deal's close reason and trailing high are saved in the journal before they are acted on, so a
restart resumes every deal exactly where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.errors import ExchangeError
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
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
    latest_by_leg,
)
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.dca_deal import TAKE_PROFIT, DealView, deal_of, decide, watch
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import DealUpdated, Level
from cryptobots_desktop.engine.order_executor import OrderExecutor

log = logging.getLogger(__name__)

CENT = Decimal("0.01")  # money in messages rounds half up, as the window's tables do
MAX_SETTLE_ROUNDS = 8  # decide/act rounds per deal per step; a deal settles in 2-3


@dataclass(frozen=True, slots=True)
class BotWatch:
    """What would make the bot's next ``step`` do anything (see ``DcaBotRunner.watch``).

    ``now``: step it at the next moment whatever happens. Otherwise a step changes nothing until the price
    is at or below ``low`` or at or above ``high``, a resting order of the bot fills, or the time reaches
    ``wake_ms`` (a cooldown ends and a new deal may open); None means no such level or time.
    """

    now: bool = False
    low: Decimal | None = None
    high: Decimal | None = None
    wake_ms: int | None = None


class DcaBotRunner:
    """One DCA bot. Call ``load`` once, then ``step(price)`` whenever the price or an order may have moved."""

    def __init__(
        self,
        bot: BotRecord,
        params: DcaParams,
        market: Market,
        journal: Journal,
        executor: OrderExecutor,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self.bot = bot
        self.params = params
        self.market = market
        self._journal = journal
        self._executor = executor
        self._bus = bus
        self._clock = clock
        self._deals: dict[int, DealRecord] = {}
        self._orders: dict[int, list[JournaledOrder]] = {}
        self.last: dict[int, DealUpdated] = {}

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

    def deal(self, deal_no: int) -> Deal:
        """A deal's position and P/L, from its journaled fills (the same after a restart)."""
        record = self._deals[deal_no]
        view = DealView(
            self._executor.account_id,
            self.bot.bot_id,
            deal_no,
            record.symbol,
            tuple(self._orders.get(deal_no, ())),
        )
        return deal_of(view)

    async def set_status(self, status: BotStatus, error: str | None = None) -> None:
        self.bot = replace(self.bot, status=status, error=error)
        await self._journal.save_bot(self.bot)

    async def close_deal(self, deal_no: int, reason: CloseReason = CloseReason.BY_PERSON) -> None:
        """Close a deal at market: its orders are canceled and what it holds is sold at the next step."""
        record = self._deals[deal_no]
        if record.is_active and record.close_reason is None:
            await self._save_deal(replace(record, close_reason=reason.value))

    def watch(self) -> BotWatch:
        """What would make ``step`` act, as of the last step (for skipping quiet time in a backtest).

        Between two steps in which none of these happens, ``step`` only finds its orders unchanged and
        every deal decided as before, so not calling it changes nothing.
        """
        if self.bot.status in (BotStatus.STOPPED, BotStatus.ERROR):
            return BotWatch()  # ``step`` returns at once
        low: Decimal | None = None
        high: Decimal | None = None
        active = self.active_deals
        for record in active:
            if record.phase != DealPhase.OPEN.value or record.note is not None:
                return BotWatch(now=True)
            view = DealView(
                self._executor.account_id,
                self.bot.bot_id,
                record.deal_no,
                record.symbol,
                tuple(self._orders.get(record.deal_no, ())),
                CloseReason(record.close_reason) if record.close_reason else None,
                record.trailing_high,
            )
            levels = watch(self.params, self.market, view)
            if levels.now:
                return BotWatch(now=True)
            if levels.low is not None:
                low = levels.low if low is None else max(low, levels.low)
            if levels.high is not None:
                high = levels.high if high is None else min(high, levels.high)
        wake_ms: int | None = None
        if self.bot.status is BotStatus.RUNNING and len(active) < self.params.max_active_deals:
            closed = [d.closed_ms for d in self._deals.values() if d.closed_ms is not None]
            if not closed:
                return BotWatch(now=True)
            wake_ms = max(closed) + self.params.cooldown_seconds * 1000
            if wake_ms <= self._clock.now_ms():
                return BotWatch(now=True)
        return BotWatch(False, low, high, wake_ms)

    # -- the step --------------------------------------------------------------------------------------
    async def step(self, price: Decimal | None) -> None:
        """Refresh orders, drive every active deal, and open a new one when the bot may."""
        if self.bot.status in (BotStatus.STOPPED, BotStatus.ERROR):
            return
        await self._refresh_open_orders()
        for record in self.active_deals:
            await self._drive(record.deal_no, price)
        if self._may_open_deal(price):
            deal_no = max(self._deals, default=0) + 1
            await self._save_deal(
                DealRecord(
                    self.bot.bot_id,
                    deal_no,
                    self.bot.symbols[0],
                    DealPhase.OPENING.value,
                    self._clock.now_ms(),
                )
            )
            self._bus.activity(Level.INFO, self.bot.name, f"Deal {deal_no} opens on {self.bot.symbols[0]}.")
            await self._drive(deal_no, price)

    def _may_open_deal(self, price: Decimal | None) -> bool:
        if self.bot.status is not BotStatus.RUNNING or price is None:
            return False
        if len(self.active_deals) >= self.params.max_active_deals:
            return False
        closed = [d.closed_ms for d in self._deals.values() if d.closed_ms is not None]
        cooldown_ms = self.params.cooldown_seconds * 1000
        return not closed or self._clock.now_ms() - max(closed) >= cooldown_ms

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
            view = DealView(
                self._executor.account_id,
                self.bot.bot_id,
                deal_no,
                record.symbol,
                tuple(self._orders.get(deal_no, ())),
                CloseReason(record.close_reason) if record.close_reason else None,
                record.trailing_high,
            )
            decision = decide(self.params, self.market, view, price, self._clock.now_ms())
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

    def _deal_update(self, deal_no: int, deal: Deal | None) -> DealUpdated:
        latest = latest_by_leg(self._orders.get(deal_no, ()))
        filled = sum(
            1 for leg, row in latest.items() if leg.startswith("s") and row.state is IntentState.FILLED
        )
        tp = latest.get(TAKE_PROFIT)
        tp_price = tp.intent.request.price if tp is not None and tp.state is IntentState.OPEN else None
        return DealUpdated(
            self._deals[deal_no],
            deal,
            self.bot.name,
            filled,
            self.params.max_safety_orders,
            tp_price,
        )

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
        else:  # pragma: no cover - the controller's actions are a closed set
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
