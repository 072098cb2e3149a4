"""Order path overhead: the app's create-order path against a bare ccxt ``create_order``, in one run.

Both place orders on the same local exchange (``tests.exchange_server``, Binance's REST protocol with HMAC
signatures checked, in its own process, its replay at "max" so the market does not move):

- bare: ``ccxt.async_support.binance.create_order`` (pointed at the local exchange like the gateway);
- app: ``OrderExecutor.place(intent)``: the intent journaled as PENDING (``SqliteJournal``, WAL,
  ``synchronous=FULL``, committed before the request), ``CcxtGateway.create_order``, the answer journaled.

Each order is a limit buy of 0.001 BTC at half the last price (it rests: no fills, nothing matched), under
a new client order id. The two alternate order by order (bare, app, bare, app...) so that any drift (the
exchange's book grows) hits both alike; both clients are warmed up first (connection, markets). ccxt's
client-side throttle is off for both by default (the gateway keeps it on in the app: it spaces Binance
requests by weight, 10 ms per order, and would hide the journal's time under its wait); ``--throttle``
keeps it on for both.

Prints per order the median and p90 of each path, the ratio app/bare (goal <= 1.10), the time spent
inside the journal's calls (its share of the app path), the journal's settings as SQLite reports them, and
what they mean for durability.

    .venv/bin/python bench/order_path.py [--n 300] [--warmup 20] [--throttle] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway  # noqa: E402
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal  # noqa: E402
from cryptobots_desktop.core.credentials import ApiCredentials  # noqa: E402
from cryptobots_desktop.core.intents import IntentState, OrderIntent, client_order_id  # noqa: E402
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType  # noqa: E402
from cryptobots_desktop.engine.event_bus import EventBus  # noqa: E402
from cryptobots_desktop.engine.order_executor import OrderExecutor  # noqa: E402
from tests.exchange_server.fixture import LocalExchange, binance_client, start_subprocess  # noqa: E402

SYMBOL = "BTC/USDT"
AMOUNT = Decimal("0.001")
ACCOUNT = "bench"
JOURNAL_CALLS = ("record_intent", "record_order", "record_state", "get")
WRITER_CALLS = ("_record_intent", "_record_order", "_record_state", "_select")  # run on its writer thread


class TimedJournal:
    """Adds up the time spent inside the journal's calls (its methods wrapped on the instance), and the
    part of it on the journal's writer thread (SQLite, the commit's fsync): the rest is the hop there and
    back (``run_in_executor``)."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.spent = 0.0
        self.on_thread = 0.0
        for name in JOURNAL_CALLS:
            setattr(journal, name, self._timed(getattr(journal, name)))
        for name in WRITER_CALLS:
            setattr(journal, name, self._timed_sync(getattr(journal, name)))

    def _timed_sync(self, inner: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(*args)
            finally:
                self.on_thread += time.perf_counter() - start

        return wrapped

    def _timed(self, inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapped(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return await inner(*args)
            finally:
                self.spent += time.perf_counter() - start

        return wrapped


@dataclass
class Figures:
    bare: list[float] = field(default_factory=list)
    app: list[float] = field(default_factory=list)
    journal: list[float] = field(default_factory=list)
    on_thread: list[float] = field(default_factory=list)

    def print(self, title: str) -> None:
        ms = 1000.0
        bare, app = statistics.median(self.bare), statistics.median(self.app)
        rest = [a - j for a, j in zip(self.app, self.journal, strict=True)]
        print(title)
        print(f"  bare ccxt create_order    median {bare * ms:6.2f} ms   p90 {p90(self.bare) * ms:6.2f} ms")
        print(f"  app OrderExecutor.place   median {app * ms:6.2f} ms   p90 {p90(self.app) * ms:6.2f} ms")
        mean_ratio = statistics.fmean(self.app) / statistics.fmean(self.bare)
        print(f"  ratio app/bare            {app / bare:.3f} (medians; means {mean_ratio:.3f}; goal <= 1.10)")
        share = sum(self.journal) / sum(self.app)
        print(
            f"  journal's calls           median {statistics.median(self.journal) * ms:6.2f} ms   "
            f"p90 {p90(self.journal) * ms:6.2f} ms   share of the app path {share:.1%}"
        )
        print(
            f"    on its writer thread    median {statistics.median(self.on_thread) * ms:6.2f} ms "
            "(SQLite and the commits' fsyncs; the rest is the hop to the thread and back)"
        )
        print(f"  app path less journal     median {statistics.median(rest) * ms:6.2f} ms (gateway + ccxt)")


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def fsync_ms(folder: Path, n: int = 100) -> float:
    """The median time of one fsync of a 4 KiB append in ``folder`` (the disk's floor for a commit)."""
    path = folder / "fsync-probe"
    times = []
    with path.open("wb") as fh:
        for _ in range(n):
            fh.write(b"x" * 4096)
            fh.flush()
            start = time.perf_counter()
            os.fsync(fh.fileno())
            times.append(time.perf_counter() - start)
    path.unlink()
    return statistics.median(times) * 1000


class Bench:
    def __init__(self, exchange: LocalExchange, folder: Path, throttle: bool) -> None:
        self.exchange, self.folder, self.throttle = exchange, folder, throttle
        self.orders = 0

    async def run(self, phases: list[tuple[str, int, int, int]]) -> None:
        """``phases``: (title, injected latency ms, warm-up orders, measured orders) each."""
        exchange = self.exchange
        bare = binance_client(exchange, enableRateLimit=self.throttle)
        credentials = ApiCredentials(exchange.key, exchange.secret)
        gateway = CcxtGateway("binance", credentials, account_id=ACCOUNT, api_url=exchange.base_url)
        gateway._x.enableRateLimit = self.throttle  # the app keeps it on (see the docstring)
        journal = await SqliteJournal.open(self.folder / "journal.sqlite3")
        timed = TimedJournal(journal)
        executor = OrderExecutor(journal, gateway, EventBus(), ACCOUNT)
        try:
            await bare.load_markets()
            await gateway.load_markets()
            price = (await gateway.fetch_ticker(SYMBOL)).last
            limit = (price / 2).quantize(Decimal("0.01"))  # far under the price: the order rests
            for title, latency_ms, warmup, n in phases:
                exchange.clear_faults()
                if latency_ms:
                    exchange.add_fault(
                        "delay", delay_ms=latency_ms, method="POST", path="/api/v3/order", count=None
                    )
                figures = Figures()
                for i in range(warmup + n):
                    self.orders += 1
                    k = self.orders
                    start = time.perf_counter()
                    answer = await bare.create_order(
                        SYMBOL,
                        "limit",
                        "buy",
                        float(AMOUNT),
                        float(limit),
                        {"clientOrderId": f"benchbare{k}"},
                    )
                    bare_s = time.perf_counter() - start
                    assert answer["status"] == "open", answer

                    cid = client_order_id(ACCOUNT, k, "base", 0)
                    request = OrderRequest(SYMBOL, OrderSide.BUY, OrderType.LIMIT, AMOUNT, cid, limit)
                    intent = OrderIntent(ACCOUNT, ACCOUNT, k, "base", 0, request, int(time.time() * 1000))
                    spent, on_thread = timed.spent, timed.on_thread
                    start = time.perf_counter()
                    row = await executor.place(intent)
                    app_s = time.perf_counter() - start
                    assert row.state is IntentState.OPEN, row
                    if i >= warmup:
                        figures.bare.append(bare_s)
                        figures.app.append(app_s)
                        figures.journal.append(timed.spent - spent)
                        figures.on_thread.append(timed.on_thread - on_thread)
                figures.print(title)
            exchange.clear_faults()
            settings = await journal.settings()
        finally:
            await journal.close()
            await gateway.close()
            await bare.close()
        print(
            f"journal: journal_mode={settings.journal_mode} synchronous={settings.synchronous} "
            f"(as SQLite reports them; fullfsync on, for macOS); "
            f"one fsync on this disk: {fsync_ms(self.folder):.2f} ms"
        )
        print(DURABILITY)


DURABILITY = """durability: an order's intent is committed before its request leaves, its answer before anyone
  hears of it; with synchronous=FULL in WAL mode each commit fsyncs the WAL (2 fsyncs per order).
  - a killed process (crash, SIGKILL, ended from the task manager): every committed intent and answer
    survives; an order in flight stays PENDING and is settled by client order id at the next start.
  - a power cut or OS crash: the same, every committed transaction survives, since FULL syncs the WAL at
    each commit (NORMAL would lose the last commits, never the file's integrity)."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="orders per path (default 300)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--throttle", action="store_true", help="keep ccxt's client-side throttle on, both")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=20,
        help="then again with this delay on POST /api/v3/order (0: skip)",
    )
    parser.add_argument("--n-latency", type=int, default=100, help="orders per path with the delay")
    parser.add_argument("--dir", type=Path, help="where the journal goes (default: a temporary folder)")
    args = parser.parse_args()
    started = time.perf_counter()
    exchange = start_subprocess("--speed", "max", "--balance", "USDT=10000000")
    throttle = "on" if args.throttle else "off"
    phases = [
        (
            f"order path: {args.n} resting limit orders each, bare and app alternating, after {args.warmup} "
            f"each to warm up; ccxt's throttle {throttle} for both; the local exchange as it is",
            0,
            args.warmup,
            args.n,
        )
    ]
    if args.latency_ms:
        phases.append(
            (
                f"the same, {args.n_latency} orders each, the exchange answering orders {args.latency_ms} ms "
                "later (a real exchange's round trip; the local one's is ~2 ms)",
                args.latency_ms,
                5,
                args.n_latency,
            )
        )
    try:
        with tempfile.TemporaryDirectory(prefix="order-path-", dir=args.dir) as folder:
            asyncio.run(Bench(exchange, Path(folder), args.throttle).run(phases))
    finally:
        exchange.stop()
    print(f"({time.perf_counter() - started:.1f} s in all)")


if __name__ == "__main__":
    main()
