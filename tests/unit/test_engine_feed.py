"""The engine's market feed and portfolio tracker on the real paper exchange (no Qt)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import (
    ActivityLogged,
    CandlesUpdated,
    ConnectionChanged,
    ConnectionState,
    Event,
    PortfolioUpdated,
    ReplayProgress,
    TickerUpdated,
)
from cryptobots_desktop.paths import app_paths
from cryptobots_desktop.settings import AppSettings
from cryptobots_desktop.wiring import open_paper_runtime, stop_task


def test_event_bus_isolates_failing_handlers() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(seen.append)
    event = ConnectionChanged("paper", ConnectionState.CONNECTED)
    bus.publish(event)
    assert seen == [event]
    unsubscribe()
    bus.publish(event)
    assert seen == [event]


def test_feed_publishes_prices_candles_portfolio_and_replay(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> list[Event]:
        bus = EventBus()
        events: list[Event] = []
        bus.subscribe(events.append)
        settings = AppSettings()
        runtime = await open_paper_runtime(bus, settings, app_paths(tmp_path), resources)
        runtime.start()
        await asyncio.sleep(0.8)
        runtime.feed.set_chart_symbol("XRP/USDT")
        await asyncio.sleep(0.3)
        await runtime.stop()
        return events

    events = asyncio.run(scenario())
    tickers = [e.ticker for e in events if isinstance(e, TickerUpdated)]
    assert {t.symbol for t in tickers} == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"}
    btc = [t.last for t in tickers if t.symbol == "BTC/USDT"]
    assert all(Decimal(20_000) < p < Decimal(32_000) for p in btc)
    charts = [e for e in events if isinstance(e, CandlesUpdated)]
    assert charts[0].symbol == "BTC/USDT" and len(charts[0].candles) == 120
    assert charts[-1].symbol == "XRP/USDT" and all(c.close < 1 for c in charts[-1].candles)
    assert {e.account_id for e in charts} == {"paper"}
    portfolio = [e for e in events if isinstance(e, PortfolioUpdated)]
    assert portfolio[-1].valuation.total == Decimal(10_000)
    assert portfolio[-1].change == 0 and portfolio[-1].change_pct == 0
    assert portfolio[-1].account_id == "paper"
    replay = [e for e in events if isinstance(e, ReplayProgress)]
    assert replay[-1].now_ms > replay[0].now_ms  # 10x by default: time moves
    assert replay[0].speed is ReplaySpeed.X10
    assert any(isinstance(e, ConnectionChanged) and e.state is ConnectionState.CONNECTED for e in events)
    assert not [e for e in events if isinstance(e, ActivityLogged) and e.level.value == "error"]


def test_max_speed_steps_through_to_the_end_and_says_so(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> tuple[list[Event], int, int]:
        bus = EventBus()
        events: list[Event] = []
        bus.subscribe(events.append)
        settings = AppSettings()
        runtime = await open_paper_runtime(bus, settings, app_paths(tmp_path), resources)
        assert runtime.replay is not None
        runtime.replay.step(runtime.replay.end_ms - runtime.replay.now_ms() - 30 * 60_000)
        runtime.feed.set_replay_speed(ReplaySpeed.MAX)
        before = runtime.replay.now_ms()
        runtime.start()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if runtime.replay.finished:
                break
        await asyncio.sleep(0.3)
        after = runtime.replay.now_ms()
        await runtime.stop()
        return events, before, after

    events, before, after = asyncio.run(scenario())
    assert after > before
    progress = [e for e in events if isinstance(e, ReplayProgress)]
    assert progress[-1].finished
    ends = [
        e for e in events if isinstance(e, ActivityLogged) and "end of the recorded market data" in e.message
    ]
    assert len(ends) == 1


def test_change_since_start_uses_the_accounts_own_starting_funds(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> PortfolioUpdated:
        bus = EventBus()
        await (await open_paper_runtime(bus, AppSettings(), app_paths(tmp_path), resources)).stop()
        # the person later changes the starting funds in the settings: the existing account keeps its own
        changed = AppSettings.model_validate({"paper": {"starting_balances": {"USDT": "500"}}})
        runtime = await open_paper_runtime(bus, changed, app_paths(tmp_path), resources)
        try:
            await runtime.feed.poll_once()
            assert runtime.portfolio.last is not None
            return runtime.portfolio.last
        finally:
            await runtime.stop()

    update = asyncio.run(scenario())
    assert update.valuation.total == Decimal(10_000)
    assert update.change == 0


def test_a_failed_background_task_is_logged_when_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A task broken under the app (as when Qt ran its step after the asyncio loop had stopped) does not stop
    shutting down: it is logged, and the runtime goes on to close the exchanges and the journal."""

    async def broken() -> None:
        raise AttributeError("'NoneType' object has no attribute 'create_future'")

    async def scenario() -> bool:
        task = asyncio.get_running_loop().create_task(broken(), name="key-checks")
        await asyncio.sleep(0)
        await stop_task(task)
        sleeping = asyncio.get_running_loop().create_task(asyncio.sleep(60))
        await asyncio.sleep(0)
        await stop_task(sleeping)
        return sleeping.cancelled()

    with caplog.at_level(logging.ERROR, logger="cryptobots_desktop.wiring"):
        assert asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records] == ["background task key-checks had failed"]
