"""``AccountService`` with its real parts: ccxt signing requests to the local exchange, keys in the real
Secret Service, the accounts file on disk.

- An edit (or a removal) while a re-check is in flight waits for it: the old key's answer, held back by the
  exchange, never lands on the new key.
- A check that fails for a passing reason (503, a dropped connection, rate limiting) is tried again after
  a back-off that doubles up to a ceiling, not at the next 6-hourly check; a wrong key is not retried.

Run: xvfb-run -a dbus-run-session -- bash scripts/desktop-session.sh .venv/bin/python -m pytest ...
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
from keyring.backends import SecretService

from cryptobots_desktop.adapters.account_store import JsonAccountStore, accounts_file
from cryptobots_desktop.adapters.bip39_wordlist import load_bip39_english
from cryptobots_desktop.adapters.key_inspector import CcxtKeyInspector
from cryptobots_desktop.adapters.keyring_vault import SERVICE_NAME, KeyringVault
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import AuthenticationFailed, InvalidAccount
from cryptobots_desktop.engine.accounts import AccountDraft, AccountService
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import AccountState, ActivityLogged, Event
from tests.exchange_server.fixture import ThreadedExchange

T = TypeVar("T")
PATH = "/sapi/v1/account/apiRestrictions"


@pytest.fixture
def vault(request: pytest.FixtureRequest) -> KeyringVault:
    """A keyring service of this test's own in the real Secret Service; its entries deleted afterwards."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not isinstance(
        keyring.get_keyring(), SecretService.Keyring
    ):
        pytest.fail(
            "these tests need the real Secret Service: run them under "
            "`dbus-run-session -- bash scripts/desktop-session.sh` (scripts/test.sh does)"
        )
    return KeyringVault(f"{SERVICE_NAME}-test-{request.node.name}"[:120])


class Parts:
    """What an ``AccountService`` is made of here, to make a second one over the same files and keyring."""

    def __init__(self, data_dir: Path, vault: KeyringVault, exchange: ThreadedExchange) -> None:
        self.data_dir = data_dir
        self.vault = vault
        self.exchange = exchange
        self.activity: list[str] = []
        self.activity_at: list[float] = []  # wall-clock seconds (the exchange's request log uses the same)
        self.bus = EventBus()
        self.bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ActivityLogged):
            self.activity.append(event.message)
            self.activity_at.append(time.time())

    def service(self, **timing: float) -> AccountService:
        return AccountService(
            JsonAccountStore(accounts_file(self.data_dir)),
            self.vault,
            CcxtKeyInspector({"binance": self.exchange.base_url}, throttle=False),
            self.bus,
            load_bip39_english(),
            **timing,  # type: ignore[arg-type]
        )

    def draft(self, label: str = "Main", account_id: str | None = None) -> AccountDraft:
        ex = self.exchange
        return AccountDraft("binance", label, {"api_key": ex.key, "secret": ex.secret}, account_id)


@pytest.fixture
def parts(tmp_path: Path, vault: KeyringVault, local_exchange: ThreadedExchange) -> Iterator[Parts]:
    p = Parts(tmp_path / "data", vault, local_exchange)
    yield p
    store = JsonAccountStore(accounts_file(p.data_dir))
    for account in asyncio.run(store.accounts()):
        vault.delete_sync(account.account_id)


def run(body: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(body(), timeout)

    return asyncio.run(bounded())


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 20, what: str = "it") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def probes(exchange: ThreadedExchange) -> list[dict[str, Any]]:
    """The permission requests the local exchange answered, in order."""
    return [r for r in exchange.requests() if r["path"] == PATH]


async def hold_back_an_answer(exchange: ThreadedExchange, **reported: Any) -> None:
    """The next permission request waits 3 s at the exchange, then gets ``reported`` (as the key was then)."""
    state = await asyncio.to_thread(exchange.state)
    answer = {k: v for k, v in state["restrictions"].items() if k != "ipWhitelist"} | reported
    await asyncio.to_thread(exchange.add_fault, "delay", path=PATH, delay_ms=3000, count=1)
    await asyncio.to_thread(exchange.add_fault, "status", path=PATH, status=200, body=json.dumps(answer))


async def arrived(exchange: ThreadedExchange) -> bool:
    """The held-back request reached the exchange (its faults are used up)."""
    return (await asyncio.to_thread(exchange.state))["faults"] == []


@contextlib.asynccontextmanager
async def recheck_held_back(
    p: Parts, service: AccountService, account_id: str, **reported: Any
) -> AsyncIterator[asyncio.Task[AccountState]]:
    """A re-check whose request is at the exchange, its answer (``reported``) held back for 3 s; on the way
    out it has ended, whatever happened (no answer lands in the next test)."""
    await hold_back_an_answer(p.exchange, **reported)
    task = asyncio.create_task(service.recheck(account_id))
    try:
        await until(lambda: arrived(p.exchange), what="the re-check's request at the exchange")
        yield task
    finally:
        with contextlib.suppress(Exception):
            await task


# --- 3: the per-account lock -----------------------------------------------------------------------------


def test_an_edit_waits_for_the_recheck_in_flight_so_the_old_keys_answer_never_lands_on_the_new_key(
    parts: Parts,
) -> None:
    run(lambda: scenario_edit_during_recheck(parts))


async def scenario_edit_during_recheck(p: Parts) -> None:
    ex = p.exchange
    service = p.service()
    await service.start()
    account_id = (await service.save(p.draft())).account.account_id
    # the old key could withdraw: the re-check's answer says so, held back at the exchange for 3 s
    async with recheck_held_back(p, service, account_id, enableWithdrawals=True) as recheck:
        # meanwhile the person replaces the key with a new one (read + spot trade only)
        state = await service.save(p.draft("Main", account_id))
        edit_waited = recheck.done()
    # the new key is known by its own answer: no withdrawals, nothing "gained", bots may start
    account = service.account(account_id)
    assert account is not None and account.permissions is not None
    assert account.permissions.withdraw is False and account.widened == (), account
    assert {w.code.value for w in service.state(account_id).warnings} <= {
        "no_ip_restriction",
        "permissions_unknown",
    }
    assert service.can_start(account_id) == (True, "")
    on_disk = await JsonAccountStore(accounts_file(p.data_dir)).accounts()
    assert [a.permissions.withdraw for a in on_disk if a.permissions is not None] == [False]
    # because the edit waited for the re-check to end: the old key's answer came first
    assert edit_waited and state.account.permissions == account.permissions
    assert [r["note"] for r in probes(ex)[-2:]] == ["injected status", ""]


def test_removing_an_account_waits_for_the_recheck_in_flight_and_nothing_comes_back(parts: Parts) -> None:
    run(lambda: scenario_remove_during_recheck(parts))


async def scenario_remove_during_recheck(p: Parts) -> None:
    service = p.service()
    await service.start()
    account_id = (await service.save(p.draft())).account.account_id
    async with recheck_held_back(p, service, account_id, enableWithdrawals=True) as recheck:
        await service.remove(account_id)
        assert recheck.done()  # the removal waited: the re-check finished with the account still there
        state = await recheck
    assert state.account.permissions is not None and state.account.permissions.withdraw is True
    assert service.accounts == ()
    assert tuple(await JsonAccountStore(accounts_file(p.data_dir)).accounts()) == ()
    assert await p.vault.load(account_id) is None
    with pytest.raises(InvalidAccount):  # a re-check queued behind the removal finds nothing to check
        await service.recheck(account_id)


# --- 4: a check that failed for a passing reason is tried again, backing off ------------------------------


def test_a_startup_check_that_fails_for_a_passing_reason_is_retried_with_back_off(parts: Parts) -> None:
    run(lambda: scenario_retries(parts))


async def scenario_retries(p: Parts) -> None:
    ex = p.exchange
    first = p.service()
    await first.start()
    account_id = (await first.save(p.draft())).account.account_id
    saved_check = first.account(account_id).last_checked_ms
    # the next start-up meets the exchange down twice (503), then the connection dropped twice (aiohttp
    # tries a dropped kept-alive connection once more by itself), then rate limiting; then it answers
    await asyncio.to_thread(ex.add_fault, "status", path=PATH, status=503, count=2)
    await asyncio.to_thread(ex.add_fault, "drop_before", path=PATH, skip=2, count=2)
    await asyncio.to_thread(ex.add_fault, "rate_limit", path=PATH, skip=4, count=1, retry_after_s=1)
    before = len(probes(ex))
    service = p.service(recheck_interval_s=3600, retry_first_s=0.3, retry_max_s=1.0)
    await service.start()
    task = asyncio.create_task(service.run())
    try:
        await until(
            lambda: _checked_after(service, account_id, saved_check), timeout=30, what="a check that succeeds"
        )
        attempts = probes(ex)[before:]
        assert [r["status"] for r in attempts] == [503, 503, 0, 0, 429, 200], attempts
        failed = [
            (at, m)
            for at, m in zip(p.activity_at, p.activity, strict=True)
            if m.startswith("The key could not be checked")
        ]
        assert 4 <= len(failed) <= 5, failed  # the two drops: one check or two
        assert all(m.endswith("Trying again in 1 second.") for _, m in failed), failed
        assert "slow down" in failed[-1][1], failed
        # each try waited its back-off after the failure before it: 0.3, 0.6, then 1.2 capped at 1.0 s
        # (after the 429 also at least the 1 s the exchange asked for); none waited for the 6-hourly check
        times = [at for at, _ in failed] + [attempts[-1]["wall_ms"] / 1000]
        waits = [b - a for a, b in itertools.pairwise(times)]
        for waited, least in zip(waits, (0.3, 0.6, 1.0, 1.0, 1.0), strict=False):
            assert least - 0.01 <= waited < 30, waits
        state = service.state(account_id)
        assert state.last_error == "" and service.retry_attempts(account_id) == 0

        # a wrong key is not a passing reason: no retry
        await p.vault.store(account_id, ApiCredentials(ex.key, "wrong-" + ex.secret))
        count = len(probes(ex))
        with pytest.raises(AuthenticationFailed):
            await service.recheck(account_id)
        assert service.retry_attempts(account_id) == 0
        assert (
            p.activity[-1].startswith("The key could not be checked") and "Trying again" not in p.activity[-1]
        )
        await asyncio.sleep(1.5)  # longer than the longest back-off
        assert len(probes(ex)) == count + 1
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def _checked_after(service: AccountService, account_id: str, before: int | None) -> bool:
    account = service.account(account_id)
    checked = account.last_checked_ms if account is not None else None
    return checked is not None and before is not None and checked > before
