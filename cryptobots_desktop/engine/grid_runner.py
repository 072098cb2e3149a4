"""Runs one grid bot: one grid (deal 1) working its levels until the person stops the bot."""

from __future__ import annotations

from decimal import Decimal

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import Clock, Journal
from cryptobots_desktop.core.strategies.controller import DealPhase, Decision
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.core.strategies.grid_bot import GridView, decide, grid_profit
from cryptobots_desktop.engine.bot_runner import BotRunner, BotWatch
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import DealUpdated
from cryptobots_desktop.engine.order_executor import OrderExecutor


class GridBotRunner(BotRunner):
    """A grid bot. Its one deal opens when the bot first runs; closing it (the bot's Stop) cancels the
    grid's orders and keeps what it holds."""

    closes_on_stop = True

    def __init__(
        self,
        bot: BotRecord,
        params: GridParams,
        market: Market,
        journal: Journal,
        executor: OrderExecutor,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        super().__init__(bot, market, journal, executor, bus, clock)
        self.params = params
        self._decided: dict[int, Decision] = {}  # each deal's latest decision, for ``watch``

    def _view(self, record: DealRecord, orders: tuple[JournaledOrder, ...]) -> GridView:
        return GridView(
            self._executor.account_id,
            self.bot.bot_id,
            record.deal_no,
            record.symbol,
            orders,
            stopping=record.close_reason is not None,
        )

    def _decide(
        self, record: DealRecord, orders: tuple[JournaledOrder, ...], price: Decimal | None
    ) -> Decision:
        decision = decide(self.params, self.market, self._view(record, orders), price, self._clock.now_ms())
        self._decided[record.deal_no] = decision
        return decision

    def _may_open_deal(self, price: Decimal | None) -> bool:
        return self.bot.status is BotStatus.RUNNING and price is not None and not self.active_deals

    def _deal_update(self, deal_no: int, deal: Deal | None) -> DealUpdated:
        return DealUpdated(self._deals[deal_no], deal, self.bot.name, account_id=self.bot.account_id)

    def realised_profit(self) -> Decimal:
        """The completed buy-then-sell cycles' profit, fees included (the grid's own measure)."""
        return sum(
            (
                grid_profit(self.params, self.market, self._view(d, self.orders_of(d.deal_no))).realised
                for d in self.deals
            ),
            Decimal(0),
        )

    def watch(self) -> BotWatch:
        """What would make ``step`` act: only a fill of one of the grid's resting orders, once it is open.

        The grid's controller reads its orders alone (the price only at the start and when stopping), so
        while every order is settled (none pending or waiting to be resent) and the grid has nothing to
        do, the next thing that can change it is a resting order filling: the nearest buy below or sell
        above, which the paper exchange's ``next_touch`` finds. Anything else is stepped at once.
        """
        if self.bot.status in (BotStatus.STOPPED, BotStatus.ERROR):
            return BotWatch()  # ``step`` returns at once (a stopped grid closed in the same step)
        active = self.active_deals
        if not active:
            return BotWatch(now=True)  # the grid opens at the next step
        for record in active:
            if record.phase != DealPhase.OPEN.value or record.note is not None or record.close_reason:
                return BotWatch(now=True)
            orders = self.orders_of(record.deal_no)
            if any(row.state in (IntentState.PENDING, IntentState.NOT_PLACED) for row in orders):
                return BotWatch(now=True)
            # a step ends with the decision that asked for nothing more; orders change only in steps
            decision = self._decided.get(record.deal_no) or self._decide(record, orders, None)
            if decision.actions or decision.phase is not DealPhase.OPEN:
                return BotWatch(now=True)
        return BotWatch()
