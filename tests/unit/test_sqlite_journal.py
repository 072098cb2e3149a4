"""The SQLite order journal on real files: exact round trips, state rules, reopening, durability settings,
bots and deals, the upgrade from journal format 1, the writer thread, and committed writes surviving a
SIGKILL."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal as D  # noqa: N817
from pathlib import Path
from typing import TypeVar

import pytest

from cryptobots_desktop.adapters.journal import schema
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus, DealRecord, StrategyKind
from cryptobots_desktop.core.errors import CryptobotsError, DuplicateClientOrderId
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType

ROOT = Path(__file__).resolve().parents[2]
S = IntentState
T = TypeVar("T")


def intent(
    bot: str = "b1",
    deal: int = 1,
    leg: str = "base",
    attempt: int = 0,
    *,
    account: str = "acc1",
    created_ms: int = 1_000,
    amount: D = D("0.00012000"),
    price: D | None = D("27123.45000000"),
) -> OrderIntent:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    cid = client_order_id(bot, deal, leg, attempt)
    request = OrderRequest("BTC/USDT", OrderSide.BUY, kind, amount, cid, price)
    return OrderIntent(account, bot, deal, leg, attempt, request, created_ms)


def fill(i: OrderIntent, trade_id: str, amount: D = D("0.00006000"), ts_ms: int = 2_000) -> Fill:
    r = i.request
    price = r.price or D("27000.1")
    return Fill(trade_id, r.client_order_id, r.symbol, r.side, price, amount, D("6E-8"), "BTC", ts_ms, True)


def order(i: OrderIntent, status: OrderStatus, *fills: Fill, updated_ms: int = 2_000) -> Order:
    r = i.request
    return Order(
        "9001", r.client_order_id, r.symbol, r.side, r.type, r.amount, r.price, status, i.created_ms,
        updated_ms, fills,
    )  # fmt: skip


def bot(
    bot_id: str = "b1",
    created_ms: int = 1_000,
    *,
    status: BotStatus = BotStatus.RUNNING,
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
    params_json: str = '{"base_order_size":"10.00","take_profit_pct":"1.5","trailing_deviation_pct":null}',
    error: str | None = None,
) -> BotRecord:
    return BotRecord(
        bot_id, f"Bot {bot_id}", "acc1", StrategyKind.DCA, symbols, params_json, status, created_ms, error
    )


def deal(
    bot_id: str = "b1",
    deal_no: int = 1,
    phase: str = "open",
    *,
    close_reason: str | None = None,
    trailing_high: D | None = None,
    closed_ms: int | None = None,
    note: str | None = None,
) -> DealRecord:
    return DealRecord(bot_id, deal_no, "BTC/USDT", phase, 5_000, close_reason, trailing_high, closed_ms, note)


def with_journal(path: Path, body: Callable[[SqliteJournal], Awaitable[T]], synchronous: str = "FULL") -> T:
    async def main() -> T:
        journal = await SqliteJournal.open(path, synchronous=synchronous)
        try:
            return await body(journal)
        finally:
            await journal.close()

    return asyncio.run(main())


def test_round_trip_keeps_intents_fills_and_decimals_exactly(tmp_path: Path) -> None:
    limit = intent(amount=D("0.00012000"), price=D("27123.45000000"))
    market = intent(leg="tp", amount=D("1E-8"), price=None, created_ms=1_500)
    f1, f2 = fill(limit, "t1", D("0.00004000")), fill(limit, "t2", D("0.00008000"), ts_ms=2_500)

    async def body(j: SqliteJournal) -> tuple[JournaledOrder, ...]:
        pending = await j.record_intent(limit)
        assert pending == JournaledOrder(limit, S.PENDING, updated_ms=limit.created_ms)
        await j.record_intent(market)
        done = await j.record_order(limit.client_order_id, order(limit, OrderStatus.FILLED, f1, f2))
        assert done.state is S.FILLED and done.exchange_order_id == "9001" and done.fills == (f1, f2)
        assert await j.get(limit.client_order_id) == done
        assert await j.get("cbnone-1-base-0") is None
        return done, (await j.get(market.client_order_id)) or pending

    done, market_row = with_journal(tmp_path / "j.sqlite3", body)
    again = with_journal(tmp_path / "j.sqlite3", lambda j: j.orders_of_bot("b1"))
    assert list(again) == [done, market_row]
    # exactly the same Decimals, down to trailing zeros and exponent
    assert str(again[0].intent.request.amount) == "0.00012000"
    assert str(again[0].intent.request.price) == "27123.45000000"
    assert [str(f.fee) for f in again[0].fills] == ["6E-8", "6E-8"]
    assert str(again[1].intent.request.amount) == "1E-8" and again[1].intent.request.price is None


def test_a_reused_client_order_id_is_refused_and_the_first_kept(tmp_path: Path) -> None:
    first = intent()
    twin = intent(amount=D("5"), created_ms=9_999)

    async def body(j: SqliteJournal) -> None:
        await j.record_intent(first)
        await j.record_order(first.client_order_id, order(first, OrderStatus.OPEN))
        with pytest.raises(DuplicateClientOrderId, match="already in the journal"):
            await j.record_intent(twin)
        row = await j.get(first.client_order_id)
        assert row is not None and row.intent == first and row.state is S.OPEN

    with_journal(tmp_path / "j.sqlite3", body)


def test_allowed_state_moves(tmp_path: Path) -> None:
    i = intent()
    cid = i.client_order_id

    async def body(j: SqliteJournal) -> None:
        await j.record_intent(i)
        row = await j.record_state(cid, S.PENDING, "timed out")  # an ambiguous failure, noted
        assert (row.state, row.error) == (S.PENDING, "timed out") and row.updated_ms > i.created_ms
        assert (await j.record_state(cid, S.NOT_PLACED, "never received")).state is S.NOT_PLACED
        assert await j.record_state(cid, S.NOT_PLACED, "never received") == await j.get(cid)  # a repeat
        assert (await j.record_state(cid, S.PENDING)).error is None  # a retry under the same id
        row = await j.record_state(cid, S.REJECTED, "Insufficient balance")
        assert (row.state, row.error) == (S.REJECTED, "Insufficient balance")
        assert await j.get(cid) == row

    with_journal(tmp_path / "j.sqlite3", body)


@pytest.mark.parametrize(
    ("reached", "new"),
    [
        (S.PENDING, S.OPEN),
        (S.PENDING, S.FILLED),
        (S.PENDING, S.CANCELED),
        (S.OPEN, S.PENDING),
        (S.OPEN, S.REJECTED),
        (S.FILLED, S.PENDING),
        (S.FILLED, S.NOT_PLACED),
        (S.CANCELED, S.REJECTED),
        (S.REJECTED, S.PENDING),
        (S.NOT_PLACED, S.REJECTED),
    ],
)
def test_nonsense_state_moves_are_refused(tmp_path: Path, reached: IntentState, new: IntentState) -> None:
    i = intent()
    cid = i.client_order_id

    async def body(j: SqliteJournal) -> None:
        await j.record_intent(i)
        if reached in (S.OPEN, S.FILLED, S.CANCELED):
            status = {
                S.OPEN: OrderStatus.OPEN,
                S.FILLED: OrderStatus.FILLED,
                S.CANCELED: OrderStatus.CANCELED,
            }
            await j.record_order(cid, order(i, status[reached]))
        elif reached is not S.PENDING:
            await j.record_state(cid, reached, "why")
        before = await j.get(cid)
        with pytest.raises(ValueError, match=f"not set to {new.value}"):
            await j.record_state(cid, new)
        assert await j.get(cid) == before

    with_journal(tmp_path / "j.sqlite3", body)


def test_unknown_client_order_ids_and_reports_of_other_orders_raise_value_error(tmp_path: Path) -> None:
    i, other = intent(), intent(deal=2)

    async def body(j: SqliteJournal) -> None:
        with pytest.raises(ValueError, match="No order with client order id"):
            await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN))
        with pytest.raises(ValueError, match="No order with client order id"):
            await j.record_state(i.client_order_id, S.REJECTED)
        await j.record_intent(i)
        with pytest.raises(ValueError, match="can't record"):
            await j.record_order(i.client_order_id, order(other, OrderStatus.OPEN))
        with pytest.raises(ValueError, match="belongs to order"):
            await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN, fill(other, "t9")))
        assert await j.get(i.client_order_id) == JournaledOrder(i, S.PENDING, updated_ms=i.created_ms)

    with_journal(tmp_path / "j.sqlite3", body)


def test_record_order_is_idempotent_and_fills_are_kept_once_by_trade_id(tmp_path: Path) -> None:
    i = intent()
    cid = i.client_order_id
    f1, f2, f3 = fill(i, "t1"), fill(i, "t2"), fill(i, "t3")

    async def body(j: SqliteJournal) -> None:
        await j.record_intent(i)
        once = await j.record_order(cid, order(i, OrderStatus.OPEN, f1))
        assert await j.record_order(cid, order(i, OrderStatus.OPEN, f1)) == once
        assert (await j.record_order(cid, order(i, OrderStatus.OPEN, f1, f2))).fills == (f1, f2)
        # the trade id repeated within one report, and the old fills again: each fill is kept once
        last = await j.record_order(cid, order(i, OrderStatus.FILLED, f2, f1, f3, f3, updated_ms=3_000))
        assert last.fills == (f1, f2, f3) and last.state is S.FILLED
        assert await j.record_order(cid, order(i, OrderStatus.FILLED, f1, f2, f3, updated_ms=3_000)) == last
        assert await j.get(cid) == last

    with_journal(tmp_path / "j.sqlite3", body)


def test_a_final_state_is_not_moved_back_by_a_stale_report(tmp_path: Path) -> None:
    i, c = intent(), intent(deal=2)
    f1, f2 = fill(i, "t1"), fill(i, "t2")

    async def body(j: SqliteJournal) -> None:
        await j.record_intent(i)
        filled = await j.record_order(i.client_order_id, order(i, OrderStatus.FILLED, f1, updated_ms=5_000))
        stale = await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN, updated_ms=4_000))
        assert stale == filled
        # a late report still adds a fill it carries (a fill is a fact), keeping the final state
        late = await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN, f1, f2, updated_ms=4_500))
        assert (late.state, late.fills, late.updated_ms) == (S.FILLED, (f1, f2), 5_000)
        await j.record_intent(c)
        canceled = await j.record_order(c.client_order_id, order(c, OrderStatus.CANCELED))
        assert (await j.record_order(c.client_order_id, order(c, OrderStatus.FILLED))).state is S.CANCELED
        assert await j.get(c.client_order_id) == canceled
        # a report after a NOT_PLACED verdict wins: the exchange has the order after all
        n = intent(deal=3)
        await j.record_intent(n)
        await j.record_state(n.client_order_id, S.NOT_PLACED, "absent")
        assert (await j.record_order(n.client_order_id, order(n, OrderStatus.OPEN))).state is S.OPEN

    with_journal(tmp_path / "j.sqlite3", body)


def test_needing_reconciliation_is_pending_and_open_of_one_account_oldest_first(tmp_path: Path) -> None:
    async def body(j: SqliteJournal) -> Sequence[str]:
        rows = {}
        for deal, created, account in [
            (1, 300, "a"),
            (2, 100, "a"),
            (3, 200, "a"),
            (4, 50, "b"),
            (5, 300, "a"),
        ]:
            rows[deal] = await j.record_intent(intent(deal=deal, created_ms=created, account=account))
        open_ = rows[2].intent
        await j.record_order(open_.client_order_id, order(open_, OrderStatus.OPEN))
        filled = rows[3].intent
        await j.record_order(filled.client_order_id, order(filled, OrderStatus.FILLED))
        await j.record_state(rows[5].client_order_id, S.NOT_PLACED)
        await j.record_intent(intent(deal=6, created_ms=300, account="a"))  # same time as deal 1: after it
        assert [r.intent.deal_no for r in await j.needing_reconciliation("b")] == [4]
        assert await j.needing_reconciliation("nobody") == []
        return [r.client_order_id for r in await j.needing_reconciliation("a")]

    found = with_journal(tmp_path / "j.sqlite3", body)
    assert found == ["cbb1-2-base-0", "cbb1-1-base-0", "cbb1-6-base-0"]


def test_orders_of_bot_are_all_of_its_orders_oldest_first_with_fills(tmp_path: Path) -> None:
    a1, a2, other = intent("a", 1, created_ms=20), intent("a", 2, created_ms=10), intent("z", 1)

    async def body(j: SqliteJournal) -> None:
        for i in (a1, a2, other):
            await j.record_intent(i)
        done = await j.record_order(a1.client_order_id, order(a1, OrderStatus.FILLED, fill(a1, "t1")))
        rejected = await j.record_state(a2.client_order_id, S.REJECTED, "no")
        assert list(await j.orders_of_bot("a")) == [rejected, done]
        assert [r.intent for r in await j.orders_of_bot("z")] == [other]
        assert await j.orders_of_bot("nobody") == []

    with_journal(tmp_path / "j.sqlite3", body)


def journal_threads() -> set[int | None]:
    """The journals' threads now alive (other tests' apps may hold journals of their own)."""
    return {t.ident for t in threading.enumerate() if t.name.startswith("journal")}


def test_reopening_after_close_keeps_everything_and_close_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "j.sqlite3"  # folders are created
    intents = [intent(deal=n, created_ms=n) for n in range(20)]

    async def main() -> None:
        before = journal_threads()
        j = await SqliteJournal.open(path)
        written = []
        for i in intents:
            await j.record_intent(i)
            written.append(await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN, fill(i, "x"))))
        await j.close()
        await j.close()
        with pytest.raises(CryptobotsError, match="closed"):
            await j.get(intents[0].client_order_id)
        assert journal_threads() <= before, "the closed journal's thread is gone"
        j = await SqliteJournal.open(path)
        assert list(await j.orders_of_bot("b1")) == written
        assert list(await j.needing_reconciliation("acc1")) == written
        await j.close()

    asyncio.run(main())


@pytest.mark.parametrize("level", ["FULL", "NORMAL", "extra"])
def test_wal_mode_and_the_synchronous_level_are_in_effect(tmp_path: Path, level: str) -> None:
    settings = with_journal(tmp_path / "j.sqlite3", lambda j: j.settings(), synchronous=level)
    assert settings.journal_mode == "wal"
    assert settings.synchronous == level.upper()
    assert settings.foreign_keys and settings.busy_timeout_ms >= 1_000
    assert settings.schema_version == schema.SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "j.sqlite3") as raw:  # WAL is a property of the file itself
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError, match="synchronous"):
        asyncio.run(SqliteJournal.open(tmp_path / "k.sqlite3", synchronous="OFF"))


def test_an_empty_file_is_brought_to_the_current_schema_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.touch()
    assert with_journal(path, lambda j: j.settings()).schema_version == schema.SCHEMA_VERSION
    raw = sqlite3.connect(path)
    tables = raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    raw.close()
    names = {t[0] for t in tables}
    assert {"intents", "fills", "intents_by_account_state", "intents_by_bot", "bots", "deals"} <= names
    assert with_journal(path, lambda j: j.settings()).schema_version == schema.SCHEMA_VERSION
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == tables
    raw.close()


def test_a_journal_from_a_newer_app_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE future (x)")
        raw.execute("PRAGMA user_version = 99")
    raw.close()
    before = journal_threads()
    with pytest.raises(CryptobotsError, match="written by a newer version of Cryptobots Desktop"):
        asyncio.run(SqliteJournal.open(path))
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 99
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not even switched to WAL
    raw.close()
    assert journal_threads() <= before, "the refused journal left no thread behind"


def test_migration_steps_run_in_order_one_transaction_each(tmp_path: Path) -> None:
    steps = [("CREATE TABLE one (x)",), ("CREATE TABLE two (x)", "CREATE TABLE broken (")]
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, tmp_path / "m.sqlite3", steps)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert schema.user_version(conn) == 1 and names == {"one"}  # step 2 rolled back whole
    steps[1] = ("CREATE TABLE two (x)",)
    assert schema.migrate(conn, tmp_path / "m.sqlite3", steps) == 1
    assert schema.user_version(conn) == 2
    assert schema.migrate(conn, tmp_path / "m.sqlite3", steps) == 2  # nothing left to do
    conn.close()


def test_a_file_that_is_not_a_journal_is_reported_plainly(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list" * 100)
    with pytest.raises(CryptobotsError, match="could not be opened"):
        asyncio.run(SqliteJournal.open(path))
    assert path.read_bytes().startswith(b"this is not a database")


def test_bots_and_deals_round_trip_exactly_and_survive_reopening(tmp_path: Path) -> None:
    grid = BotRecord(
        "g1", "Grid · ünïcode", "acc2", StrategyKind.GRID, ("SOL/USDT",), '{"lower_price":"1E+1"}',
        BotStatus.ERROR, 2_000, "Insufficient balance",
    )  # fmt: skip
    dca = bot(symbols=())
    closing = deal(
        phase="closing", close_reason="trailing take-profit", trailing_high=D("27123.45000000"), note="n"
    )
    closed = deal(deal_no=2, phase="closed", trailing_high=D("1E-8"), closed_ms=9_000, note="left 1E-8 BTC")

    async def body(j: SqliteJournal) -> None:
        for b in (grid, dca):
            await j.save_bot(b)
        for d in (closed, closing):
            await j.save_deal(d)
        assert list(await j.bots()) == [dca, grid]
        assert list(await j.deals_of_bot("b1")) == [closing, closed]

    path = tmp_path / "j.sqlite3"
    with_journal(path, body)
    bots = with_journal(path, lambda j: j.bots())
    deals = with_journal(path, lambda j: j.deals_of_bot("b1"))
    assert list(bots) == [dca, grid] and list(deals) == [closing, closed]
    assert type(bots[1].strategy) is StrategyKind and type(bots[1].status) is BotStatus
    assert bots[0].symbols == () and bots[1].symbols == ("SOL/USDT",) and bots[1].name == "Grid · ünïcode"
    assert bots[1].params_json == '{"lower_price":"1E+1"}'  # kept as given, byte for byte
    assert [str(d.trailing_high) for d in deals] == ["27123.45000000", "1E-8"]
    assert (deals[0].closed_ms, deals[1].close_reason, deals[1].is_active) == (None, None, False)
    assert with_journal(path, lambda j: j.deals_of_bot("g1")) == []


def test_saving_again_replaces_by_key_and_a_bot_saved_again_keeps_its_deals(tmp_path: Path) -> None:
    async def body(j: SqliteJournal) -> None:
        await j.save_bot(bot())
        await j.save_deal(deal(trailing_high=D("100")))
        await j.save_deal(deal(deal_no=2))
        paused = bot(status=BotStatus.PAUSED, symbols=("ETH/USDT",), params_json="{}", created_ms=1_000)
        await j.save_bot(paused)
        assert list(await j.bots()) == [paused]
        closing = deal(phase="closing", close_reason="stop loss", trailing_high=None)
        await j.save_deal(closing)
        assert list(await j.deals_of_bot("b1")) == [closing, deal(deal_no=2)]
        errored = bot(status=BotStatus.ERROR, error="boom")
        await j.save_bot(errored)
        await j.save_bot(bot())  # the error is cleared by a record without one
        assert list(await j.bots()) == [bot()]
        assert len(await j.deals_of_bot("b1")) == 2

    with_journal(tmp_path / "j.sqlite3", body)


def test_bots_are_oldest_first_then_by_id_and_deals_by_number(tmp_path: Path) -> None:
    async def body(j: SqliteJournal) -> None:
        for bot_id, created in [("c", 30), ("b", 10), ("z", 20), ("a", 20)]:
            await j.save_bot(bot(bot_id, created))
        for n in (10, 2, 1, 3):
            await j.save_deal(deal("a", n))
        await j.save_deal(deal("z", 5))
        assert [b.bot_id for b in await j.bots()] == ["b", "a", "z", "c"]
        assert [d.deal_no for d in await j.deals_of_bot("a")] == [1, 2, 3, 10]
        assert [d.deal_no for d in await j.deals_of_bot("z")] == [5]

    with_journal(tmp_path / "j.sqlite3", body)


def test_a_deal_of_an_unknown_bot_is_refused_and_the_schema_checks_too(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"

    async def body(j: SqliteJournal) -> None:
        await j.save_bot(bot("b1"))
        with pytest.raises(ValueError, match="no bot 'b2' is in the journal"):
            await j.save_deal(deal("b2"))
        assert await j.deals_of_bot("b2") == []
        await j.save_deal(deal("b1"))  # the journal is still usable

    with_journal(path, body)
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        raw.execute(
            "INSERT INTO deals (bot_id, deal_no, symbol, phase, opened_ms) VALUES ('x', 1, 's', 'o', 1)"
        )
    for strategy, status in [("martingale", "running"), ("dca", "sleeping")]:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw.execute(
                "INSERT INTO bots (bot_id, name, account_id, strategy, symbols, params_json, status, "
                "created_ms) VALUES ('b9', 'n', 'a', ?, '[]', '{}', ?, 1)",
                (strategy, status),
            )
    raw.close()


@pytest.mark.parametrize(
    "params_json",
    [
        "not json",
        '["a list"]',
        '{"api_key": "abc"}',
        '{"levels": [{"ApiSecret": "abc"}]}',
        '{"exchange": {"pass-phrase": "x", "password": "y"}}',
    ],
)
def test_save_bot_refuses_parameters_that_are_not_an_object_or_name_a_credential(
    tmp_path: Path, params_json: str
) -> None:
    async def body(j: SqliteJournal) -> None:
        with pytest.raises(ValueError, match="bot b1: "):
            await j.save_bot(bot(params_json=params_json))
        assert await j.bots() == []

    with_journal(tmp_path / "j.sqlite3", body)


def test_a_version_1_journal_is_upgraded_in_place_keeping_every_intent_and_fill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite3"
    a, b, c = intent(deal=1, created_ms=10), intent(deal=2, created_ms=20), intent(deal=3, created_ms=30)

    async def write_v1(j: SqliteJournal) -> list[JournaledOrder]:
        assert (await j.settings()).schema_version == 1
        for i in (a, b, c):
            await j.record_intent(i)
        await j.record_order(a.client_order_id, order(a, OrderStatus.FILLED, fill(a, "t1"), fill(a, "t2")))
        await j.record_order(b.client_order_id, order(b, OrderStatus.OPEN, fill(b, "t3")))
        await j.record_state(c.client_order_id, S.NOT_PLACED, "never received")
        return list(await j.orders_of_bot("b1"))

    # the journal as format 1 wrote it: the same code, with only the first migration
    with monkeypatch.context() as m:
        m.setattr(schema, "migrate", functools.partial(schema.migrate, migrations=schema.MIGRATIONS[:1]))
        written = with_journal(path, write_v1)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not raw.execute("SELECT 1 FROM sqlite_master WHERE name IN ('bots', 'deals')").fetchall()
    raw.close()

    async def upgraded(j: SqliteJournal) -> None:
        assert (await j.settings()).schema_version == schema.SCHEMA_VERSION == 2
        assert list(await j.orders_of_bot("b1")) == written
        assert [r.client_order_id for r in await j.needing_reconciliation("acc1")] == [b.client_order_id]
        assert await j.bots() == []
        await j.save_bot(bot())
        await j.save_deal(deal())

    with_journal(path, upgraded)
    again = with_journal(path, lambda j: j.orders_of_bot("b1"))
    assert list(again) == written and [len(r.fills) for r in again] == [2, 1, 0]
    assert list(with_journal(path, lambda j: j.deals_of_bot("b1"))) == [deal()]
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    raw.close()


def test_sqlite_runs_only_on_the_writer_thread(tmp_path: Path) -> None:
    seen: set[int] = set()
    i = intent()

    async def main() -> tuple[int, int]:
        j = await SqliteJournal.open(tmp_path / "j.sqlite3")
        # every statement SQLite runs calls this back, on the thread running it
        writer = await j._run(threading.get_ident)
        assert j._conn is not None
        await j._run(j._conn.set_trace_callback, lambda _sql: seen.add(threading.get_ident()))
        await j.record_intent(i)
        await j.record_order(i.client_order_id, order(i, OrderStatus.OPEN, fill(i, "t1")))
        await j.record_intent(intent(deal=2))
        await j.record_state(intent(deal=2).client_order_id, S.NOT_PLACED)
        with pytest.raises(DuplicateClientOrderId):
            await j.record_intent(i)
        await j.get(i.client_order_id)
        await j.needing_reconciliation("acc1")
        await j.orders_of_bot("b1")
        await j.settings()
        await j.save_bot(bot())
        await j.save_deal(deal())
        with pytest.raises(ValueError):
            await j.save_deal(deal("nobody"))
        await j.bots()
        await j.deals_of_bot("b1")
        await j.close()
        return threading.get_ident(), writer

    loop_thread, writer = asyncio.run(main())
    assert seen == {writer} and writer != loop_thread


CRASHING_WRITER = """
import asyncio, sys
from decimal import Decimal
from pathlib import Path
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.intents import OrderIntent, client_order_id
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType

async def main():
    journal = await SqliteJournal.open(Path(sys.argv[1]))
    bot = sys.argv[2]
    for n in range(1_000_000):
        cid = client_order_id(bot, n, "base", 0)
        request = OrderRequest(
            "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.001"), cid, Decimal("100.1")
        )
        await journal.record_intent(OrderIntent("acc", bot, n, "base", 0, request, n))
        print("intent", cid, flush=True)
        fill = Fill(f"t{n}", cid, "BTC/USDT", OrderSide.BUY, Decimal("100.1"), Decimal("0.001"),
                    Decimal("1E-6"), "BTC", n, True)
        order = Order(str(n), cid, "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.001"),
                      Decimal("100.1"), OrderStatus.FILLED, n, n, (fill,))
        await journal.record_order(cid, order)
        print("order", cid, flush=True)

asyncio.run(main())
"""


def test_committed_writes_survive_a_sigkill_and_the_file_stays_consistent(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    seed = int.from_bytes(os.urandom(4), "little")
    rnd = random.Random(seed)
    for round_ in range(3):
        bot = f"k{round_}"
        proc = subprocess.Popen(
            [sys.executable, "-c", CRASHING_WRITER, str(path), bot],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # started and writing
        time.sleep(rnd.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        lines = [line.split() for line in (first + rest).splitlines()]
        printed_intents = [cid for what, cid in lines if what == "intent"]
        printed_orders = {cid for what, cid in lines if what == "order"}
        assert printed_intents, f"seed {seed}"
        print(f"round {round_}: {len(printed_intents)} intents printed before the kill")

        rows = with_journal(path, functools.partial(SqliteJournal.orders_of_bot, bot_id=bot))
        journaled = {r.client_order_id: r for r in rows}
        missing = [cid for cid in printed_intents if cid not in journaled]
        assert not missing, f"seed {seed}: printed but not journaled: {missing}"
        assert len(rows) <= len(printed_intents) + 1  # at most the one being written at the kill
        for cid in printed_orders:
            assert journaled[cid].state is S.FILLED and len(journaled[cid].fills) == 1, f"seed {seed}"

        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)], f"seed {seed}"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == [], f"seed {seed}"
        raw.close()
