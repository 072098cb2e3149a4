"""The connected accounts' metadata in a small JSON file of its own: ``accounts.json`` in the data folder.

Kept apart from the settings file on purpose: settings are preferences that may be reset (an unreadable
settings file is replaced by defaults), while an account names a keyring entry that must not be
orphaned. The file holds ids, exchange ids, labels, masked keys and permission checks — never a secret
(``core.accounts.Account`` has no field that could hold one). Writes are atomic (temporary file, fsync,
rename); an unreadable file is kept aside, never overwritten.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from cryptobots_desktop.core.accounts import Account, check_account_id, check_label, new_account_id
from cryptobots_desktop.core.ports import AccountStore

ACCOUNTS_FILE = "accounts.json"
SCHEMA_VERSION = 1

_ACCOUNTS = TypeAdapter(list[Account])
__all__ = ["ACCOUNTS_FILE", "JsonAccountStore", "LoadedAccounts", "accounts_file", "new_account_id"]


def accounts_file(data_dir: Path) -> Path:
    """Where the accounts file lives in a data folder."""
    return data_dir / ACCOUNTS_FILE


@dataclass(frozen=True, slots=True)
class LoadedAccounts:
    """The accounts as read, with a sentence for the activity log when the file could not be used."""

    accounts: tuple[Account, ...]
    problem: str | None = None


class JsonAccountStore:
    """``core.ports.AccountStore`` over one JSON file; the ``*_sync`` methods block (worker thread only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._cache: list[Account] | None = None
        self.problem: str | None = None  # set when the file was unreadable and kept aside

    # --- async API (core.ports.AccountStore) ----------------------------------------------------------
    async def accounts(self) -> Sequence[Account]:
        return await asyncio.to_thread(self.accounts_sync)

    async def get(self, account_id: str) -> Account | None:
        return await asyncio.to_thread(self.get_sync, account_id)

    async def save(self, account: Account) -> None:
        await asyncio.to_thread(self.save_sync, account)

    async def remove(self, account_id: str) -> None:
        await asyncio.to_thread(self.remove_sync, account_id)

    # --- blocking API ---------------------------------------------------------------------------------
    def load(self) -> LoadedAccounts:
        """Read the file (again); an unreadable one is renamed ``accounts.json.unreadable`` and reported."""
        with self._lock:
            self._cache = None
            accounts = self._read()
            return LoadedAccounts(tuple(accounts), self.problem)

    def accounts_sync(self) -> tuple[Account, ...]:
        with self._lock:
            return tuple(self._read())

    def get_sync(self, account_id: str) -> Account | None:
        with self._lock:
            return next((a for a in self._read() if a.account_id == account_id), None)

    def save_sync(self, account: Account) -> None:
        """Insert or replace by id (order kept); refuses a label another account already has."""
        check_account_id(account.account_id)
        with self._lock:
            current = self._read()
            others = [a for a in current if a.account_id != account.account_id]
            check_label(account.label, (a.label for a in others))
            if len(others) == len(current):
                updated = [*current, account]
            else:
                updated = [account if a.account_id == account.account_id else a for a in current]
            self._write(updated)

    def remove_sync(self, account_id: str) -> None:
        with self._lock:
            current = self._read()
            remaining = [a for a in current if a.account_id != account_id]
            if len(remaining) != len(current):
                self._write(remaining)

    # --- inside ------------------------------------------------------------------------------------
    def _read(self) -> list[Account]:
        if self._cache is not None:
            return list(self._cache)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._cache = []
            return []
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if data.get("schema_version") != SCHEMA_VERSION:
                raise ValueError(f"unknown schema version {data.get('schema_version')!r}")
            accounts = _ACCOUNTS.validate_python(data.get("accounts", []))
        except (ValueError, ValidationError) as exc:
            backup = self.path.with_suffix(".json.unreadable")
            os.replace(self.path, backup)
            reason = str(exc).splitlines()[0]
            self.problem = (
                f"The accounts file could not be read ({reason}); it was kept as {backup}. Connected "
                "accounts need to be added again (their keys are still in the system keyring)."
            )
            accounts = []
        self._cache = accounts
        return list(accounts)

    def _write(self, accounts: list[Account]) -> None:
        payload = {"schema_version": SCHEMA_VERSION, "accounts": _ACCOUNTS.dump_python(accounts, mode="json")}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._cache = list(accounts)


_PORT: type[AccountStore] = JsonAccountStore  # mypy checks that the class implements the port
