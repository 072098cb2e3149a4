"""The bot supervisor inside the real runtime (paper exchange, journal, market feed at MAX speed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.core.bots import BotStatus, StrategyKind
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import BotStopped, BotUpdated, Event
from cryptobots_desktop.paths import app_paths
from cryptobots_desktop.settings import AppSettings
from cryptobots_desktop.wiring import Runtime, open_paper_runtime

SMALL = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=2,
    price_deviation_pct=D("0.2"),
    take_profit_pct=D("0.2"),
)
TOO_BIG = SMALL.model_copy(update={"base_order_size": D(50_000)})  # more than the 10,000 USDT account


async def until(predicate: Callable[[], bool], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def open_runtime(tmp_path: Path, resources: Path, events: list[Event]) -> Runtime:
    bus = EventBus()
    bus.subscribe(events.append)
    settings = AppSettings.model_validate({"paper": {"speed": "max"}})
    runtime = await open_paper_runtime(bus, settings, app_paths(tmp_path), resources)
    assert runtime.replay is not None and runtime.replay.speed is ReplaySpeed.MAX
    return runtime


def test_bots_run_in_isolation_pause_and_survive_a_restart(tmp_path: Path, resources: Path) -> None:
    async def first() -> tuple[str, int]:
        events: list[Event] = []
        rt = await open_runtime(tmp_path, resources, events)
        try:
            good = await rt.supervisor.create_dca_bot("BTC small", "paper", "BTC/USDT", SMALL)
            bad = await rt.supervisor.create_dca_bot("ETH too big", "paper", "ETH/USDT", TOO_BIG)
            rt.start()
            runner = rt.supervisor.runner(good.bot_id)
            await until(
                lambda: any(
                    isinstance(e, BotUpdated) and e.bot.bot_id == good.bot_id and e.closed_deals >= 2
                    for e in events
                )
            )
            # the oversized bot stopped on the exchange's refusal; the other one kept trading
            stopped = [e for e in events if isinstance(e, BotStopped)]
            assert [e.bot.bot_id for e in stopped] == [bad.bot_id]
            assert "Not enough USDT" in stopped[0].reason
            assert rt.supervisor.runner(bad.bot_id).bot.status is BotStatus.ERROR
            updates = [e for e in events if isinstance(e, BotUpdated) and e.bot.bot_id == good.bot_id]
            assert updates[-1].closed_deals >= 2 and updates[-1].realised_pnl > 0
            # pause all: no new deal opens; the open one keeps working toward its take-profit
            assert await rt.supervisor.pause_all() == 1
            deals_at_pause = len(runner.deals)
            await asyncio.sleep(1.0)
            assert len(runner.deals) == deals_at_pause
            assert runner.bot.status is BotStatus.PAUSED
            return good.bot_id, len(runner.deals)
        finally:
            await rt.stop()

    async def second(bot_id: str, deals: int) -> None:
        events: list[Event] = []
        rt = await open_runtime(tmp_path, resources, events)
        try:
            runner = rt.supervisor.runner(bot_id)
            assert runner.bot.status is BotStatus.PAUSED  # as the person left it
            assert len(runner.deals) == deals
            assert rt.supervisor.runner(bot_id).deal(1).realised_pnl > 0  # profit rebuilt from the journal
            assert await rt.supervisor.resume_all() == 1
        finally:
            await rt.stop()

    bot_id, deals = asyncio.run(first())
    asyncio.run(second(bot_id, deals))


def test_grid_bot_runs_stops_by_canceling_its_grid_and_comes_back(tmp_path: Path, resources: Path) -> None:
    async def first() -> str:
        events: list[Event] = []
        rt = await open_runtime(tmp_path, resources, events)
        try:
            price = (await rt.gateway.fetch_ticker("BTC/USDT")).last
            params = GridParams(
                lower_price=(price * D("0.985")).quantize(D("0.01")),
                upper_price=(price * D("1.015")).quantize(D("0.01")),
                levels=12,
                amount_per_level=D("0.002"),
            )
            bot = await rt.supervisor.create_grid_bot("", "paper", "BTC/USDT", params)
            assert bot.name == "Grid BTC/USDT" and bot.strategy is StrategyKind.GRID
            rt.start()
            runner = rt.supervisor.runner(bot.bot_id)
            # completed buy-then-sell cycles: the bots view shows the grid's own profit
            await until(
                lambda: any(
                    isinstance(e, BotUpdated) and e.bot.bot_id == bot.bot_id and e.realised_pnl > 0
                    for e in events
                ),
                60,
            )
            await rt.supervisor.set_status(bot.bot_id, BotStatus.STOPPED)
            await until(lambda: runner.deals[0].phase == "closed")
            assert runner.bot.status is BotStatus.STOPPED
            assert await rt.gateway.fetch_open_orders("BTC/USDT") == []
            rows = await rt.journal.orders_of_bot(bot.bot_id)
            assert not [r for r in rows if r.state.needs_reconciling]
            return bot.bot_id
        finally:
            await rt.stop()

    async def second(bot_id: str) -> None:
        rt = await open_runtime(tmp_path, resources, [])
        try:
            runner = rt.supervisor.runner(bot_id)  # rebuilt from the journal as a grid bot
            assert runner.bot.status is BotStatus.STOPPED and runner.realised_profit() > 0
            await rt.supervisor.set_status(bot_id, BotStatus.RUNNING)  # a new grid at today's price
            rt.start()
            await until(lambda: len(runner.active_deals) == 1 and runner.deals[-1].deal_no == 2)
        finally:
            await rt.stop()

    asyncio.run(second(asyncio.run(first())))


def test_a_stopped_dca_bot_still_closes_a_deal_at_market(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> None:
        rt = await open_runtime(tmp_path, resources, [])
        try:
            bot = await rt.supervisor.create_dca_bot("", "paper", "ETH/USDT", SMALL)
            rt.start()
            runner = rt.supervisor.runner(bot.bot_id)
            await until(lambda: any(d.phase == "open" for d in runner.active_deals))
            await rt.supervisor.set_status(bot.bot_id, BotStatus.STOPPED)
            (deal,) = runner.active_deals  # a stopped DCA bot leaves its deal as it is
            await rt.supervisor.close_deal(bot.bot_id, deal.deal_no, rt.feed.prices.get("ETH/USDT"))
            await until(lambda: runner.deals[deal.deal_no - 1].phase == "closed")
            assert runner.bot.status is BotStatus.STOPPED and not runner.active_deals
            assert await rt.gateway.fetch_open_orders("ETH/USDT") == []
        finally:
            await rt.stop()

    asyncio.run(scenario())
