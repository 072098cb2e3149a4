"""No deal is lost and no order is sent twice, even when the app is killed at any moment.

The engine (``tests.crash.engine_process``: the real paper exchange, journal, reconciler, executor and DCA
bot runner) runs as a subprocess on one data folder and is SIGKILLed again and again at random moments,
then runs once to its end. The test process then opens the same files with the same classes and checks
that the journal and the exchange tell one and the same story, deal by deal and fill by fill.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.paper.state_store import StateStore
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.orders import Fill, OrderSide
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.controller import CloseReason, DealPhase
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.dca_deal import BASE, CLOSE, TAKE_PROFIT, DealView, decide, safety_leg
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor
from tests.conftest import ROOT
from tests.crash import engine_process as ep

SEED = int(os.environ.get("CRASH_SEED", "20230401"))  # another seed: other moments
TIMED_KILLS = 32  # kills at a random moment; at least 30 are required
AIMED_KILLS = 15  # and kills the engine does itself at a chosen point of the order path
MIN_TIMED_KILLS = 30
POINTS = ("intent", "answer", "fill", "deal")  # see tests.crash.engine_process; "state" follows "intent"
# ~8 days of replay: well over what the killed runs get through (~6,000 minutes here, ~130 per run), so that
# every kill lands mid-run and the last run still has days of trading to do
MINUTES = 12_000
DELAY_S = (0.05, 0.6)  # from the child's first line (imports done, nothing opened) to the SIGKILL
BOOT_TIMEOUT_S = 20.0
LIVE = (IntentState.OPEN, IntentState.FILLED, IntentState.CANCELED)


@dataclass
class Tally:
    timed: int = 0
    aimed: int = 0
    runs: int = 0
    killed_at: Counter[str] = field(default_factory=Counter)  # the child's last line when it died
    found: Counter[str] = field(default_factory=Counter)  # what the next start's reconciliation found
    final_minutes: int = 0

    @property
    def kills(self) -> int:
        return self.timed + self.aimed


def wait_for_first_line(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while not path.read_bytes().endswith(b"\n"):
        assert proc.poll() is None, f"the engine exited at start: {path.with_suffix('.err').read_text()}"
        assert time.monotonic() < deadline, "the engine printed nothing"
        time.sleep(0.002)


def start(
    data: Path, logs: Path, n: int, crash: tuple[str, int] | None
) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASH_")}
    if crash is not None:
        env["CRASH_POINT"], env["CRASH_AFTER"] = crash[0], str(crash[1])
    out = logs / f"run{n:03d}.out"
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash.engine_process", str(data), str(MINUTES)],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    return proc, out


def read_ready(lines: list[str], tally: Tally) -> None:
    """Add what this start's reconciliation found (the previous kill's leftovers) to the tally."""
    for line in lines:
        if line.startswith("ready "):
            for item in line.split()[1:]:
                key, value = item.split("=")
                if key in ("adopted", "caught_up", "not_placed", "unresolved"):
                    tally.found[key] += int(value)


def kill_again_and_again(data: Path, logs: Path) -> Tally:
    """Start the engine, kill it, again and again (every other run also armed to kill itself at one of
    the POINTS, and the run after a kill at "intent" at its first "state"), then run it once to the end."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        rng = random.Random(SEED)
        tally = Tally()
        last = ["boot"]
        while tally.timed < TIMED_KILLS or tally.aimed < AIMED_KILLS:
            armed = tally.runs % 2 == 1 and tally.aimed < AIMED_KILLS
            crash = (POINTS[(tally.runs // 2) % len(POINTS)], rng.randint(1, 6)) if armed else None
            if last == ["crash", "intent"]:  # its reconciliation marks the intent NOT_PLACED: die right then
                crash = ("state", 1)
            delay = rng.uniform(*DELAY_S)
            proc, out = start(data, logs, tally.runs, crash)
            started.append(proc)
            tally.runs += 1
            wait_for_first_line(out, proc)
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            code = proc.wait(timeout=10)
            lines = out.read_text().splitlines()
            read_ready(lines, tally)
            if code == 0:  # it reached the end on its own: no more kills would land mid-run
                break
            assert code == -signal.SIGKILL, out.with_suffix(".err").read_text()
            last = lines[-1].split() if lines else ["nothing"]
            if last[0] == "crash":
                tally.aimed += 1
                tally.killed_at[f"crash:{last[1]}"] += 1
            else:
                tally.timed += 1
                tally.killed_at[last[0]] += 1
        proc, out = start(data, logs, tally.runs, None)  # the last run, to the end
        started.append(proc)
        assert proc.wait(timeout=60) == 0, out.with_suffix(".err").read_text()
        lines = out.read_text().splitlines()
        read_ready(lines, tally)
        assert lines[-1] == "done", lines[-3:]
        tally.final_minutes = sum(1 for line in lines if line.startswith("minute "))
    finally:  # a failed assertion leaves no engine running
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return tally


# --- the checks, in the test process, on the same files --------------------------------------------------


def fills_by_id(fills: tuple[Fill, ...] | list[Fill]) -> dict[str, Fill]:
    by_id = {f.trade_id: f for f in fills}
    assert len(by_id) == len(fills), f"a trade id appears twice: {sorted(f.trade_id for f in fills)}"
    return by_id


async def check(data: Path, tally: Tally) -> str:
    exchange = await PaperExchange.open(
        market_data_dir=ep.MARKET_DATA,
        dataset=ep.DATASET,
        state_path=data / "paper.sqlite3",
        starting_balances={"USDT": ep.STARTING_USDT},
        speed=ReplaySpeed.MAX,
    )
    journal = await SqliteJournal.open(data / "journal.sqlite3", clock=exchange.replay)
    try:
        executor = OrderExecutor(journal, exchange, EventBus(), ep.ACCOUNT_ID)
        report = await executor.reconciler.reconcile_all()
        assert not report.unresolved, report.unresolved

        # (a) nothing is left whose fate is unknown
        left = await journal.needing_reconciliation(ep.ACCOUNT_ID)
        pending = [r.client_order_id for r in left if r.state is IntentState.PENDING]
        assert not pending, f"still PENDING after the final reconciliation: {pending}"

        bots = await journal.bots()
        assert [b.bot_id for b in bots] == [ep.BOT_ID], "the bot was saved twice, or lost"
        bot = bots[0]
        assert bot.status is BotStatus.RUNNING, f"the bot stopped: {bot.error}"
        rows = list(await journal.orders_of_bot(ep.BOT_ID))
        journaled = {r.client_order_id: r for r in rows}
        assert len(journaled) == len(rows), "a client order id is journaled twice"
        assert {r.client_order_id for r in left} <= set(journaled), "an order of no bot is journaled"

        # (b) journal -> exchange: every order the exchange accepted is there, same state, same fills
        for row in rows:
            at_exchange = await exchange.fetch_order(ep.SYMBOL, row.client_order_id)
            if row.state not in LIVE:
                assert row.state in (IntentState.REJECTED, IntentState.NOT_PLACED), row
                assert at_exchange is None, f"{row.client_order_id} is {row.state} but the exchange has it"
                continue
            assert at_exchange is not None, f"{row.client_order_id} is {row.state}, the exchange has no such"
            assert IntentState.of(at_exchange.status) is row.state, (row, at_exchange)
            assert at_exchange.exchange_order_id == row.exchange_order_id, (row, at_exchange)
            assert fills_by_id(at_exchange.fills) == fills_by_id(row.fills), row.client_order_id
        #     exchange -> journal: no open order the journal doesn't know
        open_ids = {o.client_order_id for o in await exchange.fetch_open_orders()}
        assert open_ids <= set(journaled), f"open at the exchange, not journaled: {open_ids - set(journaled)}"
        assert open_ids == {r.client_order_id for r in rows if r.state is IntentState.OPEN}
        #     every fill of the account belongs to a journaled order and is journaled
        exchange_fills = fills_by_id(list(await exchange.fetch_fills()))
        journal_fills = fills_by_id([f for r in rows for f in r.fills])
        assert exchange_fills == journal_fills, (
            f"fills only at the exchange: {sorted(exchange_fills.keys() - journal_fills.keys())}, "
            f"only in the journal: {sorted(journal_fills.keys() - exchange_fills.keys())}"
        )
        assert sorted(map(int, exchange_fills)) == list(range(1, len(exchange_fills) + 1)), "trade ids gap"

        # (d) no deal is missing, and each one's orders fit its phase
        params = DcaParams.model_validate_json(bot.params_json)
        market = exchange.markets[ep.SYMBOL]
        price = (await exchange.fetch_ticker(ep.SYMBOL)).last
        deals = list(await journal.deals_of_bot(ep.BOT_ID))
        numbers = [d.deal_no for d in deals]
        assert numbers == list(range(1, len(deals) + 1)), f"deal numbers with a gap: {numbers}"
        by_deal: dict[int, list[JournaledOrder]] = defaultdict(list)
        for row in rows:
            by_deal[row.intent.deal_no].append(row)
        assert set(by_deal) <= set(numbers), f"orders of unknown deals: {set(by_deal) - set(numbers)}"
        assert sum(d.is_active for d in deals) <= params.max_active_deals
        singles = {BASE, *(safety_leg(i) for i in range(1, params.max_safety_orders + 1))}
        for record in deals:
            orders = by_deal.get(record.deal_no, [])
            where = f"deal {record.deal_no} ({record.phase})"
            legs = Counter(r.intent.leg for r in orders)
            assert all(legs[leg] <= 1 for leg in singles), f"{where}: a leg placed twice: {legs}"
            for leg in (TAKE_PROFIT, CLOSE):  # replaced legs: at most one attempt working at a time
                working = [r for r in orders if r.intent.leg == leg and r.state is IntentState.OPEN]
                assert len(working) <= 1, f"{where}: two {leg} orders working"
            base = next((r for r in orders if r.intent.leg == BASE), None)
            fills = [f for r in orders for f in r.fills]
            bought = sum((f.amount - f.fee for f in fills if f.side is OrderSide.BUY), Decimal(0))
            sold = sum((f.amount for f in fills if f.side is OrderSide.SELL), Decimal(0))
            assert sold <= bought, f"{where}: sold {sold} BTC but bought only {bought} (a sell sent twice?)"
            if record.phase == DealPhase.CLOSED:
                assert record.closed_ms is not None, where
                assert not [r for r in orders if r.state in (IntentState.OPEN, IntentState.PENDING)], where
                assert base is not None and base.state is IntentState.FILLED, where
                assert any(
                    r.intent.leg in (TAKE_PROFIT, CLOSE) and r.state is IntentState.FILLED for r in orders
                ), f"{where}: closed without its take-profit or closing sell filled"
                assert market.floor_amount(bought - sold) < market.min_amount, f"{where}: closed holding BTC"
            elif record.phase == DealPhase.OPEN:
                assert base is not None and base.state is IntentState.FILLED, where
            else:
                assert record.phase in (DealPhase.OPENING, DealPhase.CLOSING), where
            # the saved phase is what the controller reads from the journaled orders, with nothing left to do
            view = DealView(
                ep.ACCOUNT_ID,
                ep.BOT_ID,
                record.deal_no,
                record.symbol,
                tuple(orders),
                CloseReason(record.close_reason) if record.close_reason else None,
                record.trailing_high,
            )
            decision = decide(params, market, view, price, exchange.replay.now_ms())
            assert decision.phase.value == record.phase, f"{where}: the journal's orders say {decision.phase}"
            assert not decision.actions, f"{where}: left unsettled: {decision.actions}"

        #     the fills add up to the exchange's balances, exactly
        quote, base_asset = market.quote, market.base
        all_fills = list(journal_fills.values())
        buys = [f for f in all_fills if f.side is OrderSide.BUY]
        sells = [f for f in all_fills if f.side is OrderSide.SELL]
        assert {f.fee_asset for f in buys} <= {base_asset} and {f.fee_asset for f in sells} <= {quote}
        usdt = (
            ep.STARTING_USDT
            - sum((f.cost for f in buys), Decimal(0))
            + sum((f.cost for f in sells), Decimal(0))
            - sum((f.fee for f in sells), Decimal(0))
        )
        btc = sum((f.amount - f.fee for f in buys), Decimal(0)) - sum((f.amount for f in sells), Decimal(0))
        balances = await exchange.fetch_balances()
        assert exchange.starting_balances == {quote: ep.STARTING_USDT}
        assert balances[quote].total == usdt, f"USDT {balances[quote].total}, the fills say {usdt}"
        assert balances[base_asset].total == btc, f"BTC {balances[base_asset].total}, the fills say {btc}"
        assert all(b.total == 0 for a, b in balances.items() if a not in (quote, base_asset)), balances

        end_ms = int((data / ep.TARGET_FILE).read_text())
        assert exchange.replay.now_ms() == end_ms, "the last run did not reach the end"
    finally:
        await journal.close()
        await exchange.close()

    # (c) no client order id accepted twice, no accepted order lost. The exchange's API answers by client id
    # only (fetch_order) and lists open orders and fills, not closed orders without fills (canceled ones);
    # its state file is the book of every order it ever accepted, so it is read with the exchange's own
    # store. The paper exchange refuses a reused client id, keys its book by client id and numbers orders
    # 1, 2, 3...: exchange ids 1..N with N distinct client ids means that no acceptance was overwritten or
    # lost, and each of them is journaled under the same exchange id.
    store = await StateStore.open(data / "paper.sqlite3")
    try:
        account = await store.load()
    finally:
        await store.close()
    assert account is not None
    book = [s.order for s in account.orders]
    assert sorted(int(o.exchange_order_id) for o in book) == list(range(1, len(book) + 1)), "order ids gap"
    assert len({o.client_order_id for o in book}) == len(book), "a client order id was accepted twice"
    accepted = {o.client_order_id: o.exchange_order_id for o in book}
    in_journal = {r.client_order_id: r.exchange_order_id for r in rows if r.state in LIVE}
    assert accepted == in_journal, (
        f"at the exchange only: {sorted(accepted.keys() - in_journal.keys())}, "
        f"journaled only: {sorted(in_journal.keys() - accepted.keys())}"
    )

    minutes = (end_ms - int(bot.created_ms)) // ep.MINUTE_MS
    return (
        f"kills={tally.kills} (timed {tally.timed}, aimed {tally.aimed}) runs={tally.runs + 1} "
        f"minutes={minutes} (last run {tally.final_minutes}) deals={len(deals)} orders={len(rows)} "
        f"accepted={len(book)} fills={len(all_fills)} "
        f"killed_at={dict(sorted(tally.killed_at.items()))} found_at_restart={dict(tally.found)}"
    )


@pytest.mark.timeout(180)
def test_sigkill_at_any_moment_loses_no_deal_and_sends_no_order_twice(tmp_path: Path) -> None:
    t0 = time.monotonic()
    data, logs = tmp_path / "data", tmp_path / "logs"
    data.mkdir()
    logs.mkdir()
    tally = kill_again_and_again(data, logs)
    assert tally.timed >= MIN_TIMED_KILLS, f"only {tally.timed} kills before the end: raise MINUTES"
    assert tally.final_minutes > 0, (
        "the killed runs reached the end (the last run did nothing): raise MINUTES"
    )
    summary = asyncio.run(check(data, tally))
    print(f"\nsigkill: {summary} in {time.monotonic() - t0:.1f} s")
