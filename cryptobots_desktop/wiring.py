"""The composition root: the one place that picks concrete adapters and wires them to the engine."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import ExchangeGateway, Journal, ReplayControl
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import Level
from cryptobots_desktop.engine.market_feed import MarketFeed
from cryptobots_desktop.engine.order_executor import OrderExecutor
from cryptobots_desktop.engine.portfolio import PortfolioTracker
from cryptobots_desktop.engine.supervisor import AccountLink, BotSupervisor
from cryptobots_desktop.paths import AppPaths
from cryptobots_desktop.settings import AppSettings

PAPER_ACCOUNT_ID = "paper"


@dataclass
class Runtime:
    """What runs behind the window for one session: an exchange account, its feed and its portfolio."""

    bus: EventBus
    gateway: ExchangeGateway
    feed: MarketFeed
    portfolio: PortfolioTracker
    markets: Mapping[str, Market]
    pairs: tuple[str, ...]
    replay: ReplayControl | None
    description: str
    journal: Journal
    executor: OrderExecutor
    supervisor: BotSupervisor
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.feed.run(), name="market-feed")

    async def stop(self) -> None:
        """Stop the feed and close the exchange (the paper exchange saves its state here)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.gateway.close()
        finally:
            await self.journal.close()


async def open_paper_runtime(
    bus: EventBus, settings: AppSettings, paths: AppPaths, resources: Path
) -> Runtime:
    """The embedded default: a paper account replaying real recorded market data, no key, no network."""
    paper = settings.paper
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset=paper.dataset,
        state_path=paths.paper_state_file(paper.dataset),
        starting_balances=paper.starting_balances,
        speed=paper.speed,
    )
    try:
        journal = await SqliteJournal.open(paths.journal_file, clock=exchange.replay)
    except BaseException:
        await exchange.close()
        raise
    executor = OrderExecutor(journal, exchange, bus, account_id=PAPER_ACCOUNT_ID)
    report = await executor.reconciler.reconcile_all()  # orders a crash left unresolved, before anything else
    if report.updated or report.not_placed:
        bus.activity(
            Level.INFO,
            "paper",
            f"Checked the orders left from the last run: {len(report.updated)} updated from the exchange, "
            f"{len(report.not_placed)} never reached it.",
        )
    pairs = tuple(exchange.dataset.pairs)
    chart = settings.window.chart_pair if settings.window.chart_pair in pairs else pairs[0]
    # "since start" compares with what this account really started with (saved with it), not the settings
    portfolio = PortfolioTracker(bus, exchange, quote="USDT", starting_balances=exchange.starting_balances)
    paper_link = AccountLink(executor, exchange.markets, exchange.replay)
    supervisor = BotSupervisor(journal, {PAPER_ACCOUNT_ID: paper_link}, bus)
    await supervisor.load()  # every bot and deal as the journal left them
    feed = MarketFeed(
        bus,
        exchange,
        portfolio,
        symbols=pairs,
        chart_symbol=chart,
        replay=exchange.replay,
        on_prices=functools.partial(supervisor.on_prices, account_id=PAPER_ACCOUNT_ID),
    )
    bus.activity(
        Level.INFO,
        "paper",
        f"Paper trading on {exchange.dataset.title}: simulated funds, real recorded prices, no exchange key "
        "and no network needed.",
    )
    return Runtime(
        bus,
        exchange,
        feed,
        portfolio,
        exchange.markets,
        pairs,
        exchange.replay,
        "Paper trading — simulated funds",
        journal,
        executor,
        supervisor,
    )
