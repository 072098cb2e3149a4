"""The engine as its own process, to be killed at any moment:
``python -m tests.crash.engine_process DIR N [--live URL --key K --secret S] [--stop-after M]``
(or many of them, forked one after another by ``python -m tests.crash.engine_process --fork-server``).

It does what the app's engine does at every start, with the real classes and files: open (or reopen) the
exchange account and the order journal in DIR, reconcile every PENDING/OPEN order with the exchange, save the
bot if the journal has none, rebuild the bot's deals from the journal, then step the replay minute by
minute (the exchange matches the minute, the bot reacts to the new price) until the replay is MINUTES
minutes past where the very first start found it (that target is kept in DIR, so every restart runs to the
same end). Orders the exchange never received (NOT_PLACED) are resent by the bot's controller itself, under
the same client order id, on its next step.

Two venues, the same engine:

- paper (default): the app's ``PaperExchange`` with its state file in DIR; a minute is ``replay.step``;
- ``--live URL``: the live path, ``CcxtGateway("binance", ...)`` (real ccxt, signed requests) against the
  local exchange of ``tests.exchange_server`` at URL, a separate process that outlives every kill of this
  one. Its replay runs at "max": this process moves the market itself each minute through the exchange's
  control endpoint (``POST /_control/replay {"advance_ms": 60000}``), then steps the bot on the ticker
  the gateway reads. The journal's and the bot's clock is the exchange's replay time, as last reported.

stdout, one flushed line each: ``boot`` (imports done, nothing opened yet), ``ready ...`` (what the
reconciliation found), ``minute ...`` per replayed minute, ``done`` after a clean close at the end
(``paused`` after a clean close once ``--stop-after`` M minutes were stepped).

Aimed kills: with ``CRASH_POINT`` and ``CRASH_AFTER=N`` in the environment (or in the fork server's
request), the process SIGKILLs itself at the N-th passage through that point of the order path (a kill at
a random moment rarely lands in a window a millisecond wide). The journal's methods are wrapped on the
instance, nothing else changes:

- ``intent``: right after an intent is committed as PENDING, before it is sent;
- ``answer``: right before the exchange's report of an order (placed, filled, canceled) is journaled;
- ``fill``: the same, for a report that carries fills (the exchange has booked them, the journal not);
- ``state``: right after a state the exchange did not report (NOT_PLACED, PENDING for a resend) is saved;
- ``deal``: right after a deal's record is saved (a new deal with no order yet, a close reason...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiohttp

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.intents import IntentState
from cryptobots_desktop.core.orders import Order
from cryptobots_desktop.core.ports import Clock, ExchangeGateway
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.engine.dca_runner import DcaBotRunner
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor

ROOT = Path(__file__).resolve().parents[2]
MARKET_DATA = ROOT / "resources" / "market_data"
DATASET = "binance_spot_2023"
ACCOUNT_ID = "paper"
LIVE_ACCOUNT_ID = "binance-local"
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


@dataclass
class Venue:
    """Where the engine trades: the account (an ``ExchangeGateway``), its market clock, and how a minute
    passes (``advance``: the market moves forward by that many ms)."""

    gateway: ExchangeGateway
    account_id: str
    clock: Clock
    advance: Callable[[int], Awaitable[None]]
    late_acceptance_s: float = 0.0  # as the app's executor has it (the live gateway's; none on paper)


@asynccontextmanager
async def paper_venue(data_dir: Path) -> AsyncIterator[Venue]:
    exchange = await PaperExchange.open(
        market_data_dir=MARKET_DATA,
        dataset=DATASET,
        state_path=data_dir / "paper.sqlite3",
        starting_balances={"USDT": STARTING_USDT},
        speed=ReplaySpeed.MAX,
    )

    async def advance(ms: int) -> None:
        exchange.replay.step(ms)

    try:
        yield Venue(exchange, ACCOUNT_ID, exchange.replay, advance)
    finally:
        await exchange.close()


class ServerClock:
    """The local exchange's market (replay) time, as it last reported it: every advance reports it."""

    def __init__(self, now_ms: int) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms


@asynccontextmanager
async def live_venue(url: str, key: str, secret: str) -> AsyncIterator[Venue]:
    """The live path: ``CcxtGateway`` (real ccxt) on the local exchange at ``url``, whose replay this
    process moves through the exchange's control endpoint."""
    from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway  # imported before "boot"

    gateway = CcxtGateway("binance", ApiCredentials(key, secret), account_id=LIVE_ACCOUNT_ID, api_url=url)
    # ccxt's client-side throttle spaces Binance requests by their weight (40 ms per order query, and the
    # bot asks for each open order every minute): ~0.4 s per replayed minute here, for nothing this test
    # is about. The local exchange has no limit unless told; the app keeps the throttle on.
    gateway._x.enableRateLimit = False
    session = aiohttp.ClientSession(base_url=url, timeout=aiohttp.ClientTimeout(total=30))
    try:
        async with session.get("/_control/state") as response:
            response.raise_for_status()
            clock = ServerClock(int((await response.json())["replay_ms"]))

        async def advance(ms: int) -> None:
            async with session.post("/_control/replay", json={"advance_ms": ms}) as response:
                response.raise_for_status()
                clock.ms = int((await response.json())["replay_ms"])

        yield Venue(gateway, LIVE_ACCOUNT_ID, clock, advance, gateway.late_acceptance_s)
    finally:
        await session.close()
        await gateway.close()


async def run(
    data_dir: Path, minutes: int, venue: Venue, crash: tuple[str, int] | None, stop_after: int | None
) -> bool:
    """Reconcile, load the bot, step it to the end (True), or for ``stop_after`` minutes (False)."""
    gateway, clock = venue.gateway, venue.clock
    journal = await SqliteJournal.open(data_dir / "journal.sqlite3", clock=clock)
    try:
        # Before the first step the market has not moved: the first start fixes the end of the run.
        end = target_ms(data_dir, clock.now_ms() + minutes * MINUTE_MS)
        if crash is not None:
            arm_crash(journal, *crash)
        bus = EventBus()
        executor = OrderExecutor(
            journal, gateway, bus, venue.account_id, late_acceptance_s=venue.late_acceptance_s, clock=clock
        )
        before = {r.client_order_id: r.state for r in await journal.needing_reconciliation(venue.account_id)}
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
                venue.account_id,
                StrategyKind.DCA,
                (SYMBOL,),
                PARAMS.model_dump_json(),
                BotStatus.RUNNING,
                clock.now_ms(),
            )
            await journal.save_bot(bot)
        params = DcaParams.model_validate_json(bot.params_json)
        market = (await gateway.load_markets())[SYMBOL]
        runner = DcaBotRunner(bot, params, market, journal, executor, bus, clock)
        await runner.load()
        counts = " ".join(f"{k}={found[k]}" for k in ("adopted", "caught_up", "not_placed", "unresolved"))
        say(f"ready replay_ms={clock.now_ms()} end_ms={end} {counts}")
        stepped = 0
        while clock.now_ms() < end:
            if stop_after is not None and stepped == stop_after:
                return False
            stepped += 1
            await venue.advance(MINUTE_MS)
            price = (await gateway.fetch_ticker(SYMBOL)).last
            await runner.step(price)
            active = len(runner.active_deals)
            say(f"minute replay_ms={clock.now_ms()} price={price} active={active}")
        return True
    finally:
        await journal.close()


async def main_async(args: argparse.Namespace, crash: tuple[str, int] | None) -> None:
    venue = live_venue(args.live, args.key, args.secret) if args.live else paper_venue(args.data_dir)
    async with venue as opened:
        finished = await run(args.data_dir, args.minutes, opened, crash, args.stop_after)
    say("done" if finished else "paused")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.crash.engine_process")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("minutes", type=int)
    parser.add_argument("--live", metavar="URL", help="trade through ccxt on the local exchange at URL")
    parser.add_argument("--key", default="", help="the local exchange's API key (with --live)")
    parser.add_argument("--secret", default="", help="and its secret")
    parser.add_argument("--stop-after", type=int, help='stop cleanly after this many minutes ("paused")')
    return parser


def engine(argv: list[str], crash: tuple[str, int] | None) -> None:
    args = parser().parse_args(argv)
    if args.live:
        import cryptobots_desktop.adapters.ccxt_gateway  # noqa: F401  (ccxt: ~0.5 s, before "boot")
    say("boot")
    asyncio.run(main_async(args, crash))


def fork_server() -> None:
    """``--fork-server``: import everything once, then start each engine as a fork of this process.

    One JSON request a line on stdin, one answer a line on stdout: ``{"start": ARGV, "out": PATH,
    "err": PATH, "crash": [POINT, N] | null}`` forks an engine (stdout and stderr to those files) and
    answers ``pid PID``; ``{"wait": PID}`` answers ``exit CODE`` once it has ended (-9: SIGKILLed). The
    engine opens nothing before it is forked: a fresh engine, without the second of imports (ccxt) that
    would otherwise come before every run.
    """
    import cryptobots_desktop.adapters.ccxt_gateway  # noqa: F401

    say("fork-server")
    while line := sys.stdin.readline():
        request = json.loads(line)
        if "wait" in request:
            _, status = os.waitpid(int(request["wait"]), 0)
            say(f"exit {os.waitstatus_to_exitcode(status)}")
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            say(f"pid {pid}")
            continue
        code = 1
        try:  # the engine, in the child: never back into the loop above
            for fd, path, flags in (
                (0, os.devnull, os.O_RDONLY),
                (1, request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                (2, request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            ):
                opened = os.open(path, flags, 0o644)
                os.dup2(opened, fd)
                os.close(opened)
            crash = request["crash"]
            engine(request["start"], (crash[0], int(crash[1])) if crash else None)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


def main() -> None:
    if sys.argv[1:] == ["--fork-server"]:
        fork_server()
        return
    crash = None
    if os.environ.get("CRASH_POINT"):
        crash = (os.environ["CRASH_POINT"], int(os.environ["CRASH_AFTER"]))
    engine(sys.argv[1:], crash)


if __name__ == "__main__":
    main()
