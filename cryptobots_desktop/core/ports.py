"""The ports: what the engine needs from the outside world, as typing.Protocols.

Adapters implement them (the paper exchange, ccxt for live exchanges, the keyring, the journal); the
engine is written against these only, and one composition root wires concrete adapters in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptobots_desktop.core.accounts import Account, RequiredFields
from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.bots import BotRecord, DealRecord
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import VaultProblem
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.market import Candle, Market, Ticker
from cryptobots_desktop.core.orders import Order, OrderRequest
from cryptobots_desktop.core.replay import ReplaySpeed


class Clock(Protocol):
    """Market time in Unix milliseconds (the replay's time in paper mode, wall time live)."""

    def now_ms(self) -> int: ...


class ExchangeGateway(Protocol):
    """One exchange account: markets, prices, balances and orders. Raises ``core.errors`` only."""

    @property
    def exchange_id(self) -> str: ...

    @property
    def is_paper(self) -> bool: ...

    async def load_markets(self) -> Mapping[str, Market]:
        """Spot markets keyed by unified symbol; loaded once, then cached."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> Sequence[Candle]:
        """The last ``limit`` candles up to now, oldest first; the last one may still be forming."""
        ...

    async def fetch_balances(self) -> Mapping[str, Balance]: ...

    async def create_order(self, request: OrderRequest) -> Order:
        """Place an order under the request's client order id; a reused id is refused by the exchange."""
        ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None if the exchange never accepted it."""
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[Order]: ...

    async def close(self) -> None: ...


class ReplayControl(Clock, Protocol):
    """The paper exchange's replay of recorded market data."""

    @property
    def speed(self) -> ReplaySpeed: ...

    def set_speed(self, speed: ReplaySpeed) -> None: ...

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    def step(self, ms: int) -> None:
        """Move replay time forward by ``ms`` (used at MAX speed, where time only moves when stepped)."""
        ...


class Journal(Protocol):
    """The durable record of every order intent and what the exchange said about it, and of the bots and
    their deals (SQLite, WAL).

    Every write is committed (and synced to disk per the journal's durability setting) before it returns.
    Holds account ids, bot names and strategy parameters, never a secret.
    """

    async def record_intent(self, intent: OrderIntent) -> JournaledOrder:
        """Write a new intent as PENDING. Raises ``DuplicateClientOrderId`` if its id is already journaled."""
        ...

    async def record_order(self, client_order_id: str, order: Order) -> JournaledOrder:
        """Record what the exchange reports of an order: state, exchange id, new fills (idempotent)."""
        ...

    async def record_state(
        self, client_order_id: str, state: IntentState, error: str | None = None, *, at_ms: int | None = None
    ) -> JournaledOrder:
        """Set a state the exchange did not report as an order: REJECTED, NOT_PLACED, or PENDING again;
        ``at_ms``: when, on the account's clock (default: the journal's)."""
        ...

    async def get(self, client_order_id: str) -> JournaledOrder | None: ...

    async def needing_reconciliation(self, account_id: str) -> Sequence[JournaledOrder]:
        """PENDING and OPEN intents of an account, oldest first."""
        ...

    async def orders_of_bot(self, bot_id: str) -> Sequence[JournaledOrder]:
        """Every journaled order of a bot, oldest first (deals are rebuilt from these)."""
        ...

    async def save_bot(self, bot: BotRecord) -> None:
        """Insert or replace a bot's configuration and status."""
        ...

    async def bots(self) -> Sequence[BotRecord]:
        """Every bot, oldest first."""
        ...

    async def save_deal(self, deal: DealRecord) -> None:
        """Insert or replace a deal's record (keyed by bot id and deal number)."""
        ...

    async def deals_of_bot(self, bot_id: str) -> Sequence[DealRecord]:
        """A bot's deals, by deal number."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class VaultStatus:
    """Whether the OS keyring can keep API keys; when not, why and how to fix it (for the window)."""

    available: bool
    backend: str  # the keyring backend's name, e.g. "SecretService Keyring"
    problem: VaultProblem | None = None
    message: str = ""
    hint: str = ""


class SecretVault(Protocol):
    """API credentials at rest, one entry per account id, in the OS keyring and nowhere else.

    Every method is async: keyring calls block (D-Bus, Keychain, Credential Manager), so implementations
    run them in a worker thread. Failures raise ``core.errors.VaultUnavailable`` with a message that
    carries no secret; there is never a fallback to a file.
    """

    async def status(self) -> VaultStatus:
        """Whether the keyring is usable now (it may unlock it, which can show the system's prompt)."""
        ...

    async def store(self, account_id: str, credentials: ApiCredentials) -> None:
        """Save (or replace) the account's credentials, all fields at once."""
        ...

    async def load(self, account_id: str) -> ApiCredentials | None:
        """The account's credentials, or None when the keyring holds none for it."""
        ...

    async def delete(self, account_id: str) -> None:
        """Remove the account's credentials; nothing to remove is not an error."""
        ...


class AccountStore(Protocol):
    """The connected accounts' metadata (ids, labels, masked keys, permission checks): never a secret."""

    async def accounts(self) -> Sequence[Account]:
        """Every account, oldest first."""
        ...

    async def get(self, account_id: str) -> Account | None: ...

    async def save(self, account: Account) -> None:
        """Insert or replace an account (by id); refuses a label another account already has."""
        ...

    async def remove(self, account_id: str) -> None:
        """Forget an account (its keyring entry is the vault's to delete)."""
        ...


@dataclass(frozen=True, slots=True)
class ExchangeListing:
    """An exchange a person can connect: its ccxt id, its name, and whether the app can read key rights."""

    exchange_id: str
    name: str
    probed: bool  # True: a permission probe reads what a key may do there; False: it cannot say


class KeyInspector(Protocol):
    """What the add-account flow asks of the exchanges: which exist, what a key needs, what it may do.

    Every method may load ccxt (~0.45 s) and talks to the network: implementations keep that off the
    calling thread. Failures raise ``core.errors`` only (``AuthenticationFailed``, ``ClockOutOfSync``,
    ``RateLimited``, ``ExchangeUnavailable``...), their messages free of any secret.
    """

    async def exchanges(self) -> Sequence[ExchangeListing]:
        """The exchanges with a permission probe first (by name), then every other one ccxt knows."""
        ...

    async def required_fields(self, exchange_id: str) -> RequiredFields:
        """The credential fields the exchange needs (ccxt's ``requiredCredentials``)."""
        ...

    async def inspect(self, exchange_id: str, credentials: ApiCredentials, now_ms: int) -> KeyPermissions:
        """Sign a real request with the key and read what it may do (fully unknown where it cannot say)."""
        ...
