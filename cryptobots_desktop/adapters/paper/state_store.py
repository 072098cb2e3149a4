"""Persistence of a paper account in one SQLite file, written from one dedicated thread.

Every SQLite call runs on a single-worker ``ThreadPoolExecutor`` awaited with ``loop.run_in_executor``,
so the event loop (the GUI thread under qasync) never blocks on disk. WAL journal, ``synchronous=FULL``:
a committed save survives a crash. Decimals are stored as TEXT; only what changed is written.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.orders import Fill, Order, OrderSide, OrderStatus, OrderType

from .matching import EngineChanges, StoredOrder

SCHEMA_VERSION = 1
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (asset TEXT PRIMARY KEY, free TEXT NOT NULL, used TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    exchange_order_id INTEGER NOT NULL UNIQUE,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    amount TEXT NOT NULL,
    price TEXT,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    cap_ts INTEGER NOT NULL,
    cap_used TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fills (
    trade_id INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    fee TEXT NOT NULL,
    fee_asset TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    is_maker INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills (client_order_id);
"""


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """A saved paper account: its dataset, starting balances, replay time, balances and orders."""

    dataset: str
    starting_balances: Mapping[str, Decimal]
    replay_ms: int
    balances: tuple[Balance, ...]
    orders: tuple[StoredOrder, ...]


class StateStore:
    """One SQLite state file with its own writer thread. Create with ``await StateStore.open(path)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paper-state")
        self._conn: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> StateStore:
        """Open (or create) the state file and check its schema version."""
        store = cls(path)
        try:
            await store._run(store._connect)
        except sqlite3.DatabaseError as exc:
            store._executor.shutdown(wait=True)
            raise CryptobotsError(
                f"The paper account file {path} could not be read ({exc}).",
                "Move the file away to start a new paper account.",
            ) from exc
        except BaseException:
            store._executor.shutdown(wait=True)
            raise
        return store

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def load(self) -> StoredAccount | None:
        """The saved account, or None if the file holds none yet."""
        return await self._run(self._load)

    async def create(
        self, dataset: str, starting_balances: Mapping[str, Decimal], replay_ms: int, changes: EngineChanges
    ) -> None:
        """Record a new account (its dataset, starting balances and first state)."""
        meta = {
            "dataset": dataset,
            "starting_balances": json.dumps({a: str(v) for a, v in starting_balances.items()}),
        }
        await self._run(self._write, changes, replay_ms, meta)

    async def save(self, changes: EngineChanges, replay_ms: int | None = None) -> None:
        """Write what changed (and the replay time, if given) in one durable transaction."""
        if changes or replay_ms is not None:
            await self._run(self._write, changes, replay_ms, {})

    async def close(self) -> None:
        """Close the file and stop the writer thread."""
        try:
            await self._run(self._disconnect)
        finally:
            self._executor.shutdown(wait=True)

    # --- on the writer thread ------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CryptobotsError("The paper account's state file is closed.")
        return self._conn

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise CryptobotsError(
                    f"The paper account file {self.path.name} has format version {row[0]}, "
                    f"but this version of the app reads version {SCHEMA_VERSION}.",
                    "Update the app, or start a new paper account.",
                )
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _load(self) -> StoredAccount | None:
        db = self._db()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if "dataset" not in meta:
            return None
        fills: dict[str, list[Fill]] = {}
        for r in db.execute("SELECT * FROM fills ORDER BY trade_id"):
            fill = Fill(
                str(r[0]),
                r[1],
                r[2],
                OrderSide(r[3]),
                Decimal(r[4]),
                Decimal(r[5]),
                Decimal(r[6]),
                r[7],
                int(r[8]),
                bool(r[9]),
            )
            fills.setdefault(fill.client_order_id, []).append(fill)
        orders = []
        for r in db.execute("SELECT * FROM orders ORDER BY exchange_order_id"):
            order = Order(
                str(r[1]),
                r[0],
                r[2],
                OrderSide(r[3]),
                OrderType(r[4]),
                Decimal(r[5]),
                None if r[6] is None else Decimal(r[6]),
                OrderStatus(r[7]),
                int(r[8]),
                int(r[9]),
                tuple(fills.get(r[0], ())),
            )
            orders.append(StoredOrder(order, int(r[10]), Decimal(r[11])))
        balances = tuple(
            Balance(a, Decimal(f), Decimal(u))
            for a, f, u in db.execute("SELECT asset, free, used FROM balances ORDER BY asset")
        )
        starting = {a: Decimal(v) for a, v in json.loads(meta["starting_balances"]).items()}
        return StoredAccount(meta["dataset"], starting, int(meta["replay_ms"]), balances, tuple(orders))

    def _write(self, changes: EngineChanges, replay_ms: int | None, meta: Mapping[str, str]) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            items = dict(meta)
            if replay_ms is not None:
                items["replay_ms"] = str(replay_ms)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", items.items())
            db.executemany(
                "INSERT OR REPLACE INTO balances VALUES (?, ?, ?)",
                [(b.asset, str(b.free), str(b.used)) for b in changes.balances],
            )
            db.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        o.client_order_id,
                        int(o.exchange_order_id),
                        o.symbol,
                        o.side.value,
                        o.type.value,
                        str(o.amount),
                        None if o.price is None else str(o.price),
                        o.status.value,
                        o.created_ms,
                        o.updated_ms,
                        s.cap_ts,
                        str(s.cap_used),
                    )
                    for s in changes.orders
                    for o in (s.order,)
                ],
            )
            db.executemany(
                "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        int(f.trade_id),
                        f.client_order_id,
                        f.symbol,
                        f.side.value,
                        str(f.price),
                        str(f.amount),
                        str(f.fee),
                        f.fee_asset,
                        f.ts_ms,
                        int(f.is_maker),
                    )
                    for f in changes.fills
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
