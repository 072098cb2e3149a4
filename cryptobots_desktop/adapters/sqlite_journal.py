"""The order journal in one SQLite file (``core.ports.Journal``), written from one dedicated thread.

Every SQLite call runs on a single-worker ``ThreadPoolExecutor`` awaited with ``loop.run_in_executor``;
the event loop (the GUI thread under qasync) never touches the connection, which SQLite itself checks
(the connection is made on the writer thread and keeps ``check_same_thread``). Each write is one
transaction, committed before its awaitable completes. A call cancelled while it waits may still commit:
the journal, re-read with ``get``, is the truth.

Durability, WAL journal mode:

- ``synchronous=FULL`` (the default): the WAL is synced to disk at every commit, so a committed
  transaction survives both a killed process and a power cut or OS crash.
- ``synchronous=NORMAL``: a committed transaction survives a killed process (it is in the OS's cache),
  but the last transactions before a power cut or OS crash may be lost (never corrupting the file).

On macOS ``fullfsync`` is on, so "synced" means written through the disk's own cache too.

The file holds account ids, bot ids, order data, and bots' names and strategy parameters only, never a
secret (``save_bot`` refuses parameters named like a credential).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from cryptobots_desktop.adapters.journal import rows, rules, schema
from cryptobots_desktop.core.bots import BotRecord, DealRecord
from cryptobots_desktop.core.errors import CryptobotsError, DuplicateClientOrderId
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent
from cryptobots_desktop.core.orders import Order
from cryptobots_desktop.core.ports import Clock

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5_000
SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")  # OFF would risk the file on a power cut: refused
_SYNC_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
_INTENT_MARKS = ", ".join("?" * len(rows.INTENT_COLUMNS.split(",")))
_FILL_MARKS = ", ".join("?" * len(rows.FILL_COLUMNS.split(",")))
_BOT_MARKS = ", ".join("?" * len(rows.BOT_COLUMNS.split(",")))
_DEAL_MARKS = ", ".join("?" * len(rows.DEAL_COLUMNS.split(",")))
_NEEDING_RECONCILIATION = "account_id = ? AND state IN ('pending', 'open')"


def _upsert(table: str, columns: str, marks: str, key: tuple[str, ...]) -> str:
    """Insert, or update every non-key column of the row with the same key (not ``INSERT OR REPLACE``,
    which deletes the old row first: a bot's deals would lose their parent for the moment)."""
    names = [c.strip() for c in columns.split(",")]
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c not in key)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_SAVE_BOT = _upsert("bots", rows.BOT_COLUMNS, _BOT_MARKS, ("bot_id",))
_SAVE_DEAL = _upsert("deals", rows.DEAL_COLUMNS, _DEAL_MARKS, ("bot_id", "deal_no"))


class WallClock:
    """Wall time in Unix milliseconds (the default clock for states set without an exchange report)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class JournalSettings:
    """The SQLite settings in effect on the journal's connection (for the log and the tests)."""

    journal_mode: str
    synchronous: str
    foreign_keys: bool
    busy_timeout_ms: int
    schema_version: int


class SqliteJournal:
    """The durable order journal. Create with ``await SqliteJournal.open(path)``; ``await close()`` at exit.

    ``record_order``/``record_state`` of a client order id that was never journaled raise ``ValueError``,
    as do the state moves ``adapters.journal.rules`` does not allow, ``save_deal`` of a bot never saved, and
    ``save_bot`` of parameters that are not a JSON object or name a credential.
    """

    def __init__(self, path: Path, synchronous: str, clock: Clock) -> None:
        self.path = path
        self._synchronous = synchronous
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    @classmethod
    async def open(
        cls, path: Path, *, synchronous: str = "FULL", clock: Clock | None = None
    ) -> SqliteJournal:
        """Open (or create, with its folders) the journal file and bring its schema up to date.

        ``synchronous`` is ``"FULL"`` (default), ``"NORMAL"`` or ``"EXTRA"`` (see the module docstring);
        ``clock`` stamps ``updated_ms`` of states set by ``record_state`` (default: wall time).
        """
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}: {synchronous!r}")
        journal = cls(path, level, clock or WallClock())
        try:
            await journal._run(journal._connect)
        except (sqlite3.DatabaseError, OSError) as exc:
            journal._shutdown()
            raise CryptobotsError(
                f"The order journal {path} could not be opened ({exc}).",
                "Check that the folder is writable and on a local disk. Don't delete the file: "
                "it is the record of your orders.",
            ) from exc
        except BaseException:
            journal._shutdown()
            raise
        return journal

    async def record_intent(self, intent: OrderIntent) -> JournaledOrder:
        """Write a new intent as PENDING. Raises ``DuplicateClientOrderId`` if its id is already journaled."""
        return await self._run(self._record_intent, intent)

    async def record_order(self, client_order_id: str, order: Order) -> JournaledOrder:
        """Record what the exchange reports of an order: state, exchange id, new fills (idempotent)."""
        return await self._run(self._record_order, client_order_id, order)

    async def record_state(
        self, client_order_id: str, state: IntentState, error: str | None = None, *, at_ms: int | None = None
    ) -> JournaledOrder:
        """Set a state the exchange did not report as an order: REJECTED, NOT_PLACED, or PENDING again;
        ``at_ms``: when, on the account's clock (default: the journal's ``clock``)."""
        return await self._run(self._record_state, client_order_id, state, error, at_ms)

    async def get(self, client_order_id: str) -> JournaledOrder | None:
        """The journaled order with that client order id, or None."""
        found = await self._run(self._select, "client_order_id = ?", (client_order_id,))
        return found[0] if found else None

    async def needing_reconciliation(self, account_id: str) -> Sequence[JournaledOrder]:
        """PENDING and OPEN intents of an account, oldest first."""
        return await self._run(self._select, _NEEDING_RECONCILIATION, (account_id,))

    async def orders_of_bot(self, bot_id: str) -> Sequence[JournaledOrder]:
        """Every journaled order of a bot, oldest first, with its fills (deals are rebuilt from these)."""
        return await self._run(self._select, "bot_id = ?", (bot_id,))

    async def save_bot(self, bot: BotRecord) -> None:
        """Insert or replace a bot's configuration and status (its deals are kept)."""
        await self._run(self._save_bot, bot)

    async def bots(self) -> Sequence[BotRecord]:
        """Every bot, oldest first (by ``created_ms``, then bot id)."""
        return await self._run(self._bots)

    async def save_deal(self, deal: DealRecord) -> None:
        """Insert or replace a deal's record (keyed by bot id and deal number); its bot must be saved."""
        await self._run(self._save_deal, deal)

    async def deals_of_bot(self, bot_id: str) -> Sequence[DealRecord]:
        """A bot's deals, by deal number."""
        return await self._run(self._deals_of_bot, bot_id)

    async def settings(self) -> JournalSettings:
        """The journal mode, synchronous level and other settings SQLite reports for this connection."""
        return await self._run(self._settings)

    async def close(self) -> None:
        """Close the file and stop the writer thread (after the calls already made). Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        finally:
            self._shutdown()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise CryptobotsError("The order journal is closed.")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True)

    # --- on the writer thread ------------------------------------------------------------------

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            schema.refuse_newer(schema.user_version(conn), self.path)  # before anything is written
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise CryptobotsError(
                    f"The order journal {self.path} can't use SQLite's WAL mode (it got {mode!r}).",
                    "Keep the app's data folder on a local disk, not a network share.",
                )
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA fullfsync = ON")  # macOS: through the disk's cache; no effect elsewhere
            conn.execute("PRAGMA foreign_keys = ON")
            schema.migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        db = self._conn
        if db is None:
            raise CryptobotsError("The order journal is closed.")
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _record_intent(self, intent: OrderIntent) -> JournaledOrder:
        row = JournaledOrder(intent, IntentState.PENDING, updated_ms=intent.created_ms)
        with self._transaction() as db:
            cid = intent.client_order_id
            if db.execute("SELECT 1 FROM intents WHERE client_order_id = ?", (cid,)).fetchone():
                raise DuplicateClientOrderId(
                    f"Order id {cid} is already in the journal, so this order was not recorded again.",
                    "Each order needs a new client order id; nothing was sent.",
                )
            db.execute(
                f"INSERT INTO intents ({rows.INTENT_COLUMNS}) VALUES ({_INTENT_MARKS})", rows.intent_row(row)
            )
        return row

    def _record_order(self, client_order_id: str, order: Order) -> JournaledOrder:
        with self._transaction() as db:
            current = self._existing(db, client_order_id)
            after = rules.after_report(current, order)
            if after != current:
                self._update(db, after)
                db.executemany(
                    f"INSERT INTO fills ({rows.FILL_COLUMNS}) VALUES ({_FILL_MARKS})",
                    [rows.fill_row(client_order_id, f) for f in after.fills[len(current.fills) :]],
                )
        return after

    def _record_state(
        self, client_order_id: str, state: IntentState, error: str | None, at_ms: int | None
    ) -> JournaledOrder:
        with self._transaction() as db:
            current = self._existing(db, client_order_id)
            rules.check_set_state(client_order_id, current.state, state)
            if (state, error) == (current.state, current.error):
                return current
            when = self._clock.now_ms() if at_ms is None else at_ms
            after = replace(current, state=state, error=error, updated_ms=max(current.updated_ms, when))
            self._update(db, after)
        return after

    def _existing(self, db: sqlite3.Connection, client_order_id: str) -> JournaledOrder:
        found = self._query(db, "client_order_id = ?", (client_order_id,))
        if not found:
            raise ValueError(f"No order with client order id {client_order_id!r} is in the journal.")
        return found[0]

    def _update(self, db: sqlite3.Connection, row: JournaledOrder) -> None:
        db.execute(
            "UPDATE intents SET state = ?, exchange_order_id = ?, error = ?, updated_ms = ? "
            "WHERE client_order_id = ?",
            (row.state.value, row.exchange_order_id, row.error, row.updated_ms, row.client_order_id),
        )

    def _select(self, where: str, params: tuple[object, ...]) -> list[JournaledOrder]:
        with self._transaction(write=False) as db:
            return self._query(db, where, params)

    def _query(self, db: sqlite3.Connection, where: str, params: tuple[object, ...]) -> list[JournaledOrder]:
        """Intents matching ``where`` (a constant clause), oldest first, each with its fills in order."""
        intents = db.execute(
            f"SELECT {rows.INTENT_COLUMNS} FROM intents WHERE {where} ORDER BY created_ms, rowid", params
        ).fetchall()
        fills: dict[str, list[rows.Row]] = {}
        for f in db.execute(
            f"SELECT {rows.FILL_COLUMNS} FROM fills "
            f"WHERE client_order_id IN (SELECT client_order_id FROM intents WHERE {where}) ORDER BY seq",
            params,
        ):
            fills.setdefault(f[0], []).append(f)
        return [rows.journaled(r, fills.get(r[0], ())) for r in intents]

    def _save_bot(self, bot: BotRecord) -> None:
        row = rows.bot_row(bot)  # checked before the transaction starts
        with self._transaction() as db:
            db.execute(_SAVE_BOT, row)

    def _bots(self) -> list[BotRecord]:
        with self._transaction(write=False) as db:
            found = db.execute(f"SELECT {rows.BOT_COLUMNS} FROM bots ORDER BY created_ms, bot_id").fetchall()
        return [rows.bot_record(r) for r in found]

    def _save_deal(self, deal: DealRecord) -> None:
        row = rows.deal_row(deal)
        with self._transaction() as db:
            if not db.execute("SELECT 1 FROM bots WHERE bot_id = ?", (deal.bot_id,)).fetchone():
                raise ValueError(
                    f"deal {deal.deal_no} of bot {deal.bot_id!r} not saved: no bot {deal.bot_id!r} is in "
                    "the journal (save the bot first)"
                )
            db.execute(_SAVE_DEAL, row)

    def _deals_of_bot(self, bot_id: str) -> list[DealRecord]:
        with self._transaction(write=False) as db:
            found = db.execute(
                f"SELECT {rows.DEAL_COLUMNS} FROM deals WHERE bot_id = ? ORDER BY deal_no", (bot_id,)
            ).fetchall()
        return [rows.deal_record(r) for r in found]

    def _settings(self) -> JournalSettings:
        with self._transaction(write=False) as db:

            def pragma(name: str) -> Any:
                return db.execute(f"PRAGMA {name}").fetchone()[0]

            return JournalSettings(
                str(pragma("journal_mode")),
                _SYNC_NAMES[int(pragma("synchronous"))],
                bool(pragma("foreign_keys")),
                int(pragma("busy_timeout")),
                int(pragma("user_version")),
            )
