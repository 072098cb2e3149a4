"""The crash test on the live path: no deal lost, no order accepted twice, through real ccxt.

The engine (``tests.crash.engine_process --live``: the journal, reconciler, executor and DCA bot runner of
the paper test, trading through ``CcxtGateway("binance", ...)``) runs as a subprocess against the local
exchange (``tests.exchange_server``, Binance's REST protocol with signatures checked, its replay at "max")
in a separate process that outlives every kill. The engine moves the market itself, a minute at a time,
through the exchange's control endpoint. It is SIGKILLed again and again at random moments and at aimed
points of the order path, then runs to the end (in clean legs of at most ``LEG_MINUTES`` minutes: the
exchange's request log keeps its last 5,000 requests, and is read and emptied after each run).

Afterwards the journal and the exchange, asked through its API, agree one to one (``tests.crash.verify``):
every journaled order that is not REJECTED/NOT_PLACED is at the exchange in the same state with the same
fills, every fill of the account is journaled, the fills add up to the balances, no deal is missing; and
every order the exchange accepted is journaled and no client order id was accepted twice: the accepted
``POST /api/v3/order`` (status 200) in the request log are as many as the orders ``allOrders`` lists, those
are numbered 1..N with N distinct client order ids, and exactly these are the journal's. The exchange, as
Binance does, refuses a client order id only while its order is open (a closed one's id is accepted again),
so a resend by the app shows here as a repeated id or as a POST refused "Duplicate order sent.": neither
may happen.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptobots_desktop.adapters import ccxt_parse as parse
from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.orders import Fill, OrderSide
from tests.crash import engine_process as ep
from tests.crash.harness import KillPlan, Tally, kill_again_and_again
from tests.crash.verify import check_accepted, check_story
from tests.exchange_server.fixture import SubprocessExchange, binance_client, start_subprocess

SEED = int(os.environ.get("CRASH_SEED", "20230401"))
MIN_TIMED_KILLS = 30
PLAN = KillPlan(
    timed=32,
    aimed=8,  # two at each point of the order path (and a "state" after each "intent")
    delay_s=(0.05, 0.6),  # from the forked engine's "boot" (nothing opened yet) to the SIGKILL
    seed=SEED,
    leg_minutes=400,  # ~9 requests a minute (the bot asks for each open order): well under the log's 5,000
    aimed_wait_s=2.0,  # an armed run is not cut short by a random kill before its point comes
)
MINUTES = 2_400  # the killed runs get through ~350-1,200 of them (10-30 a run), the last legs the rest
LOG_SIZE = 5_000  # the local exchange keeps this many requests in its log
PAGE = 1_000  # allOrders / myTrades answer at most this many


class RequestLog:
    """The local exchange's request log, read and emptied after each run of the engine (when no client is
    left to add to it), so that no request is pushed out of it."""

    def __init__(self, exchange: SubprocessExchange) -> None:
        self.exchange = exchange
        self.counts: Counter[tuple[str, str, int]] = Counter()
        self.duplicates = 0  # POST /api/v3/order refused with -2010 "Duplicate order sent."
        self.most = 0

    def drain(self) -> None:
        # a request of the killed engine may still be in the server's hands for a moment: wait for quiet
        size, deadline = -1, time.monotonic() + 5
        while (now := int(self.exchange.state()["requests"])) != size and time.monotonic() < deadline:
            size = now
            time.sleep(0.05)
        assert size < LOG_SIZE, f"{size} requests in one run: the log may have lost some (lower leg_minutes)"
        self.most = max(self.most, size)
        requests = self.exchange.requests()
        self.counts.update((r["method"], r["path"], int(r["status"])) for r in requests)
        self.duplicates += sum(
            (r["method"], r["path"]) == ("POST", "/api/v3/order") and r["note"] == "Duplicate order sent."
            for r in requests
        )
        self.exchange.clear_requests()


async def paged(fetch: Any, key: str, from_param: str) -> list[dict[str, Any]]:
    """Every row of a Binance list that pages by id (``orderId`` for allOrders, ``fromId`` for myTrades)."""
    rows: list[dict[str, Any]] = []
    start = 0
    while True:
        page = await fetch(ep.SYMBOL, None, PAGE, {from_param: start})
        rows.extend(page)
        if len(page) < PAGE:
            return rows
        start = max(int(r["info"][key]) for r in page) + 1


async def check(exchange: SubprocessExchange, data: Path, tally: Tally, log: RequestLog) -> str:
    state = exchange.state()
    now_ms = int(state["replay_ms"])
    end_ms = int((data / ep.TARGET_FILE).read_text())
    assert now_ms == end_ms, "the last run did not reach the end"
    gateway = CcxtGateway(
        "binance", ApiCredentials(exchange.key, exchange.secret), account_id=ep.LIVE_ACCOUNT_ID,
        api_url=exchange.base_url,
    )  # fmt: skip
    gateway._x.enableRateLimit = False  # as in the engine: ccxt's throttle, 40 ms per order query
    raw = binance_client(exchange)
    journal = await SqliteJournal.open(data / "journal.sqlite3", clock=ep.ServerClock(now_ms))
    try:
        # The exchange's own lists, read with plain ccxt: every order it accepted, every trade.
        orders = await paged(raw.fetch_orders, "orderId", "orderId")
        trades = await paged(raw.fetch_my_trades, "id", "fromId")
        client_ids = {str(o["id"]): str(o["clientOrderId"]) for o in orders}
        exchange_fills: list[Fill] = [
            parse.fill(t, client_ids[str(t["order"])], OrderSide(str(t["side"]))) for t in trades
        ]
        story = await check_story(
            journal,
            gateway,
            ep.LIVE_ACCOUNT_ID,
            exchange_fills=exchange_fills,
            starting_usdt=ep.STARTING_USDT,
            now_ms=now_ms,
        )
    finally:
        await journal.close()
        await raw.close()
        await gateway.close()
    log.drain()

    # (c) no client order id accepted twice, no accepted order lost: each POST the exchange answered 200
    # made one order; allOrders lists them all, numbered 1..N, each under its own client order id; and
    # exactly these are journaled, under the same exchange ids.
    posts = {
        status: n
        for (method, path, status), n in log.counts.items()
        if (method, path) == ("POST", "/api/v3/order")
    }
    ids = sorted(int(o["id"]) for o in orders)
    assert ids == list(range(1, len(orders) + 1)), "order ids gap"
    twice = sorted(cid for cid, n in Counter(client_ids.values()).items() if n > 1)
    assert not twice, f"client order ids accepted more than once: {twice[:5]}"
    assert log.duplicates == 0, f"{log.duplicates} orders were sent again while open (Duplicate order sent.)"
    assert posts.get(200, 0) == len(orders), (
        f"{posts.get(200, 0)} orders accepted, allOrders lists {len(orders)}"
    )
    check_accepted({cid: oid for oid, cid in client_ids.items()}, story.rows)

    minutes = (end_ms - int(story.bot.created_ms)) // ep.MINUTE_MS
    refused = sum(n for status, n in posts.items() if status != 200)
    return (
        f"{tally.summary()} minutes={minutes} deals={story.deals} orders={len(story.rows)} "
        f"accepted={len(orders)} (POST refused {refused}, as duplicates {log.duplicates}) "
        f"fills={story.fills} "
        f"requests={sum(log.counts.values())} (at most {log.most} a run)"
    )


@pytest.fixture
def live_exchange() -> Iterator[SubprocessExchange]:
    """The local exchange in its own process, replay at "max", the account holding USDT only."""
    exchange = start_subprocess("--speed", "max", "--balance", f"USDT={ep.STARTING_USDT}")
    try:
        yield exchange
    finally:
        exchange.stop()


@pytest.mark.timeout(240)
def test_sigkill_on_the_live_path_loses_no_deal_and_accepts_no_order_twice(
    tmp_path: Path, live_exchange: SubprocessExchange
) -> None:
    t0 = time.monotonic()
    data, logs = tmp_path / "data", tmp_path / "logs"
    data.mkdir()
    logs.mkdir()
    log = RequestLog(live_exchange)
    live = ["--live", live_exchange.base_url, "--key", live_exchange.key, "--secret", live_exchange.secret]
    tally = kill_again_and_again([str(data), str(MINUTES), *live], logs, PLAN, fork=True, after_run=log.drain)
    assert tally.timed >= MIN_TIMED_KILLS, f"only {tally.timed} kills before the end: raise MINUTES"
    assert tally.final_minutes > 0, "the killed runs reached the end: raise MINUTES"
    summary = asyncio.run(check(live_exchange, data, tally, log))
    print(f"\nsigkill live: {summary} in {time.monotonic() - t0:.1f} s")
