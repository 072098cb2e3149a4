"""adapters.account_store: accounts.json holds metadata only, survives restarts, writes atomically."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.account_store import JsonAccountStore, accounts_file, new_account_id
from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import InvalidAccount
from cryptobots_desktop.core.key_permissions import KeyPermissions

SENTINEL_KEY = "KEYSENTINEL-7c1e0f4b9d2a"
SENTINEL_SECRET = "SECRETSENTINEL-5b8d3a6e1f0c"


def make(label: str, exchange: str = "binance") -> Account:
    creds = ApiCredentials(SENTINEL_KEY, SENTINEL_SECRET, "PASSSENTINEL-1")
    return Account.create(new_account_id(exchange), exchange, label, creds, 1_000)


def test_round_trip_with_checks_and_acceptance_and_no_secret(tmp_path: Path) -> None:
    path = accounts_file(tmp_path / "data")
    store = JsonAccountStore(path)
    perms = KeyPermissions(
        "binance", read=True, spot_trade=True, withdraw=True, ip_restricted=True,
        ip_whitelist=("203.0.113.7",), expires_ms=2_000_000, expiry_known=True, checked_ms=5,
        raw_fields=("enableWithdrawals",),
    )  # fmt: skip
    first = make("Main").with_check(perms, 2_000).accept_risk("Main", 3_000)
    second = make("Spare", "okx")
    store.save_sync(first)
    store.save_sync(second)
    assert JsonAccountStore(path).accounts_sync() == (first, second)
    text = path.read_text(encoding="utf-8")
    for secret in (SENTINEL_KEY, SENTINEL_SECRET, "PASSSENTINEL"):
        assert secret not in text
    assert json.loads(text)["schema_version"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["accounts.json"]  # no temporary file left


def test_replace_keeps_order_remove_forgets_and_labels_stay_unique(tmp_path: Path) -> None:
    store = JsonAccountStore(tmp_path / "accounts.json")
    a, b = make("A"), make("B")
    store.save_sync(a)
    store.save_sync(b)
    renamed = a.with_label("A2")
    store.save_sync(renamed)
    assert [x.label for x in store.accounts_sync()] == ["A2", "B"]
    with pytest.raises(InvalidAccount, match="already called"):
        store.save_sync(make("b"))
    store.remove_sync(a.account_id)
    store.remove_sync("nobody")
    assert JsonAccountStore(store.path).accounts_sync() == (b,)
    assert store.get_sync(b.account_id) == b and store.get_sync(a.account_id) is None


def test_an_unreadable_file_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text("{ not json", encoding="utf-8")
    loaded = JsonAccountStore(path).load()
    assert loaded.accounts == () and loaded.problem is not None and "kept as" in loaded.problem
    assert (tmp_path / "accounts.json.unreadable").read_text(encoding="utf-8") == "{ not json"
    path.write_text(json.dumps({"schema_version": 99, "accounts": []}), encoding="utf-8")
    assert "schema version" in (JsonAccountStore(path).load().problem or "")


def test_async_methods_run_off_the_loop(tmp_path: Path) -> None:
    store = JsonAccountStore(tmp_path / "accounts.json")
    a = make("Main")

    async def scenario() -> None:
        await store.save(a)
        assert await store.accounts() == (a,)
        assert await store.get(a.account_id) == a
        await store.remove(a.account_id)
        assert await store.accounts() == ()

    asyncio.run(scenario())


def test_new_account_ids_are_valid_and_distinct() -> None:
    ids = {new_account_id("Gate.io") for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("gateio-") for i in ids)
    assert new_account_id("???").startswith("account-")
