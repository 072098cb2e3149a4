"""A DCA bot end to end on the real paper exchange (real April 2023 BTC/USDT minutes) and the real journal:
full deal cycles, safety orders filling before the take-profit, partial fills, close at market, a restart in
the middle of a deal, and the journal agreeing with the exchange."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.orders import Fill, OrderSide, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.controller import CloseReason, latest_by_leg
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


async def open_session(
    tmp_path: Path,
    resources: Path,
    *,
    new_bot: bool,
    params: DcaParams = PARAMS,
    usdt: D = D(10_000),
) -> Session:
    """The bot on a new (or the saved) paper account; a new one's replay starts one day into the data,
    2023-04-02 21:03 UTC, the window the tests below were checked on."""
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset="binance_spot_2023",
        state_path=tmp_path / "paper.sqlite3",
        starting_balances={"USDT": usdt},
        speed=ReplaySpeed.MAX,
    )
    journal = await SqliteJournal.open(tmp_path / "journal.sqlite3", clock=exchange.replay)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    executor = OrderExecutor(journal, exchange, bus, "paper")
    await executor.reconciler.reconcile_all()
    bot = replace(BOT, params_json=params.model_dump_json())
    if new_bot:
        await journal.save_bot(bot)
    market = exchange.markets[SYMBOL]
    runner = DcaBotRunner(bot, params, market, journal, executor, bus, exchange.replay)
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


FEE_RATE = D("0.001")  # the dataset's maker and taker fee (datasets.json), paid in the asset received
TICK, LOT = D("0.01"), D("0.00001")  # BTC/USDT's price tick and lot step (exchangeInfo)


def fee_on(value: D) -> D:
    """Binance's commission on what a fill brings in, rounded half up to 8 decimals."""
    return (value * FEE_RATE).quantize(D("0.00000001"), ROUND_HALF_UP)


def floor_lot(amount: D) -> D:
    return (amount / LOT).to_integral_value(ROUND_DOWN) * LOT


@dataclass(frozen=True)
class Position:
    """A deal's position worked out by hand from its buy fills (a buy's fee is taken from the BTC bought)."""

    spent: D
    bought: D

    @classmethod
    def of(cls, buys: Sequence[Fill]) -> Position:
        return cls(sum((f.price * f.amount for f in buys), D(0)), sum((f.amount - f.fee for f in buys), D(0)))

    @property
    def average(self) -> D:
        return self.spent / self.bought

    def take_profit(self, pct: D) -> D:
        """Average entry + take profit, rounded up to the tick."""
        return (self.average * (1 + pct / 100) / TICK).to_integral_value(ROUND_CEILING) * TICK


def fills(rows: Sequence[JournaledOrder], side: OrderSide) -> list[Fill]:
    return [f for r in rows for f in r.fills if f.side is side]


def take_profits(rows: Sequence[JournaledOrder]) -> list[JournaledOrder]:
    return sorted((r for r in rows if r.intent.leg == "tp"), key=lambda r: r.intent.attempt)


async def run_until(s: Session, done: Callable[[], bool], minutes: int) -> None:
    for _ in range(minutes):
        await s.minute()
        if done():
            return
    raise AssertionError(f"not reached in {minutes} minutes")


async def assert_balances_match_journal(s: Session, usdt: D) -> None:
    """The account holds exactly what the journal's fills and open orders say (the bot is its only trader):
    each fill's fee is 0.1 % of what it brought in, in that asset; open orders hold what they may yet use."""
    rows = await s.journal.orders_of_bot("bot1")
    buys, sells = fills(rows, OrderSide.BUY), fills(rows, OrderSide.SELL)
    assert all(f.fee_asset == "BTC" and f.fee == fee_on(f.amount) for f in buys)
    assert all(f.fee_asset == "USDT" and f.fee == fee_on(f.cost) for f in sells)
    open_rows = [r for r in rows if r.state is IntentState.OPEN]
    usdt_used = sum(
        (
            (r.intent.request.amount - r.filled) * (r.intent.request.price or D(0))
            for r in open_rows
            if r.intent.request.side is OrderSide.BUY
        ),
        D(0),
    )
    btc_used = sum(
        (r.intent.request.amount - r.filled for r in open_rows if r.intent.request.side is OrderSide.SELL),
        D(0),
    )
    usdt_total = usdt - sum((f.cost for f in buys), D(0)) + sum((f.cost - f.fee for f in sells), D(0))
    btc_total = sum((f.amount - f.fee for f in buys), D(0)) - sum((f.amount for f in sells), D(0))
    balances = await s.exchange.fetch_balances()
    assert (balances["USDT"].free, balances["USDT"].used) == (usdt_total - usdt_used, usdt_used)
    assert (balances["BTC"].free, balances["BTC"].used) == (btc_total - btc_used, btc_used)


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


def test_safety_orders_fill_and_the_take_profit_follows_each_new_average(
    tmp_path: Path, resources: Path
) -> None:
    """Deal 1 from 2023-04-02 21:04 UTC: the base order buys at 28,052.19; BTC dips 0.6 %, so safety
    orders 1 and 2 fill (at -0.3 % and -0.6 %); the take-profit, re-placed at each new average entry, sells
    at 28,079.86. Every figure is worked out by hand from the journal's fills."""
    params = PARAMS.model_copy(update={"cooldown_seconds": 86_400})  # deal 1 alone: no deal 2 to account for

    async def scenario() -> None:
        s = await open_session(tmp_path, resources, new_bot=True, params=params)
        try:
            resting: list[JournaledOrder] = []  # the take-profit resting after each change of the position
            while s.runner.deals == () or s.runner.deals[0].phase != "closed":
                assert s.exchange.replay.now_ms() < s.exchange.replay.start_ms + 86_400_000 + 4 * 3_600_000
                await s.minute()
                rows = s.runner.orders_of(1)
                buys = fills(rows, OrderSide.BUY)
                if s.runner.deals[0].phase == "closed" or len(buys) == len(resting):
                    continue
                # the position changed: the take-profit sells all of it at its new average + 0.3 %
                position = Position.of(buys)
                *replaced, tp = take_profits(rows)
                assert tp.state is IntentState.OPEN and tp.filled == 0
                assert tp.intent.request.amount == floor_lot(position.bought)
                assert tp.intent.request.price == position.take_profit(params.take_profit_pct)
                assert all(r.state is IntentState.CANCELED and not r.fills for r in replaced)
                resting.append(tp)

            rows = s.runner.orders_of(1)
            legs = latest_by_leg(rows)
            base, s1, s2, s3 = legs["b"], legs["s1"], legs["s2"], legs["s3"]
            (base_fill,) = base.fills
            assert (base_fill.price, base_fill.amount, base_fill.is_maker) == (
                D("28052.19"),
                D("0.00178"),
                False,
            )
            # safety orders rest at the base price - 0.3 % x i, rounded down to the tick, and fill there
            assert s1.intent.request.price == D("27968.03")  # 28052.19 x 0.997 = 27968.033...
            assert s2.intent.request.price == D("27883.87")  # 28052.19 x 0.994 = 27883.876...
            for so in (s1, s2):
                (fill,) = so.fills
                assert so.state is IntentState.FILLED and fill.is_maker
                assert (fill.price, fill.amount) == (so.intent.request.price, so.intent.request.amount)
                assert fill.ts_ms > base_fill.ts_ms
            assert s3.state is IntentState.CANCELED and not s3.fills  # -0.9 % was never reached
            # one take-profit per position: base alone, + s1, + s2; each at (spent / BTC held) x 1.003, up
            # base: 49.9328982 / 0.00177822 = 28080.270...; + s1: 99.7159916 / 0.00355644 = 28038.148...;
            # + s2: 149.6281189 / 0.00534465 = 27995.868...
            assert [(r.intent.request.price, r.intent.request.amount) for r in resting] == [
                (D("28164.52"), D("0.00177")),
                (D("28122.27"), D("0.00355")),
                (D("28079.86"), D("0.00534")),
            ]
            assert [r.intent.attempt for r in take_profits(rows)] == [0, 1, 2]
            tp = take_profits(rows)[-1]
            assert tp.state is IntentState.FILLED and "x" not in legs  # closed by the take-profit
            (tp_fill,) = tp.fills
            assert (tp_fill.price, tp_fill.amount, tp_fill.is_maker) == (D("28079.86"), D("0.00534"), True)
            assert tp_fill.fee == fee_on(tp_fill.cost) == D("0.14994645")
            # the window showed each new take-profit with the safety orders filled so far
            shown = [
                (e.safety_orders_filled, e.take_profit_price) for e in s.events if isinstance(e, DealUpdated)
            ]
            assert [(0, D("28164.52")), (1, D("28122.27")), (2, D("28079.86"))] == [
                pair for i, pair in enumerate(shown) if pair[1] is not None and pair not in shown[:i]
            ]

            # realised P/L = what the sale brought in (after its fee) - the average cost of the BTC sold
            position = Position.of([base_fill, s1.fills[0], s2.fills[0]])
            realised = tp_fill.cost - tp_fill.fee - position.average * tp_fill.amount
            assert realised.quantize(D("0.00000001")) == D("0.29856784")
            deal = s.runner.deal(1)
            assert deal.realised_pnl == realised
            assert deal.fees_in_quote == sum(f.fee * f.price for f in deal.buys) + tp_fill.fee
            record = s.runner.deals[0]
            assert record.close_reason is None and record.closed_ms == tp_fill.ts_ms
            closed = [e for e in s.events if isinstance(e, DealUpdated) and e.record.phase == "closed"]
            assert closed[-1].deal is not None and closed[-1].deal.realised_pnl == realised
            # the account: 10,000 USDT - spent + received; the BTC left is what the lot step could not sell
            left = position.bought - tp_fill.amount
            assert left == D("0.00000465") and record.note is not None and "0.00000465 BTC" in record.note
            balances = await s.exchange.fetch_balances()
            assert balances["USDT"].total == D(10_000) - position.spent + tp_fill.cost - tp_fill.fee
            assert balances["USDT"].total == D("10000.16838705") and balances["USDT"].used == 0
            assert balances["BTC"].total == left and balances["BTC"].used == 0
            await assert_balances_match_journal(s, D(10_000))
            await assert_journal_matches_exchange(s)
            assert len(s.runner.deals) == 1  # the cooldown holds deal 2 back
        finally:
            await s.close()

    asyncio.run(scenario())


# One safety order of 500,000 USDT (17.87755 BTC at 27,968.03) on a 1,000,000 USDT account, same window:
# the minutes in which BTC trades at or below it had 41-75 BTC of volume, and a resting order takes at most
# 10 % of a minute's volume (the paper exchange's DEFAULT_PARTICIPATION), so it fills over several minutes;
# later the take-profit (17.89527 BTC) meets a minute of 107.8 BTC and sells 10.77772 BTC of it.
BIG = DcaParams(
    base_order_size=D(1_000),
    safety_order_size=D(500_000),
    max_safety_orders=1,
    price_deviation_pct=D("0.3"),
    take_profit_pct=D("0.3"),
    cooldown_seconds=86_400,
)
BIG_ACCOUNT = D(1_000_000)


def partly_filled(row: JournaledOrder) -> bool:
    return row.state is IntentState.OPEN and 0 < row.filled < row.intent.request.amount


def test_a_partly_filled_safety_order_resizes_the_take_profit_to_what_is_held(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario() -> None:
        s = await open_session(tmp_path, resources, new_bot=True, params=BIG, usdt=BIG_ACCOUNT)
        try:
            await s.minute()
            assert latest_by_leg(s.runner.orders_of(1))["s1"].intent.request.amount == D("17.87755")
            await run_until(s, lambda: latest_by_leg(s.runner.orders_of(1))["s1"].filled > 0, 120)
            rows = s.runner.orders_of(1)
            s1 = latest_by_leg(rows)["s1"]
            assert partly_filled(s1)  # part of it rests on at its price
            assert all(f.price == D("27968.03") and f.is_maker for f in s1.fills)
            shown = [e for e in s.events if isinstance(e, DealUpdated)][-1]
            assert shown.safety_orders_filled == 1  # it bought: the window counts it
            position = Position.of(fills(rows, OrderSide.BUY))
            *replaced, tp = take_profits(rows)
            assert [r.state for r in replaced] == [IntentState.CANCELED] and not replaced[0].fills
            # the take-profit sells what is held now, not what the safety order will buy once it is filled
            assert tp.state is IntentState.OPEN
            assert tp.intent.request.amount == floor_lot(position.bought) < s1.intent.request.amount
            assert tp.intent.request.price == position.take_profit(BIG.take_profit_pct)
            # the unfilled rest of the safety order still holds its USDT; the BTC bought is free for the sale
            await assert_balances_match_journal(s, BIG_ACCOUNT)
            balances = await s.exchange.fetch_balances()
            assert balances["USDT"].used == (s1.intent.request.amount - s1.filled) * D("27968.03")
            assert balances["BTC"].used == tp.intent.request.amount
            await assert_journal_matches_exchange(s)

            # the rest fills over the next minutes; each time the take-profit follows the position
            sizes = [tp.intent.request.amount]
            for _ in range(60):
                await s.minute()
                rows = s.runner.orders_of(1)
                position = Position.of(fills(rows, OrderSide.BUY))
                *replaced, tp = take_profits(rows)
                assert tp.intent.request.amount == floor_lot(position.bought)
                assert tp.intent.request.price == position.take_profit(BIG.take_profit_pct)
                assert all(r.state is IntentState.CANCELED and not r.fills for r in replaced)
                if tp.intent.request.amount != sizes[-1]:
                    sizes.append(tp.intent.request.amount)
                if latest_by_leg(rows)["s1"].state is IntentState.FILLED:
                    break
            s1 = latest_by_leg(rows)["s1"]
            assert s1.state is IntentState.FILLED and s1.filled == s1.intent.request.amount
            assert len(s1.fills) > 1 and len(sizes) > 1
            assert (
                sizes[-1]
                == floor_lot(D("0.03564") * D("0.999") + D("17.87755") * D("0.999"))
                == D("17.89527")
            )
            await assert_balances_match_journal(s, BIG_ACCOUNT)
            assert (await s.exchange.fetch_balances())["USDT"].used == 0
            await assert_journal_matches_exchange(s)
        finally:
            await s.close()

    asyncio.run(scenario())


def test_a_partly_filled_take_profit_then_close_at_market_sells_exactly_the_rest(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario() -> None:
        s = await open_session(tmp_path, resources, new_bot=True, params=BIG, usdt=BIG_ACCOUNT)
        try:
            await run_until(s, lambda: take_profits(s.runner.orders_of(1))[-1].filled > 0, 240)
            rows = s.runner.orders_of(1)
            tp = take_profits(rows)[-1]
            assert partly_filled(tp)
            assert latest_by_leg(rows)["s1"].state is IntentState.FILLED
            sold_by_tp = tp.filled
            assert sold_by_tp == D("10.77772")  # 10 % of the minute's 107.77724 BTC, down to the lot step
            await assert_balances_match_journal(s, BIG_ACCOUNT)

            # the person closes the deal at market in the same minute
            price = (await s.exchange.fetch_ticker(SYMBOL)).last
            await s.runner.close_deal(1)
            await s.runner.step(price)

            rows = s.runner.orders_of(1)
            legs = latest_by_leg(rows)
            tp, close = legs["tp"], legs["x"]
            assert tp.state is IntentState.CANCELED and tp.filled == sold_by_tp  # its fills are kept
            position = Position.of(fills(rows, OrderSide.BUY))
            rest = floor_lot(position.bought - sold_by_tp)
            assert rest == tp.intent.request.amount - sold_by_tp == D("7.11755")
            request = close.intent.request
            assert (request.side, request.type, request.amount) == (OrderSide.SELL, OrderType.MARKET, rest)
            (fill,) = close.fills
            assert close.state is IntentState.FILLED
            assert (fill.price, fill.amount, fill.is_maker) == (price, rest, False)
            record = s.runner.deals[0]
            assert record.phase == "closed" and record.close_reason == CloseReason.BY_PERSON.value

            # the deal sold all it could: what is left is under the lot step, and it is the account's only BTC
            sells = fills(rows, OrderSide.SELL)
            assert sum(f.amount for f in sells) == sold_by_tp + rest
            left = position.bought - sold_by_tp - rest
            assert 0 <= left < LOT
            assert s.runner.deal(1).base_held == left
            realised = sum((f.cost - f.fee for f in sells), D(0)) - position.average * (sold_by_tp + rest)
            assert s.runner.deal(1).realised_pnl == realised
            balances = await s.exchange.fetch_balances()
            assert balances["BTC"].total == left and balances["BTC"].used == 0
            assert balances["USDT"].used == 0
            assert balances["USDT"].total == BIG_ACCOUNT - position.spent + sum(
                (f.cost - f.fee for f in sells), D(0)
            )
            await assert_balances_match_journal(s, BIG_ACCOUNT)
            await assert_journal_matches_exchange(s)
            assert await s.exchange.fetch_open_orders(SYMBOL) == []
        finally:
            await s.close()

    asyncio.run(scenario())
