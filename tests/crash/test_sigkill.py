"""No deal is lost and no order is sent twice, even when the app is killed at any moment.

The engine (``tests.crash.engine_process``: the real paper exchange, journal, reconciler, executor and DCA
bot runner) runs as a subprocess on one data folder and is SIGKILLed again and again at random moments,
then runs once to its end. The test process then opens the same files with the same classes and checks
that the journal and the exchange tell one and the same story, deal by deal and fill by fill
(``tests.crash.verify``). The same on the live path: ``test_sigkill_live``.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.paper.state_store import StateStore
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.replay import ReplaySpeed
from tests.crash import engine_process as ep
from tests.crash.harness import KillPlan, Tally, kill_again_and_again
from tests.crash.verify import check_accepted, check_story

SEED = int(os.environ.get("CRASH_SEED", "20230401"))  # another seed: other moments
MIN_TIMED_KILLS = 30
PLAN = KillPlan(
    timed=32,  # kills at a random moment; at least 30 are required
    aimed=15,  # and kills the engine does itself at a chosen point of the order path
    delay_s=(0.05, 0.6),  # from the child's first line (imports done, nothing opened) to the SIGKILL
    seed=SEED,
)
# ~8 days of replay: well over what the killed runs get through (~6,000 minutes here, ~130 per run), so that
# every kill lands mid-run and the last run still has days of trading to do
MINUTES = 12_000


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
        assert exchange.starting_balances == {"USDT": ep.STARTING_USDT}
        story = await check_story(
            journal,
            exchange,
            ep.ACCOUNT_ID,
            exchange_fills=list(await exchange.fetch_fills()),
            starting_usdt=ep.STARTING_USDT,
            now_ms=exchange.replay.now_ms(),
        )
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
    check_accepted({o.client_order_id: o.exchange_order_id for o in book}, story.rows)

    minutes = (end_ms - int(story.bot.created_ms)) // ep.MINUTE_MS
    return (
        f"{tally.summary()} minutes={minutes} deals={story.deals} orders={len(story.rows)} "
        f"accepted={len(book)} fills={story.fills}"
    )


@pytest.mark.timeout(180)
def test_sigkill_at_any_moment_loses_no_deal_and_sends_no_order_twice(tmp_path: Path) -> None:
    t0 = time.monotonic()
    data, logs = tmp_path / "data", tmp_path / "logs"
    data.mkdir()
    logs.mkdir()
    tally = kill_again_and_again([str(data), str(MINUTES)], logs, PLAN)
    assert tally.timed >= MIN_TIMED_KILLS, f"only {tally.timed} kills before the end: raise MINUTES"
    assert tally.final_minutes > 0, (
        "the killed runs reached the end (the last run did nothing): raise MINUTES"
    )
    summary = asyncio.run(check(data, tally))
    print(f"\nsigkill: {summary} in {time.monotonic() - t0:.1f} s")
