"""A grid bot end to end on the real paper exchange (April 2023 BTC/USDT minutes) and the real journal."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.grid_runner import GridBotRunner
from cryptobots_desktop.engine.order_executor import OrderExecutor

SYMBOL = "BTC/USDT"


def test_grid_bot_cycles_on_real_prices_then_stops_cleanly(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> None:
        exchange = await PaperExchange.open(
            market_data_dir=resources / "market_data",
            dataset="binance_spot_2023",
            state_path=tmp_path / "paper.sqlite3",
            starting_balances={"USDT": D(10_000)},
            speed=ReplaySpeed.MAX,
        )
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3", clock=exchange.replay)
        try:
            price = (await exchange.fetch_ticker(SYMBOL)).last
            params = GridParams(
                lower_price=(price * D("0.985")).quantize(D("0.01")),
                upper_price=(price * D("1.015")).quantize(D("0.01")),
                levels=12,
                amount_per_level=D("0.002"),
            )
            bot = BotRecord(
                "grid1",
                "BTC grid",
                "paper",
                StrategyKind.GRID,
                (SYMBOL,),
                params.model_dump_json(),
                BotStatus.RUNNING,
                0,
            )
            await journal.save_bot(bot)
            bus = EventBus()
            runner = GridBotRunner(
                bot,
                params,
                exchange.markets[SYMBOL],
                journal,
                OrderExecutor(journal, exchange, bus, "paper"),
                bus,
                exchange.replay,
            )
            await runner.load()
            for _ in range(2 * 24 * 60):  # two days of real minutes
                exchange.replay.step(60_000)
                await runner.step((await exchange.fetch_ticker(SYMBOL)).last)
            (deal,) = runner.deals
            assert deal.phase == "open"
            rows = await journal.orders_of_bot("grid1")
            assert next(r for r in rows if r.intent.leg == "init").state is IntentState.FILLED
            live = [r for r in rows if r.state is IntentState.OPEN]
            assert max(Counter(r.intent.leg for r in live).values()) == 1  # one order per level at most
            buys = [r.intent.request.price for r in live if r.intent.request.side.value == "buy"]
            sells = [r.intent.request.price for r in live if r.intent.request.side.value == "sell"]
            assert not buys or not sells or max(buys) < min(sells)  # buys below, sells above
            assert runner.realised_profit() > 0  # completed cycles, fees included

            await runner.set_status(BotStatus.STOPPED)  # the person stops the grid, which closes it
            await runner.close_deal(1)
            await runner.step((await exchange.fetch_ticker(SYMBOL)).last)
            await runner.step((await exchange.fetch_ticker(SYMBOL)).last)
            assert runner.deals[0].phase == "closed"
            assert await exchange.fetch_open_orders(SYMBOL) == []
            for row in await journal.orders_of_bot("grid1"):
                at_exchange = await exchange.fetch_order(SYMBOL, row.client_order_id)
                assert at_exchange is not None and IntentState.of(at_exchange.status) is row.state
        finally:
            await journal.close()
            await exchange.close()

    asyncio.run(scenario())
