"""Runs one grid bot: one grid (deal 1) working its levels until the person stops the bot."""

from __future__ import annotations

from decimal import Decimal

from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord
from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.intents import JournaledOrder
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import Clock, Journal
from cryptobots_desktop.core.strategies.controller import Decision
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.core.strategies.grid_bot import GridView, decide, grid_profit
from cryptobots_desktop.engine.bot_runner import BotRunner
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
        return decide(self.params, self.market, self._view(record, orders), price, self._clock.now_ms())

    def _may_open_deal(self, price: Decimal | None) -> bool:
        return self.bot.status is BotStatus.RUNNING and price is not None and not self.active_deals

    def _deal_update(self, deal_no: int, deal: Deal | None) -> DealUpdated:
        return DealUpdated(self._deals[deal_no], deal, self.bot.name)

    def realised_profit(self) -> Decimal:
        """The completed buy-then-sell cycles' profit, fees included (the grid's own measure)."""
        return sum(
            (
                grid_profit(self.params, self.market, self._view(d, self.orders_of(d.deal_no))).realised
                for d in self.deals
            ),
            Decimal(0),
        )
