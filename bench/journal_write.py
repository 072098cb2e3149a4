"""Order journal write benchmark: time per ``record_intent`` + ``record_order`` pair.

The journal (its writer thread, awaited from asyncio) with ``synchronous=FULL`` and ``NORMAL``, against
bare ``sqlite3`` doing the same two transactions per pair on the calling thread (same pragmas, on disk,
and in memory). Each pair is an intent, then the exchange's reply: FILLED with one fill. Prints the
median of ``--repeat`` runs per configuration, and the ratios.

    .venv/bin/python bench/journal_write.py [--n 500] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.adapters.journal import rows, schema
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType


def pair(bot: str, n: int) -> tuple[OrderIntent, Order]:
    cid = client_order_id(bot, n, "base", 0)
    price, amount = Decimal("27123.45"), Decimal("0.00120000")
    request = OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.LIMIT, amount, cid, price)
    fill = Fill(f"t{n}", cid, "BTC/USDT", OrderSide.BUY, price, amount, Decimal("1.2E-6"), "BTC", n, True)
    order = Order(str(n), cid, "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, amount, price,
                  OrderStatus.FILLED, n, n, (fill,))  # fmt: skip
    return OrderIntent("acc", bot, n, "base", 0, request, n), order


async def journal_run(path: Path, synchronous: str, n: int) -> float:
    journal = await SqliteJournal.open(path, synchronous=synchronous)
    work = [pair(f"j{path.stem}", i) for i in range(n)]
    start = time.perf_counter()
    for intent, order in work:
        await journal.record_intent(intent)
        await journal.record_order(intent.client_order_id, order)
    elapsed = time.perf_counter() - start
    await journal.close()
    return elapsed / n


def bare_run(path: Path | str, synchronous: str, n: int) -> float:
    """The same two transactions per pair with plain ``sqlite3`` on this thread (no checks, no thread hop)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    schema.migrate(conn, Path(str(path)))
    intent_sql = f"INSERT INTO intents ({rows.INTENT_COLUMNS}) VALUES ({', '.join('?' * 16)})"
    fill_sql = f"INSERT INTO fills ({rows.FILL_COLUMNS}) VALUES ({', '.join('?' * 8)})"
    update_sql = "UPDATE intents SET state = ?, exchange_order_id = ?, updated_ms = ?"
    update_sql += " WHERE client_order_id = ?"
    work = [pair("bare", i) for i in range(n)]
    start = time.perf_counter()
    for intent, order in work:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(intent_sql, rows.intent_row(JournaledOrder(intent, IntentState.PENDING)))
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(update_sql, ("filled", order.exchange_order_id, order.updated_ms, order.client_order_id))
        conn.execute(fill_sql, rows.fill_row(order.client_order_id, order.fills[0]))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="pairs per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (median kept)")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (default: a temp dir)")
    args = parser.parse_args()

    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        for run in range(args.repeat):
            for sync in ("FULL", "NORMAL"):
                results.setdefault(f"journal {sync}", []).append(
                    asyncio.run(journal_run(folder / f"j{sync}{run}.sqlite3", sync, args.n))
                )
                results.setdefault(f"bare sqlite3 {sync}", []).append(
                    bare_run(folder / f"b{sync}{run}.sqlite3", sync, args.n)
                )
            results.setdefault("bare sqlite3 :memory:", []).append(bare_run(":memory:", "OFF", args.n))
        print(f"{args.n} record_intent + record_order pairs, median of {args.repeat} runs, files in {folder}")
    per = {name: statistics.median(times) for name, times in results.items()}
    for name, seconds in per.items():
        print(f"  {name:<24} {seconds * 1e6:9.1f} µs per pair")
    print("ratios:")
    for a, b in [
        ("journal FULL", "journal NORMAL"),
        ("journal FULL", "bare sqlite3 FULL"),
        ("journal NORMAL", "bare sqlite3 NORMAL"),
        ("journal NORMAL", "bare sqlite3 :memory:"),
        ("journal FULL", "bare sqlite3 :memory:"),
    ]:
        print(f"  {a} / {b}: {per[a] / per[b]:.2f}")


if __name__ == "__main__":
    main()
