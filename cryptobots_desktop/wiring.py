"""The composition root: the one place that picks concrete adapters and wires them to the engine.

``open_paper_runtime`` opens the embedded paper account, the order journal and the bot supervisor; the
connected exchange accounts (``AccountService``) come with it, each live one trading through its own
``CcxtGateway`` (``LiveConnector``), which imports ccxt only when a live account is used.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.adapters.account_store import JsonAccountStore, accounts_file
from cryptobots_desktop.adapters.bip39_wordlist import load_bip39_english
from cryptobots_desktop.adapters.key_inspector import CcxtKeyInspector
from cryptobots_desktop.adapters.keyring_vault import KeyringVault
from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import ExchangeGateway, Journal, ReplayControl, SecretVault
from cryptobots_desktop.engine.accounts import AccountService
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import Level
from cryptobots_desktop.engine.market_feed import MarketFeed
from cryptobots_desktop.engine.order_executor import OrderExecutor
from cryptobots_desktop.engine.portfolio import PortfolioTracker
from cryptobots_desktop.engine.supervisor import AccountLink, BotSupervisor
from cryptobots_desktop.engine.wall_clock import WallClock
from cryptobots_desktop.paths import AppPaths
from cryptobots_desktop.settings import AppSettings

_log = logging.getLogger(__name__)

PAPER_ACCOUNT_ID = "paper"
LIVE_POLL_INTERVAL_S = 5.0  # a live account's prices and balances: every 5 s (ccxt's rate limiting on top)
LIVE_QUOTE = "USDT"  # what a live account's holdings are valued in
MAX_PRICED_HOLDINGS = 10  # a live account's largest holdings priced at each poll (one request each)


class LiveConnector:
    """``engine.accounts.AccountConnector``: a live account's gateway, order executor, feed and bots.

    ``api_urls`` points an exchange's every REST endpoint elsewhere (``--exchange-url``: the local test
    exchange, a proxy). Orders left pending by a crash are reconciled by client order id before the
    account's bots take a step.
    """

    def __init__(
        self,
        bus: EventBus,
        journal: Journal,
        supervisor: BotSupervisor,
        api_urls: Mapping[str, str],
        poll_interval: float = LIVE_POLL_INTERVAL_S,
    ) -> None:
        self._bus = bus
        self._journal = journal
        self._supervisor = supervisor
        self._api_urls = dict(api_urls)
        self._poll_interval = poll_interval
        self._open: dict[str, tuple[ExchangeGateway, asyncio.Task[None]]] = {}
        self._feeds: dict[str, tuple[MarketFeed, PortfolioTracker]] = {}
        self._markets: dict[str, Mapping[str, Market]] = {}

    def set_chart(self, account_id: str, symbol: str | None) -> None:
        """Fetch ``symbol``'s candles for the dashboard from a connected live account (None: stop)."""
        if account_id in self._feeds:
            self._feeds[account_id][0].set_chart_symbol(symbol)

    def _watched(self, account_id: str) -> list[str]:
        """The pairs a live feed polls: its bots', the chart's, and those pricing its largest holdings."""
        markets = self._markets.get(account_id, {})
        feed, portfolio = self._feeds[account_id]
        pairs = list(self._supervisor.symbols_of(account_id))
        if feed.chart_symbol is not None:
            pairs.append(feed.chart_symbol)
        priced = [f"{asset}/{portfolio.quote}" for asset in portfolio.held]
        pairs += [p for p in priced if p in markets][:MAX_PRICED_HOLDINGS]
        return list(dict.fromkeys(pairs))

    def markets_of(self, account_id: str) -> Mapping[str, Market]:
        """The spot markets of a connected live account (empty when it is not connected)."""
        return self._markets.get(account_id, {}) if account_id in self._open else {}

    async def price(self, account_id: str, symbol: str) -> Decimal:
        """A pair's last price on a connected live account (for the new-bot dialog's preview)."""
        return (await self._open[account_id][0].fetch_ticker(symbol)).last

    async def free_balances(self, account_id: str) -> dict[str, Decimal]:
        """Each asset's free balance on a connected live account."""
        balances = await self._open[account_id][0].fetch_balances()
        return {asset: balance.free for asset, balance in balances.items()}

    async def connect(self, account: Account, credentials: ApiCredentials) -> None:
        await self.disconnect(account.account_id)
        await asyncio.to_thread(importlib.import_module, "ccxt.async_support")  # ~0.45 s, off the loop
        from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway  # noqa: PLC0415 - live only

        gateway = CcxtGateway(
            account.exchange_id,
            credentials,
            account_id=account.account_id,
            api_url=self._api_urls.get(account.exchange_id),
        )
        clock = WallClock()
        try:
            markets = await gateway.load_markets()
            executor = OrderExecutor(
                self._journal,
                gateway,
                self._bus,
                account_id=account.account_id,
                late_acceptance_s=gateway.late_acceptance_s,
                clock=clock,
            )
            report = await executor.reconciler.reconcile_all()
            portfolio = PortfolioTracker(self._bus, gateway, account_id=account.account_id, quote=LIVE_QUOTE)
            await portfolio.prime()  # which holdings to price, known before the first poll
        except BaseException:
            await gateway.close()
            raise
        if report.updated or report.not_placed:
            self._bus.activity(
                Level.INFO,
                account.label,
                f"Checked the orders left from the last run: {len(report.updated)} updated from the "
                f"exchange, {len(report.not_placed)} never reached it.",
            )
        await self._supervisor.add_account(account.account_id, AccountLink(executor, markets, clock))
        feed = MarketFeed(
            self._bus,
            gateway,
            portfolio,
            symbols=lambda: self._watched(account.account_id),
            chart_symbol=None,
            poll_interval=self._poll_interval,
            on_prices=functools.partial(self._supervisor.on_prices, account_id=account.account_id),
            account_id=account.account_id,
        )
        task = asyncio.get_running_loop().create_task(feed.run(), name=f"feed-{account.account_id}")
        self._open[account.account_id] = (gateway, task)
        self._feeds[account.account_id] = (feed, portfolio)
        self._markets[account.account_id] = markets
        self._bus.activity(Level.INFO, account.label, f"Connected to {gateway.exchange_name}.")

    async def disconnect(self, account_id: str) -> None:
        opened = self._open.pop(account_id, None)
        if opened is None:
            return
        gateway, task = opened
        self._feeds.pop(account_id, None)
        await stop_task(task)
        await self._supervisor.remove_account(account_id)
        await gateway.close()

    async def hold(self, account_id: str, reason: str) -> None:
        await self._supervisor.hold_account(account_id, reason)

    async def close(self) -> None:
        for account_id in tuple(self._open):
            await self.disconnect(account_id)


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it; one that had already failed is logged, not raised, so
    stopping goes on (the journal and the exchanges are still closed)."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        _log.exception("background task %s had failed", task.get_name())


@dataclass
class Runtime:
    """What runs behind the window for one session: an exchange account, its feed and its portfolio."""

    bus: EventBus
    gateway: ExchangeGateway
    feed: MarketFeed
    portfolio: PortfolioTracker
    markets: Mapping[str, Market]
    pairs: tuple[str, ...]
    replay: ReplayControl | None
    description: str
    journal: Journal
    executor: OrderExecutor
    supervisor: BotSupervisor
    accounts: AccountService
    live: LiveConnector
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    def start(self) -> None:
        """Start the paper feed, and the live accounts' key checks and connections (in the background)."""
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks.append(loop.create_task(self.feed.run(), name="market-feed"))
            self._tasks.append(loop.create_task(self.accounts.run(), name="key-checks"))

    async def stop(self) -> None:
        """Stop the feeds and close the exchanges (the paper exchange saves its state here)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await stop_task(task)
        try:
            await self.live.close()
            await self.gateway.close()
        finally:
            await self.journal.close()


async def open_paper_runtime(
    bus: EventBus,
    settings: AppSettings,
    paths: AppPaths,
    resources: Path,
    *,
    api_urls: Mapping[str, str] | None = None,
    vault: SecretVault | None = None,
) -> Runtime:
    """The embedded default: a paper account replaying real recorded market data, no key, no network.

    The connected live accounts are read too (their keys are checked and connected by ``Runtime.start``,
    in the background). ``vault`` defaults to the OS keyring.
    """
    paper = settings.paper
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset=paper.dataset,
        state_path=paths.paper_state_file(paper.dataset),
        starting_balances=paper.starting_balances,
        speed=paper.speed,
    )
    try:
        journal = await SqliteJournal.open(paths.journal_file, clock=exchange.replay)
    except BaseException:
        await exchange.close()
        raise
    executor = OrderExecutor(journal, exchange, bus, account_id=PAPER_ACCOUNT_ID)
    report = await executor.reconciler.reconcile_all()  # orders a crash left unresolved, before anything else
    if report.updated or report.not_placed:
        bus.activity(
            Level.INFO,
            "paper",
            f"Checked the orders left from the last run: {len(report.updated)} updated from the exchange, "
            f"{len(report.not_placed)} never reached it.",
        )
    pairs = tuple(exchange.dataset.pairs)
    chart = settings.window.chart_pair if settings.window.chart_pair in pairs else pairs[0]
    # "since start" compares with what this account really started with (saved with it), not the settings
    portfolio = PortfolioTracker(
        bus, exchange, account_id=PAPER_ACCOUNT_ID, quote="USDT", starting_balances=exchange.starting_balances
    )
    paper_link = AccountLink(executor, exchange.markets, exchange.replay)
    service: list[AccountService] = []  # the gate asks the account service, made just below

    def gate(account_id: str) -> tuple[bool, str]:
        return (True, "") if account_id == PAPER_ACCOUNT_ID else service[0].can_start(account_id)

    supervisor = BotSupervisor(journal, {PAPER_ACCOUNT_ID: paper_link}, bus, gate)
    live = LiveConnector(bus, journal, supervisor, api_urls or {})
    wordlist = await asyncio.to_thread(load_bip39_english)
    store = JsonAccountStore(accounts_file(paths.data_dir))
    service.append(
        AccountService(
            store,
            vault or KeyringVault(),
            CcxtKeyInspector(api_urls),
            bus,
            wordlist,
            connector=live,
        )
    )
    await service[0].start()
    if store.problem:
        bus.activity(Level.ERROR, "accounts", store.problem)
    await supervisor.load()  # every bot and deal as the journal left them
    feed = MarketFeed(
        bus,
        exchange,
        portfolio,
        symbols=pairs,
        chart_symbol=chart,
        replay=exchange.replay,
        on_prices=functools.partial(supervisor.on_prices, account_id=PAPER_ACCOUNT_ID),
        account_id=PAPER_ACCOUNT_ID,
    )
    bus.activity(
        Level.INFO,
        "paper",
        f"Paper trading on {exchange.dataset.title}: simulated funds, real recorded prices, no exchange key "
        "and no network needed.",
    )
    return Runtime(
        bus,
        exchange,
        feed,
        portfolio,
        exchange.markets,
        pairs,
        exchange.replay,
        "Paper trading — simulated funds",
        journal,
        executor,
        supervisor,
        service[0],
        live,
    )
