"""The journal's tables and their versioned migrations (``PRAGMA user_version`` is the version).

Each step runs in its own transaction together with the version bump, so a file is always at one
whole version. A file from a newer app is refused before anything is written to it. Migration steps
are frozen once released: change the schema only by appending a step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from cryptobots_desktop.core.errors import CryptobotsError

Migration = Sequence[str]

MIGRATIONS: tuple[Migration, ...] = (
    (  # 1: intents and their fills
        """CREATE TABLE intents (
            client_order_id TEXT PRIMARY KEY NOT NULL,
            account_id TEXT NOT NULL,
            bot_id TEXT NOT NULL,
            deal_no INTEGER NOT NULL,
            leg TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            type TEXT NOT NULL CHECK (type IN ('market', 'limit')),
            amount TEXT NOT NULL,
            price TEXT,
            created_ms INTEGER NOT NULL,
            state TEXT NOT NULL
                CHECK (state IN ('pending', 'open', 'filled', 'canceled', 'rejected', 'not_placed')),
            exchange_order_id TEXT,
            error TEXT,
            updated_ms INTEGER NOT NULL
        )""",
        "CREATE INDEX intents_by_account_state ON intents (account_id, state)",
        "CREATE INDEX intents_by_bot ON intents (bot_id)",
        """CREATE TABLE fills (
            seq INTEGER PRIMARY KEY,
            client_order_id TEXT NOT NULL REFERENCES intents (client_order_id),
            trade_id TEXT NOT NULL,
            price TEXT NOT NULL,
            amount TEXT NOT NULL,
            fee TEXT NOT NULL,
            fee_asset TEXT NOT NULL,
            ts_ms INTEGER NOT NULL,
            is_maker INTEGER NOT NULL CHECK (is_maker IN (0, 1)),
            UNIQUE (client_order_id, trade_id)
        )""",
    ),
    (  # 2: bots (configuration and status) and their deals' own flags; ids, labels and parameters only
        """CREATE TABLE bots (
            bot_id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            account_id TEXT NOT NULL,
            strategy TEXT NOT NULL CHECK (strategy IN ('dca', 'grid')),
            symbols TEXT NOT NULL,
            params_json TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'stopped', 'error')),
            created_ms INTEGER NOT NULL,
            error TEXT
        )""",
        """CREATE TABLE deals (
            bot_id TEXT NOT NULL REFERENCES bots (bot_id),
            deal_no INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            phase TEXT NOT NULL,
            opened_ms INTEGER NOT NULL,
            close_reason TEXT,
            trailing_high TEXT,
            closed_ms INTEGER,
            note TEXT,
            PRIMARY KEY (bot_id, deal_no)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(version: int, path: Path, known: int = SCHEMA_VERSION) -> None:
    """Raise if the file was written by a newer app (its format is unknown here: never touch it)."""
    if version > known:
        raise CryptobotsError(
            f"This journal was written by a newer version of Cryptobots Desktop (journal format {version}; "
            f"this version reads up to {known}): {path}.",
            "Update Cryptobots Desktop to open it. The file was left as it was.",
        )


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the missing steps in order, one transaction each; returns the version the file had."""
    found = user_version(conn)
    refuse_newer(found, path, len(migrations))
    while True:
        conn.execute("BEGIN IMMEDIATE")  # the write lock: another process can't migrate at the same time
        try:
            version = user_version(conn)
            refuse_newer(version, path, len(migrations))
            if version == len(migrations):
                conn.execute("COMMIT")
                return found
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
