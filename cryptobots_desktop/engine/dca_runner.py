"""Runs one DCA bot on one pair: deals open one after another (up to the bot's maximum), each driven by
the DCA controller. Close reasons and trailing highs are saved in the journal before they are acted on."""

from __future__ import annotations

from decimal import Decimal

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import Clock, Journal
from cryptobots_desktop.core.strategies.controller import CloseReason, DealPhase, Decision, latest_by_leg
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.dca_deal import TAKE_PROFIT, DealView, decide, watch
from cryptobots_desktop.engine.bot_runner import BotRunner, BotWatch
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import DealUpdated
from cryptobots_desktop.engine.order_executor import OrderExecutor


class DcaBotRunner(BotRunner):
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
        super().__init__(bot, market, journal, executor, bus, clock)
        self.params = params

    def _view(self, record: DealRecord, orders: tuple[JournaledOrder, ...]) -> DealView:
        reason = CloseReason(record.close_reason) if record.close_reason else None
        return DealView(
            self._executor.account_id,
            self.bot.bot_id,
            record.deal_no,
            record.symbol,
            orders,
            reason,
            record.trailing_high,
        )

    def _decide(
        self, record: DealRecord, orders: tuple[JournaledOrder, ...], price: Decimal | None
    ) -> Decision:
        return decide(self.params, self.market, self._view(record, orders), price, self._clock.now_ms())

    def _may_open_deal(self, price: Decimal | None) -> bool:
        if self.bot.status is not BotStatus.RUNNING or price is None:
            return False
        if len(self.active_deals) >= self.params.max_active_deals:
            return False
        closed = [d.closed_ms for d in self._deals.values() if d.closed_ms is not None]
        cooldown_ms = self.params.cooldown_seconds * 1000
        return not closed or self._clock.now_ms() - max(closed) >= cooldown_ms

    def _deal_update(self, deal_no: int, deal: Deal | None) -> DealUpdated:
        latest = latest_by_leg(self.orders_of(deal_no))
        filled = sum(  # safety orders that bought (a partly filled one too: it is in the average)
            1 for leg, row in latest.items() if leg.startswith("s") and row.filled > 0
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
            account_id=self.bot.account_id,
        )

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
            levels = watch(self.params, self.market, self._view(record, self.orders_of(record.deal_no)))
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
