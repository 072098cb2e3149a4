"""The bot supervisor inside the real runtime (paper exchange, journal, market feed at MAX speed), and on the
real paper exchange and journal stepped one replayed minute at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.controller import latest_by_leg
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import ActivityLogged, BotStopped, BotUpdated, Event, Level
from cryptobots_desktop.engine.order_executor import OrderExecutor
from cryptobots_desktop.engine.supervisor import AccountLink, BotSupervisor
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


@dataclass
class Desk:
    """A supervisor on the real paper exchange and journal, stepped one replayed minute at a time (the
    market feed's part at MAX speed, without its timing). A new paper account's replay starts one day into
    the 2023 data, at 2023-04-02 21:03 UTC."""

    exchange: PaperExchange
    journal: SqliteJournal
    supervisor: BotSupervisor
    events: list[Event]

    async def minute(self) -> None:
        self.exchange.replay.step(60_000)
        symbols = self.supervisor.symbols_of("paper")
        prices = {symbol: (await self.exchange.fetch_ticker(symbol)).last for symbol in symbols}
        await self.supervisor.on_prices(prices, "paper")

    def updates(self, bot_id: str) -> list[BotUpdated]:
        return [e for e in self.events if isinstance(e, BotUpdated) and e.bot.bot_id == bot_id]

    async def close(self) -> None:
        await self.journal.close()
        await self.exchange.close()


async def open_desk(tmp_path: Path, resources: Path, journaled: Sequence[BotRecord] = ()) -> Desk:
    """The desk, with ``journaled`` bots already in the journal (as a previous run left them)."""
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset="binance_spot_2023",
        state_path=tmp_path / "paper.sqlite3",
        starting_balances={"USDT": D(10_000)},
        speed=ReplaySpeed.MAX,
    )
    journal = await SqliteJournal.open(tmp_path / "journal.sqlite3", clock=exchange.replay)
    for bot in journaled:
        await journal.save_bot(bot)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    executor = OrderExecutor(journal, exchange, bus, "paper")
    link = AccountLink(executor, exchange.markets, exchange.replay)
    supervisor = BotSupervisor(journal, {"paper": link}, bus)
    await supervisor.load()
    return Desk(exchange, journal, supervisor, events)


# safety orders at -0.3 % and -0.6 %, take profit 0.3 %: from 2023-04-02 21:04 UTC deal 1 buys at 28,052.19,
# both safety orders fill on the dip to 27,8xx within the hour, and the take-profit sells about 1 h 50 min in
LADDER = SMALL.model_copy(update={"price_deviation_pct": D("0.3"), "take_profit_pct": D("0.3")})


def test_a_paused_bot_keeps_its_open_deal_working_until_the_take_profit_sells(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario() -> None:
        d = await open_desk(tmp_path, resources)
        try:
            bot = await d.supervisor.create_dca_bot("BTC ladder", "paper", "BTC/USDT", LADDER)
            runner = d.supervisor.runner(bot.bot_id)
            await d.minute()
            (deal,) = runner.active_deals
            assert deal.phase == "open" and latest_by_leg(runner.orders_of(1))["tp"].state is IntentState.OPEN
            paused_ms = d.exchange.replay.now_ms()
            await d.supervisor.set_status(bot.bot_id, BotStatus.PAUSED)
            assert runner.bot.status is BotStatus.PAUSED
            assert [b.status for b in await d.journal.bots()] == [BotStatus.PAUSED]

            minutes = 0
            while runner.deals[0].phase != "closed":
                assert minutes < 4 * 60, "the take-profit did not sell within 4 hours"
                await d.minute()
                minutes += 1
            # closed by its take-profit: no stop loss, trailing take-profit, or close at market
            record = runner.deals[0]
            assert record.close_reason is None and record.note is not None  # the note: BTC dust left over
            legs = latest_by_leg(runner.orders_of(1))
            assert "x" not in legs
            tp = legs["tp"]
            assert tp.state is IntentState.FILLED and tp.filled == tp.intent.request.amount
            assert record.closed_ms == tp.fills[-1].ts_ms
            # while paused the deal kept working its ladder: the safety orders filled, and the take-profit was
            # re-placed at each new average and sold the whole position
            assert legs["s1"].state is IntentState.FILLED and legs["s2"].state is IntentState.FILLED
            assert all(f.ts_ms > paused_ms for f in (*legs["s1"].fills, *legs["s2"].fills, *tp.fills))
            assert tp.intent.attempt == 2 and tp.intent.created_ms > paused_ms
            deal_pnl = runner.deal(1)
            assert deal_pnl.base_held < D("0.00001") and deal_pnl.realised_pnl > 0
            assert any(
                isinstance(e, ActivityLogged) and e.message.startswith("Deal 1 closed on BTC/USDT: profit +")
                for e in d.events
            )

            # no new deal opens while the bot is paused, however long
            for _ in range(60):
                await d.minute()
            assert [r.deal_no for r in runner.deals] == [1] and not runner.active_deals
            assert {r.intent.deal_no for r in await d.journal.orders_of_bot(bot.bot_id)} == {1}
            assert await d.exchange.fetch_open_orders("BTC/USDT") == []
            last = d.updates(bot.bot_id)[-1]
            assert (last.bot.status, last.open_deals, last.closed_deals) == (BotStatus.PAUSED, 0, 1)
            assert last.realised_pnl == deal_pnl.realised_pnl

            # resumed, it opens the next deal at the next price
            await d.supervisor.set_status(bot.bot_id, BotStatus.RUNNING)
            await d.minute()
            assert [r.deal_no for r in runner.active_deals] == [2]
        finally:
            await d.close()

    asyncio.run(scenario())


def test_a_bot_whose_step_raises_is_stopped_with_its_error_and_the_other_bot_trades_on(
    tmp_path: Path, resources: Path
) -> None:
    """A failure that is not an exchange's refusal: the journal holds a bot under an id no client order id
    can be made of (a hand-edited or foreign journal; the app makes 8 hex digits). It loads, and its first
    step raises ValueError where its first order is named; the supervisor stops that bot alone."""
    broken = BotRecord(
        "old-bot-1",
        "ETH legacy",
        "paper",
        StrategyKind.DCA,
        ("ETH/USDT",),
        SMALL.model_dump_json(),
        BotStatus.RUNNING,
        0,
    )

    async def scenario() -> None:
        d = await open_desk(tmp_path, resources, [broken])
        try:
            failing = d.supervisor.runner(broken.bot_id)
            assert failing.bot.status is BotStatus.RUNNING  # nothing is wrong with it until it trades
            good = await d.supervisor.create_dca_bot("BTC small", "paper", "BTC/USDT", SMALL)
            runner = d.supervisor.runner(good.bot_id)
            await d.minute()

            reason = "ValueError: bot id must be 1-12 letters or digits: 'old-bot-1'"
            stopped = [e for e in d.events if isinstance(e, BotStopped)]
            assert [(e.bot.bot_id, e.reason) for e in stopped] == [(broken.bot_id, reason)]
            assert (stopped[0].bot.status, stopped[0].bot.error) == (BotStatus.ERROR, reason)
            assert (failing.bot.status, failing.bot.error) == (BotStatus.ERROR, reason)
            assert d.updates(broken.bot_id)[-1].bot.status is BotStatus.ERROR  # the bots view shows it
            activity = [(e.level, e.source, e.message) for e in d.events if isinstance(e, ActivityLogged)]
            assert (Level.ERROR, "ETH legacy", f"Bot stopped: {reason}") in activity  # the activity log
            journaled = {b.bot_id: b for b in await d.journal.bots()}
            assert (journaled[broken.bot_id].status, journaled[broken.bot_id].error) == (
                BotStatus.ERROR,
                reason,
            )
            assert await d.journal.orders_of_bot(broken.bot_id) == []  # it failed before sending anything
            # the other bot, stepped on the same prices, opened its deal in the same minute
            assert [r.deal_no for r in runner.active_deals] == [1]
            assert latest_by_leg(runner.orders_of(1))["b"].state is IntentState.FILLED

            # ... and trades on; the failed bot is not stepped again
            deals_of_failed = failing.deals
            minutes = 0
            while sum(r.phase == "closed" for r in runner.deals) < 2:
                assert minutes < 6 * 60, "the good bot closed fewer than 2 deals in 6 hours"
                await d.minute()
                minutes += 1
            assert runner.bot.status is BotStatus.RUNNING and runner.realised_profit() > 0
            assert [e.bot.bot_id for e in d.events if isinstance(e, BotStopped)] == [broken.bot_id]
            assert failing.deals == deals_of_failed and failing.bot.status is BotStatus.ERROR
            assert await d.journal.orders_of_bot(broken.bot_id) == []
            assert await d.exchange.fetch_open_orders("ETH/USDT") == []

            # its deal was opened when the step failed, before any order: closed at market, it closes as it
            # is, without buying first (and without failing again)
            (opening,) = failing.active_deals
            assert opening.phase == "opening"
            eth = (await d.exchange.fetch_ticker("ETH/USDT")).last
            await d.supervisor.close_deal(broken.bot_id, opening.deal_no, eth)
            assert [(r.phase, r.close_reason) for r in failing.deals] == [
                ("closed", "closed at market by you")
            ]
            assert (
                failing.deal(opening.deal_no).buys == () and failing.deal(opening.deal_no).realised_pnl == 0
            )
            assert await d.journal.orders_of_bot(broken.bot_id) == []
            assert [e.bot.bot_id for e in d.events if isinstance(e, BotStopped)] == [broken.bot_id]
            assert (failing.bot.status, failing.bot.error) == (BotStatus.ERROR, reason)
        finally:
            await d.close()

    asyncio.run(scenario())


def test_a_bot_stopped_on_an_error_still_closes_its_open_deal_at_market(
    tmp_path: Path, resources: Path
) -> None:
    """Two deals at once on 10,000 USDT: deal 1 takes nearly all of it (its base order and the USDT its two
    safety orders hold), so deal 2's base order is refused and the bot stops on that error with deal 1 open.
    The person's "close at market" of deal 1 then cancels its orders and sells what it holds, as for a bot
    the person stopped (before, it did nothing: the close was saved, the bot not stepped, orders rested)."""
    params = DcaParams(
        base_order_size=D(4_000),
        safety_order_size=D(3_000),
        max_safety_orders=2,
        price_deviation_pct=D(1),
        take_profit_pct=D(1),
        max_active_deals=2,
    )

    async def scenario() -> None:
        d = await open_desk(tmp_path, resources)
        try:
            bot = await d.supervisor.create_dca_bot("BTC two deals", "paper", "BTC/USDT", params)
            runner = d.supervisor.runner(bot.bot_id)
            await d.minute()
            await d.minute()
            first, second = runner.deals
            assert first.phase == "open" and second.phase == "failed"
            (stopped,) = [e for e in d.events if isinstance(e, BotStopped)]
            assert stopped.reason.startswith("The base order was refused: Not enough USDT")
            assert (runner.bot.status, runner.bot.error) == (BotStatus.ERROR, stopped.reason)
            working = {o.client_order_id for o in await d.exchange.fetch_open_orders("BTC/USDT")}
            assert working == {r.client_order_id for r in runner.orders_of(1) if r.state is IntentState.OPEN}
            assert len(working) == 3  # safety orders 1 and 2, the take-profit

            price = (await d.exchange.fetch_ticker("BTC/USDT")).last
            held = runner.deal(1).base_held
            await d.supervisor.close_deal(bot.bot_id, 1, price)
            record = runner.deals[0]
            assert record.phase == "closed" and record.close_reason == "closed at market by you"
            legs = latest_by_leg(runner.orders_of(1))
            assert all(legs[leg].state is IntentState.CANCELED for leg in ("s1", "s2", "tp"))
            (sale,) = legs["x"].fills
            assert legs["x"].state is IntentState.FILLED
            assert sale.price == price and held - D("0.00001") < sale.amount <= held
            assert await d.exchange.fetch_open_orders("BTC/USDT") == []
            usdt = (await d.exchange.fetch_balances())["USDT"]
            assert usdt.used == 0 and D(9_980) < usdt.free < D(10_000)  # the round trip's fees and spread
            # it stays stopped on its error, said once; it opens nothing
            for _ in range(10):
                await d.minute()
            assert (runner.bot.status, runner.bot.error) == (BotStatus.ERROR, stopped.reason)
            assert [e for e in d.events if isinstance(e, BotStopped)] == [stopped]
            assert [r.deal_no for r in runner.deals] == [1, 2] and not runner.active_deals
        finally:
            await d.close()

    asyncio.run(scenario())
