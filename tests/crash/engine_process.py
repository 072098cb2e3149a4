"""The engine as its own process, to be killed at any moment: ``python -m tests.crash.engine_process DIR N``.

It does what the app's engine does at every start, with the real classes and files: open (or reopen) the
paper exchange and the order journal in DIR, reconcile every PENDING/OPEN order with the exchange, save the
bot if the journal has none, rebuild the bot's deals from the journal, then step the replay minute by
minute (the exchange matches the minute, the bot reacts to the new price) until the replay is MINUTES
minutes past where the very first start found it (that target is kept in DIR, so every restart runs to the
same end). Orders the exchange never received (NOT_PLACED) are resent by the bot's controller itself, under
the same client order id, on its next step.

stdout, one flushed line each: ``boot`` (imports done, nothing opened yet), ``ready ...`` (what the
reconciliation found), ``minute ...`` per replayed minute, ``done`` after a clean close.

Aimed kills: with ``CRASH_POINT`` and ``CRASH_AFTER=N`` in the environment, the process SIGKILLs itself at
the N-th passage through that point of the order path (a kill at a random moment rarely lands in a window
a millisecond wide). The journal's methods are wrapped on the instance, nothing else changes:

- ``intent``: right after an intent is committed as PENDING, before it is sent;
- ``answer``: right before the exchange's report of an order (placed, filled, canceled) is journaled;
- ``fill``: the same, for a report that carries fills (the exchange has booked them, the journal not);
- ``state``: right after a state the exchange did not report (NOT_PLACED, PENDING for a resend) is saved;
- ``deal``: right after a deal's record is saved (a new deal with no order yet, a close reason...).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.orders import Order
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.engine.dca_runner import DcaBotRunner
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor

ROOT = Path(__file__).resolve().parents[2]
MARKET_DATA = ROOT / "resources" / "market_data"
DATASET = "binance_spot_2023"
ACCOUNT_ID = "paper"
BOT_ID = "crash"
SYMBOL = "BTC/USDT"
STARTING_USDT = Decimal(10_000)
MINUTE_MS = 60_000
TARGET_FILE = "target_ms"
# Small steps, so that deals, safety orders, take-profit replacements, cancels and closing sells come
# every few minutes.
PARAMS = DcaParams(
    base_order_size=Decimal(20),
    safety_order_size=Decimal(20),
    max_safety_orders=4,
    price_deviation_pct=Decimal("0.15"),
    take_profit_pct=Decimal("0.2"),
    stop_loss_pct=Decimal("0.8"),  # a deal the price left behind closes: the bot never sits idle for long
    max_active_deals=2,
)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def target_ms(data_dir: Path, default: int) -> int:
    """The replay time to run to: read from DIR, or (first start) ``default`` written there durably."""
    path = data_dir / TARGET_FILE
    if path.exists():
        return int(path.read_text(encoding="ascii"))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="ascii") as fh:
        fh.write(str(default))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return default


def arm_crash(journal: SqliteJournal, point: str, after: int) -> None:
    """SIGKILL this process at the ``after``-th passage through ``point`` (see the module's docstring)."""
    left = [after]

    def hit() -> None:
        left[0] -= 1
        if left[0] == 0:
            say(f"crash {point}")
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(name: str, *, before: Callable[..., bool] | None = None) -> None:
        inner: Callable[..., Awaitable[object]] = getattr(journal, name)

        async def wrapped(*args: object) -> object:
            if before is not None and before(*args):
                hit()
            result = await inner(*args)
            if before is None:
                hit()
            return result

        setattr(journal, name, wrapped)

    if point == "intent":
        wrap("record_intent")
    elif point == "answer":
        wrap("record_order", before=lambda _cid, _order: True)
    elif point == "fill":
        wrap("record_order", before=lambda _cid, order: bool(isinstance(order, Order) and order.fills))
    elif point == "state":
        wrap("record_state")
    elif point == "deal":
        wrap("save_deal")
    else:
        raise ValueError(f"unknown crash point {point!r}")


async def run(data_dir: Path, minutes: int) -> None:
    exchange = await PaperExchange.open(
        market_data_dir=MARKET_DATA,
        dataset=DATASET,
        state_path=data_dir / "paper.sqlite3",
        starting_balances={"USDT": STARTING_USDT},
        speed=ReplaySpeed.MAX,
    )
    try:
        journal = await SqliteJournal.open(data_dir / "journal.sqlite3", clock=exchange.replay)
        try:
            # Before the first step the replay has not moved: the first start fixes the end of the run.
            end = target_ms(data_dir, exchange.replay.now_ms() + minutes * MINUTE_MS)
            if os.environ.get("CRASH_POINT"):
                arm_crash(journal, os.environ["CRASH_POINT"], int(os.environ["CRASH_AFTER"]))
            bus = EventBus()
            executor = OrderExecutor(journal, exchange, bus, ACCOUNT_ID)
            before = {r.client_order_id: r.state for r in await journal.needing_reconciliation(ACCOUNT_ID)}
            report = await executor.reconciler.reconcile_all()  # what the app does first at every start
            found: Counter[str] = Counter()
            for row in report.updated:
                was = before.get(row.client_order_id)
                found["adopted" if was is IntentState.PENDING else "caught_up"] += 1
            found["not_placed"] = len(report.not_placed)
            found["unresolved"] = len(report.unresolved)
            bot = next((b for b in await journal.bots() if b.bot_id == BOT_ID), None)
            if bot is None:
                bot = BotRecord(
                    BOT_ID,
                    "Crash test DCA",
                    ACCOUNT_ID,
                    StrategyKind.DCA,
                    (SYMBOL,),
                    PARAMS.model_dump_json(),
                    BotStatus.RUNNING,
                    exchange.replay.now_ms(),
                )
                await journal.save_bot(bot)
            params = DcaParams.model_validate_json(bot.params_json)
            runner = DcaBotRunner(
                bot, params, exchange.markets[SYMBOL], journal, executor, bus, exchange.replay
            )
            await runner.load()
            counts = " ".join(f"{k}={found[k]}" for k in ("adopted", "caught_up", "not_placed", "unresolved"))
            say(f"ready replay_ms={exchange.replay.now_ms()} end_ms={end} {counts}")
            while exchange.replay.now_ms() < end:
                exchange.replay.step(MINUTE_MS)
                price = (await exchange.fetch_ticker(SYMBOL)).last
                await runner.step(price)
                active = len(runner.active_deals)
                say(f"minute replay_ms={exchange.replay.now_ms()} price={price} active={active}")
        finally:
            await journal.close()
    finally:
        await exchange.close()
    say("done")


def main() -> None:
    say("boot")
    data_dir, minutes = Path(sys.argv[1]), int(sys.argv[2])
    asyncio.run(run(data_dir, minutes))


if __name__ == "__main__":
    main()
