"""The bot supervisor inside the real runtime (paper exchange, journal, market feed at MAX speed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
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
