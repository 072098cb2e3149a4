"""The exchange accounts: connect one (test, then save), re-check its key, accept a risk, remove it.

``AccountService`` is the one place that moves credentials between the person's form, the exchange's
permission check and the OS keyring (``ports.SecretVault``); the accounts file (``ports.AccountStore``)
holds only what has no secret. Everything here is asyncio: the keyring and ccxt run off the event loop's
thread in their adapters, so the window never waits on them.

Every change is published as ``AccountsChanged`` (the whole, small list with each account's warnings);
warnings an account did not have at its previous check come as ``KeyWarningsRaised`` (the tray's
notification). Keys are re-checked when the service starts and every ``recheck_interval_s`` (6 hours); a
check that failed for a passing reason (the exchange down or unreachable, rate limiting) is tried again
sooner, backing off (``key_check_retries``: 1, 2, 4... minutes, at most 30).

Everything that changes one account (save, re-check, accept risk, acknowledge, remove) holds that account's
lock from its first read to its last write: a re-check in flight never lands on a key replaced meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptobots_desktop.core.accounts import Account, check_label, new_account_id, validate_credentials
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    CryptobotsError,
    InvalidAccount,
    KeyNotPermitted,
    VaultProblem,
    VaultUnavailable,
)
from cryptobots_desktop.core.permissions import Severity, audit, can_start_bot, describe
from cryptobots_desktop.core.ports import AccountStore, KeyInspector, SecretVault, VaultStatus
from cryptobots_desktop.core.seed_phrase import Bip39Wordlist

from .event_bus import EventBus
from .events import AccountsChanged, AccountState, KeyWarningsRaised, Level
from .key_check_retries import RETRY_FIRST_S, RETRY_MAX_S, RetryBook, in_words, is_transient
from .wall_clock import wall_ms

log = logging.getLogger(__name__)

RECHECK_INTERVAL_S = 6 * 3600
_LEVELS = {Severity.INFO: Level.INFO, Severity.WARNING: Level.WARNING}
CREDENTIAL_FIELDS = ("api_key", "secret", "passphrase", "uid")


@dataclass(frozen=True, slots=True)
class AccountDraft:
    """What the add/edit form holds: the exchange, a name, and the credential fields as typed.

    ``account_id`` None adds an account; set, it edits that one. On an edit, credential fields left
    all empty keep the stored key (only the name changes); any filled in replace all of them.
    """

    exchange_id: str
    label: str
    values: Mapping[str, str]
    account_id: str | None = None

    def __repr__(self) -> str:  # the values may be secrets: never shown
        return f"AccountDraft({self.exchange_id!r}, {self.label!r}, account_id={self.account_id!r})"

    @property
    def replaces_key(self) -> bool:
        return any(v.strip() for k, v in self.values.items() if k in CREDENTIAL_FIELDS)


class AccountConnector(Protocol):
    """What the composition root does when an account comes or goes (its gateway, feed and bots)."""

    async def connect(self, account: Account, credentials: ApiCredentials) -> None:
        """Open the account's exchange connection and start its journaled bots (replacing an old one)."""
        ...

    async def disconnect(self, account_id: str) -> None: ...

    async def hold(self, account_id: str, reason: str) -> None:
        """The account may no longer run bots (``can_start_bot`` said no): pause its running bots."""
        ...


class AccountService:
    """Connected exchange accounts: add, edit, re-check, accept risk, remove; periodic key re-checks."""

    def __init__(
        self,
        store: AccountStore,
        vault: SecretVault,
        inspector: KeyInspector,
        bus: EventBus,
        wordlist: Bip39Wordlist,
        *,
        connector: AccountConnector | None = None,
        now_ms: Callable[[], int] = wall_ms,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self._store = store
        self._vault = vault
        self.inspector = inspector
        self._bus = bus
        self._wordlist = wordlist
        self._connector = connector
        self._now_ms = now_ms
        self._interval = recheck_interval_s
        self._accounts: dict[str, Account] = {}
        self._errors: dict[str, str] = {}  # account id -> the last failed check's sentence
        self._checking: set[str] = set()
        self._connected: set[str] = set()
        self._vault_status = VaultStatus(False, "not checked yet", message="Checking the system keyring…")
        self._locks: dict[str, asyncio.Lock] = {}
        self._retries = RetryBook(retry_first_s, retry_max_s)
        self._retry_added = asyncio.Event()  # wakes ``run`` to look at the retries again

    # -- what there is -------------------------------------------------------------------------------
    @property
    def vault_status(self) -> VaultStatus:
        return self._vault_status

    @property
    def accounts(self) -> tuple[Account, ...]:
        return tuple(self._accounts.values())

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def state(self, account_id: str) -> AccountState:
        account = self._accounts[account_id]
        return AccountState(
            account,
            tuple(audit(account, self._now_ms())),
            checking=account_id in self._checking,
            last_error=self._errors.get(account_id, ""),
            connected=account_id in self._connected,
        )

    def states(self) -> tuple[AccountState, ...]:
        return tuple(self.state(a) for a in self._accounts)

    def can_start(self, account_id: str) -> tuple[bool, str]:
        """Whether a bot may start on the account now; when not, the sentence that says why."""
        account = self._accounts.get(account_id)
        if account is None:
            return False, "This bot's exchange account is not connected."
        if not self._vault_status.available:
            return False, f"{self._vault_status.message} {self._vault_status.hint}".strip()
        return can_start_bot(account, self._now_ms())

    # -- life cycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Read the accounts and announce them. Neither the keyring nor the network is touched yet: the
        keyring may ask the person to unlock it, and paper trading must not wait for that."""
        self._accounts = {a.account_id: a for a in await self._store.accounts()}
        self._publish()

    async def run(self) -> None:
        """Re-check every key now and then every ``recheck_interval_s`` until cancelled; in between, try
        again the checks that failed for a passing reason when their back-off ends."""
        loop = asyncio.get_running_loop()
        while True:
            await self.recheck_all()
            next_all = loop.time() + self._interval
            while loop.time() < next_all:
                for account_id in self._retries.due(loop.time()):
                    if account_id not in self._accounts:
                        self._retries.clear(account_id)
                        continue
                    with contextlib.suppress(CryptobotsError):  # reported; rescheduled or ended there
                        await self.recheck(account_id)
                retry_at = self._retries.next_due()
                wake = next_all if retry_at is None else min(next_all, retry_at)
                self._retry_added.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._retry_added.wait(), max(0.0, wake - loop.time()))

    def retry_attempts(self, account_id: str) -> int:
        """How many checks of the account in a row failed for a passing reason (0: no retry pending)."""
        return self._retries.attempts(account_id)

    async def check_vault(self) -> VaultStatus:
        """Ask the OS keyring whether it can keep keys now (it may unlock it: a system prompt)."""
        before = self._vault_status
        self._vault_status = await self._vault.status()
        if self._vault_status != before:
            if not self._vault_status.available:
                self._bus.activity(
                    Level.ERROR,
                    "keyring",
                    f"{self._vault_status.message} {self._vault_status.hint} Live accounts are unavailable; "
                    "paper trading works.",
                )
            self._publish()
        return self._vault_status

    async def recheck_all(self) -> None:
        """Re-check each account's key (and connect it, the first time); failures stay per account."""
        if not self._accounts:
            return  # nobody uses a live account: the keyring is left alone
        if not (await self.check_vault()).available:
            return
        for account_id in tuple(self._accounts):
            with contextlib.suppress(CryptobotsError):  # reported on the account and in the log
                await self.recheck(account_id)

    # -- commands ------------------------------------------------------------------------------------
    async def save(self, draft: AccountDraft) -> AccountState:
        """Test the key with a signed request, then keep it: the keyring first, then the accounts file.

        Nothing is stored unless the exchange accepted the key and it may read the account. Raises a
        ``CryptobotsError`` (``InvalidCredentials``, ``SeedPhraseRefused``, ``InvalidAccount``,
        ``AuthenticationFailed``, ``KeyNotPermitted``, ``ClockOutOfSync``, ``ExchangeUnavailable``,
        ``RateLimited``, ``VaultUnavailable``...) saying what went wrong; the form keeps what was typed.
        An edit holds the account's lock throughout: it waits for a re-check in flight to end first.
        """
        if not draft.account_id:
            return await self._save(draft)
        async with self._lock(draft.account_id):
            return await self._save(draft)

    async def _save(self, draft: AccountDraft) -> AccountState:
        old = self._accounts.get(draft.account_id) if draft.account_id else None
        if draft.account_id and old is None:
            raise InvalidAccount("This account no longer exists.", "Add it again.")
        others = [a.label for a in self._accounts.values() if a.account_id != draft.account_id]
        label = check_label(draft.label, others)
        if old is not None and not draft.replaces_key:
            renamed = old.with_label(label, others)
            await self._store.save(renamed)
            self._accounts[renamed.account_id] = renamed
            self._publish()
            self._bus.activity(Level.INFO, renamed.label, "Account renamed.")
            return self.state(renamed.account_id)
        exchange_id = old.exchange_id if old is not None else draft.exchange_id.strip()
        if not exchange_id:
            raise InvalidAccount("Choose the exchange of the account.")
        required = await self.inspector.required_fields(exchange_id)
        credentials = validate_credentials(draft.values, required, self._wordlist)
        await self._require_vault()
        now = self._now_ms()
        permissions = await self.inspector.inspect(exchange_id, credentials, now)
        if permissions.read is False:
            raise KeyNotPermitted(
                "The exchange accepted the key, but it may not read the account.",
                "Edit the key on the exchange and enable reading (and spot trading), then try again.",
            )
        if old is None:
            account = Account.create(new_account_id(exchange_id), exchange_id, label, credentials, now)
        else:
            account = old.with_credentials(credentials).with_label(label, others)
        account = account.with_check(permissions, now)
        # Once the exchange has said yes, keeping the key runs to its end even if the person cancels now:
        # a half-kept account (a keyring entry without its account, or the reverse) is never left, and the
        # account's lock is held until it is whole.
        await _to_the_end(self._keep(account, credentials, replacing=old is not None))
        return self.state(account.account_id)

    async def _keep(self, account: Account, credentials: ApiCredentials, *, replacing: bool) -> None:
        await self._vault.store(account.account_id, credentials)
        try:
            await self._store.save(account)
        except BaseException:
            if not replacing:  # no orphaned keyring entry for an account that was never saved
                with contextlib.suppress(CryptobotsError):
                    await self._vault.delete(account.account_id)
            raise
        self._accounts[account.account_id] = account
        self._errors.pop(account.account_id, None)
        self._retries.clear(account.account_id)
        verb = "updated with a new key" if replacing else "connected"
        self._bus.activity(Level.INFO, account.label, f"Account {verb}: the exchange accepted the key.")
        self._announce_new_warnings(account, previous=())
        await self._connect(account, credentials)
        await self._hold_if_blocked(account.account_id)
        self._publish()

    async def recheck(self, account_id: str) -> AccountState:
        """Ask the exchange again what the account's key may do; a failure is kept on the account."""
        async with self._lock(account_id):
            account = self._require(account_id)
            self._checking.add(account_id)
            self._publish()
            try:
                await self._require_vault()
                credentials = await self._vault.load(account_id)
                if credentials is None:
                    raise VaultUnavailable(
                        "The system keyring holds no key for this account.",
                        "Enter its API key again (Accounts, Edit).",
                        problem=VaultProblem.FAILED,
                    )
                permissions = await self.inspector.inspect(account.exchange_id, credentials, self._now_ms())
            except CryptobotsError as exc:
                self._errors[account_id] = str(exc)
                again = self._schedule_retry(account_id, exc)
                self._bus.activity(Level.ERROR, account.label, f"The key could not be checked: {exc}{again}")
                raise
            finally:
                self._checking.discard(account_id)
                self._publish()
            previous = tuple(w.code for w in audit(account, self._now_ms()))
            checked = self._require(account_id).with_check(permissions, self._now_ms())
            await self._store.save(checked)
            self._accounts[account_id] = checked
            self._errors.pop(account_id, None)
            self._retries.clear(account_id)
            self._announce_new_warnings(checked, previous)
            if account_id not in self._connected:
                await self._connect(checked, credentials)
            await self._hold_if_blocked(account_id)
            self._publish()
            return self.state(account_id)

    async def accept_risk(self, account_id: str, typed_label: str) -> AccountState:
        """The person typed the account's name to accept what its key may do (withdrawals)."""
        async with self._lock(account_id):
            accepted = self._require(account_id).accept_risk(typed_label, self._now_ms())
            await self._store.save(accepted)
            self._accounts[account_id] = accepted
            self._bus.activity(
                Level.WARNING,
                accepted.label,
                "You accepted that this account's key may withdraw funds. Bots may run on it; replace the "
                "key with one without withdrawals when you can.",
            )
            self._publish()
            return self.state(account_id)

    async def acknowledge_widening(self, account_id: str) -> AccountState:
        """The person says they gave the key the rights it gained: the flag goes (until it gains more)."""
        async with self._lock(account_id):
            account = self._require(account_id)
            seen = account.acknowledge_widening()
            await self._store.save(seen)
            self._accounts[account_id] = seen
            if account.widened:
                self._bus.activity(
                    Level.INFO,
                    seen.label,
                    f"You confirmed you gave the key {describe(account.widened)} yourself; the warning is "
                    "cleared.",
                )
            self._publish()
            return self.state(account_id)

    async def remove(self, account_id: str) -> None:
        """Disconnect the account, delete its keyring entry, forget it. Its journal history stays."""
        async with self._lock(account_id):
            account = self._require(account_id)
            if self._connector is not None and account_id in self._connected:
                await self._connector.disconnect(account_id)
            self._connected.discard(account_id)
            await self._vault.delete(account_id)
            await self._store.remove(account_id)
            self._accounts.pop(account_id, None)
            self._errors.pop(account_id, None)
            self._retries.clear(account_id)
            self._bus.activity(
                Level.INFO, account.label, "Account removed; its key was deleted from the keyring."
            )
            self._publish()

    # -- inside --------------------------------------------------------------------------------------
    def _require(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise InvalidAccount("This account no longer exists.")
        return account

    def _lock(self, account_id: str) -> asyncio.Lock:
        return self._locks.setdefault(account_id, asyncio.Lock())

    def _schedule_retry(self, account_id: str, error: CryptobotsError) -> str:
        """After a failed check: another try soon when the reason may pass, else none; what to add to the
        failure's sentence."""
        if not is_transient(error):
            self._retries.clear(account_id)
            return ""
        wait = self._retries.failed(account_id, error, asyncio.get_running_loop().time())
        self._retry_added.set()
        return f" Trying again in {in_words(wait)}."

    async def _require_vault(self) -> None:
        status = await self.check_vault()
        if not status.available:
            problem = status.problem or VaultProblem.NO_KEYRING
            raise VaultUnavailable(status.message, status.hint, problem=problem)

    async def _connect(self, account: Account, credentials: ApiCredentials) -> None:
        if self._connector is None:
            return
        try:
            await self._connector.connect(account, credentials)
        except CryptobotsError as exc:
            self._errors[account.account_id] = f"Not connected: {exc}"
            self._bus.activity(Level.ERROR, account.label, f"The account could not be connected: {exc}")
            return
        self._connected.add(account.account_id)

    async def _hold_if_blocked(self, account_id: str) -> None:
        allowed, reason = self.can_start(account_id)
        if not allowed and self._connector is not None and account_id in self._connected:
            await self._connector.hold(account_id, reason)

    def _announce_new_warnings(self, account: Account, previous: Sequence[object]) -> None:
        new = tuple(w for w in audit(account, self._now_ms()) if w.code not in previous)
        for warning in new:
            level = _LEVELS.get(warning.severity, Level.ERROR)
            self._bus.activity(level, account.label, f"{warning.title}. {warning.action}")
        notable = tuple(w for w in new if w.severity >= Severity.WARNING)
        if notable:
            self._bus.publish(KeyWarningsRaised(account, notable))

    def _publish(self) -> None:
        self._bus.publish(AccountsChanged(self.states(), self._vault_status))


async def _to_the_end(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end even when the caller is cancelled meanwhile; the cancellation is raised once
    it ended (so a lock held around it is never released half way)."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is None:
        task.result()
        return
    if not task.cancelled() and (failure := task.exception()) is not None:
        log.warning("keeping the account failed after the save was cancelled: %s", failure)
    raise cancelled
