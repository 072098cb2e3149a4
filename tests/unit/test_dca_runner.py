"""A DCA bot end to end on the real paper exchange (real April 2023 BTC/USDT minutes) and the real journal:
full deal cycles, a restart in the middle of a deal, and the journal agreeing with the exchange."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.engine.dca_runner import DcaBotRunner
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import DealUpdated, Event
from cryptobots_desktop.engine.order_executor import OrderExecutor

SYMBOL = "BTC/USDT"
PARAMS = DcaParams(
    base_order_size=D(50),
    safety_order_size=D(50),
    max_safety_orders=3,
    price_deviation_pct=D("0.3"),
    take_profit_pct=D("0.3"),
)
BOT = BotRecord(
    "bot1", "BTC DCA", "paper", StrategyKind.DCA, (SYMBOL,), PARAMS.model_dump_json(), BotStatus.RUNNING, 0
)


@dataclass
class Session:
    exchange: PaperExchange
    journal: SqliteJournal
    runner: DcaBotRunner
    events: list[Event]

    async def minute(self) -> None:
        """One minute of replayed market: the exchange matches it, the bot reacts to the new price."""
        self.exchange.replay.step(60_000)
        await self.runner.step((await self.exchange.fetch_ticker(SYMBOL)).last)

    async def close(self) -> None:
        await self.journal.close()
        await self.exchange.close()


async def open_session(tmp_path: Path, resources: Path, *, new_bot: bool) -> Session:
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset="binance_spot_2023",
        state_path=tmp_path / "paper.sqlite3",
        starting_balances={"USDT": D(10_000)},
        speed=ReplaySpeed.MAX,
    )
    journal = await SqliteJournal.open(tmp_path / "journal.sqlite3", clock=exchange.replay)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    executor = OrderExecutor(journal, exchange, bus, "paper")
    await executor.reconciler.reconcile_all()
    if new_bot:
        await journal.save_bot(BOT)
    market = exchange.markets[SYMBOL]
    runner = DcaBotRunner(BOT, PARAMS, market, journal, executor, bus, exchange.replay)
    await runner.load()
    return Session(exchange, journal, runner, events)


async def assert_journal_matches_exchange(s: Session) -> None:
    """Every journaled order is at the exchange in the same state with the same fills, and vice versa."""
    rows = await s.journal.orders_of_bot("bot1")
    assert len({r.client_order_id for r in rows}) == len(rows)
    for row in rows:
        at_exchange = await s.exchange.fetch_order(SYMBOL, row.client_order_id)
        if row.state in (IntentState.REJECTED, IntentState.NOT_PLACED):
            assert at_exchange is None
            continue
        assert at_exchange is not None, row.client_order_id
        assert IntentState.of(at_exchange.status) is row.state
        assert {f.trade_id for f in at_exchange.fills} == {f.trade_id for f in row.fills}
    journaled = {r.client_order_id for r in rows}
    assert {o.client_order_id for o in await s.exchange.fetch_open_orders(SYMBOL)} <= journaled


def test_dca_bot_runs_full_deals_on_real_prices(tmp_path: Path, resources: Path) -> None:
    async def scenario() -> None:
        s = await open_session(tmp_path, resources, new_bot=True)
        try:
            minutes = 0
            while not any(d.phase == "closed" for d in s.runner.deals) and minutes < 3 * 24 * 60:
                await s.minute()
                minutes += 1
            first = s.runner.deals[0]
            assert first.phase == "closed", f"no deal closed in {minutes} minutes"
            rows = [r for r in await s.journal.orders_of_bot("bot1") if r.intent.deal_no == 1]
            by_leg = {r.intent.leg: r for r in rows}
            assert by_leg["b"].state is IntentState.FILLED
            assert any(r.intent.leg == "tp" and r.state is IntentState.FILLED for r in rows)
            assert all(r.state is not IntentState.OPEN for r in rows)  # nothing left working
            closed = [e for e in s.events if isinstance(e, DealUpdated) and e.record.phase == "closed"]
            assert closed and closed[0].deal is not None
            assert closed[0].deal.realised_pnl > 0
            # the next deal opens right away (no cooldown) and works its ladder
            await s.minute()
            assert s.runner.active_deals and s.runner.active_deals[0].deal_no == 2
            await assert_journal_matches_exchange(s)
            usdt = (await s.exchange.fetch_balances())["USDT"]
            assert usdt.total < D(10_000)  # deal 2 holds BTC now
        finally:
            await s.close()

    asyncio.run(scenario())


def test_a_restart_in_the_middle_of_a_deal_resumes_it_exactly(tmp_path: Path, resources: Path) -> None:
    async def first_run() -> tuple[int, list[str]]:
        s = await open_session(tmp_path, resources, new_bot=True)
        try:
            for _ in range(5):
                await s.minute()
            deal = s.runner.active_deals[0]
            assert deal.phase == "open"
            rows = await s.journal.orders_of_bot("bot1")
            return deal.deal_no, sorted(r.client_order_id for r in rows)
        finally:
            await s.close()  # the app quits (or dies) with the deal open and its orders resting

    async def second_run(deal_no: int, before: list[str]) -> None:
        s = await open_session(tmp_path, resources, new_bot=False)
        try:
            assert [d.deal_no for d in s.runner.active_deals] == [deal_no]
            rows = await s.journal.orders_of_bot("bot1")
            assert sorted(r.client_order_id for r in rows) == before
            await s.minute()  # deciding again adds no twin of anything already placed
            for _ in range(3 * 24 * 60):
                if s.runner.deals[0].phase == "closed":
                    break
                await s.minute()
            assert s.runner.deals[0].phase == "closed"
            await assert_journal_matches_exchange(s)
        finally:
            await s.close()

    deal_no, before = asyncio.run(first_run())
    asyncio.run(second_run(deal_no, before))
