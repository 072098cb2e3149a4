"""The bot supervisor: every bot of the app, each stepped on new prices, each failure isolated.

A bot that raises is stopped with status ERROR and its reason (shown in the window and the tray); the
others go on. Start, pause (no new deals; open deals keep their take-profit), stop, "close deal at market"
and "pause all" are here, and every change is journaled before it is announced.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.ports import Clock, Journal
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.grid import GridParams
from cryptobots_desktop.engine.bot_runner import BotRunner
from cryptobots_desktop.engine.dca_runner import DcaBotRunner
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import BotStopped, BotUpdated, Level
from cryptobots_desktop.engine.grid_runner import GridBotRunner
from cryptobots_desktop.engine.order_executor import OrderExecutor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountLink:
    """What the bots of one exchange account trade through: its executor, its markets, its clock."""

    executor: OrderExecutor
    markets: Mapping[str, Market]
    clock: Clock


Gate = Callable[[str], tuple[bool, str]]
"""Whether bots may run on an account now (``AccountService.can_start``): (allowed, why not)."""


def _open_gate(_account_id: str) -> tuple[bool, str]:
    return True, ""


class BotSupervisor:
    """Owns the bots' runners. ``on_prices`` is called by each account's price feed on new prices.

    ``gate`` says whether bots may run on an account (a key that may withdraw, has not been checked, or
    may not trade): no bot is created, started or resumed on an account it refuses, and ``hold_account``
    pauses the running ones when an account becomes refused.
    """

    def __init__(
        self, journal: Journal, accounts: Mapping[str, AccountLink], bus: EventBus, gate: Gate = _open_gate
    ) -> None:
        self._gate = gate
        self._journal = journal
        self._accounts = dict(accounts)
        self._bus = bus
        self._runners: dict[str, BotRunner] = {}
        self._prices: dict[tuple[str, str], Decimal] = {}  # (account, pair): last price, for steps between
        self._last: dict[str, BotUpdated] = {}
        self._seen: dict[str, tuple[Decimal | None, int, BotStatus]] = {}  # price, time, status last step

    # -- accounts --------------------------------------------------------------------------------------
    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(self._accounts)

    def symbols_of(self, account_id: str) -> tuple[str, ...]:
        """The pairs the bots of an account trade (what its price feed must poll)."""
        return tuple(
            sorted({r.bot.symbols[0] for r in self._runners.values() if r.bot.account_id == account_id})
        )

    async def add_account(self, account_id: str, link: AccountLink) -> None:
        """Connect an account (at start or when the person adds one) and start the bots journaled on it.

        Bots journaled as running stay paused while the gate refuses the account.
        """
        self._accounts[account_id] = link
        for bot in await self._journal.bots():
            if bot.account_id == account_id and bot.bot_id not in self._runners:
                await self._try_add(bot)
        allowed, reason = self._gate(account_id)
        if not allowed:
            await self.hold_account(account_id, reason)

    async def remove_account(self, account_id: str) -> None:
        """Disconnect an account: its bots stop being stepped (their journal records stay as they are)."""
        self._accounts.pop(account_id, None)
        for bot_id in [b for b, r in self._runners.items() if r.bot.account_id == account_id]:
            self._runners.pop(bot_id)
            self._last.pop(bot_id, None)
            self._seen.pop(bot_id, None)
        self._prices = {k: v for k, v in self._prices.items() if k[0] != account_id}

    async def hold_account(self, account_id: str, reason: str) -> int:
        """Pause every running bot of the account, saying why; returns how many were paused."""
        running = [
            r
            for r in self._runners.values()
            if r.bot.account_id == account_id and r.bot.status is BotStatus.RUNNING
        ]
        for runner in running:
            await runner.set_status(BotStatus.PAUSED)
            self._bus.activity(Level.WARNING, runner.bot.name, f"Bot paused: {reason}")
            self._announce(runner)
        return len(running)

    def _check_gate(self, account_id: str) -> None:
        allowed, reason = self._gate(account_id)
        if not allowed:
            raise CryptobotsError(f"Bots cannot run on this account now. {reason}")

    # -- bots ------------------------------------------------------------------------------------------
    async def load(self) -> None:
        """Rebuild every bot and its deals from the journal."""
        for bot in await self._journal.bots():
            if bot.account_id in self._accounts:  # others start when their account connects
                await self._try_add(bot)

    async def _try_add(self, bot: BotRecord) -> None:
        try:
            await self._add_runner(bot)
        except (CryptobotsError, ValueError) as exc:
            log.warning("bot %s cannot run: %s", bot.bot_id, exc)
            self._bus.activity(Level.ERROR, bot.name, f"This bot cannot run: {exc}")

    @property
    def bots(self) -> Sequence[BotRecord]:
        return tuple(r.bot for r in self._runners.values())

    def runner(self, bot_id: str) -> BotRunner:
        return self._runners[bot_id]

    async def create_dca_bot(self, name: str, account_id: str, symbol: str, params: DcaParams) -> BotRecord:
        """Journal a new DCA bot (running) and start it."""
        return await self._create(name, account_id, symbol, StrategyKind.DCA, params)

    async def create_grid_bot(self, name: str, account_id: str, symbol: str, params: GridParams) -> BotRecord:
        """Journal a new grid bot (running) and start it: its grid opens at the next price."""
        return await self._create(name, account_id, symbol, StrategyKind.GRID, params)

    async def _create(
        self, name: str, account_id: str, symbol: str, kind: StrategyKind, params: DcaParams | GridParams
    ) -> BotRecord:
        link = self._accounts.get(account_id)
        if link is None:
            raise ValueError(f"no such account: {account_id!r}")
        self._check_gate(account_id)
        if symbol not in link.markets:
            raise ValueError(f"{symbol} is not traded on this account")
        bot = BotRecord(
            secrets.token_hex(4),
            name.strip() or f"{'DCA' if kind is StrategyKind.DCA else 'Grid'} {symbol}",
            account_id,
            kind,
            (symbol,),
            params.model_dump_json(),
            BotStatus.RUNNING,
            link.clock.now_ms(),
        )
        await self._journal.save_bot(bot)
        await self._add_runner(bot)
        self._bus.activity(Level.INFO, bot.name, f"Bot created on {symbol} and started.")
        return bot

    async def _add_runner(self, bot: BotRecord) -> None:
        link = self._accounts.get(bot.account_id)
        market = link.markets.get(bot.symbols[0]) if link is not None else None
        if link is None or market is None:
            raise CryptobotsError(
                f"its account or pair ({bot.account_id}, {bot.symbols[0]}) is not available."
            )
        runner: BotRunner
        parts = (self._journal, link.executor, self._bus, link.clock)
        if bot.strategy is StrategyKind.DCA:
            runner = DcaBotRunner(bot, DcaParams.model_validate_json(bot.params_json), market, *parts)
        elif bot.strategy is StrategyKind.GRID:
            runner = GridBotRunner(bot, GridParams.model_validate_json(bot.params_json), market, *parts)
        else:
            raise CryptobotsError(f"{bot.strategy.value} bots are not supported by this version yet.")
        await runner.load()
        self._runners[bot.bot_id] = runner
        self._announce(runner)

    # -- commands --------------------------------------------------------------------------------------
    async def set_status(self, bot_id: str, status: BotStatus) -> None:
        """Start (RUNNING), pause (no new deals), or stop a bot.

        Stopping a grid bot closes its grid: its orders are canceled (what it holds is kept); the stopped
        bot is stepped until that is done. A stopped DCA bot leaves its open deals as they are.
        """
        runner = self._runners[bot_id]
        if status is BotStatus.RUNNING:
            self._check_gate(runner.bot.account_id)
        await runner.set_status(status)
        if status is BotStatus.STOPPED and runner.closes_on_stop:
            for record in runner.active_deals:
                await runner.close_deal(record.deal_no)
            await self._step(runner, self._prices.get((runner.bot.account_id, runner.bot.symbols[0])))
        verb = {BotStatus.RUNNING: "started", BotStatus.PAUSED: "paused", BotStatus.STOPPED: "stopped"}
        self._bus.activity(Level.INFO, runner.bot.name, f"Bot {verb.get(status, status.value)}.")
        self._announce(runner)

    async def pause_all(self) -> int:
        """Pause every running bot; returns how many were paused."""
        running = [r for r in self._runners.values() if r.bot.status is BotStatus.RUNNING]
        for runner in running:
            await self.set_status(runner.bot.bot_id, BotStatus.PAUSED)
        return len(running)

    async def resume_all(self) -> int:
        """Resume every paused bot whose account the gate allows; returns how many were resumed."""
        paused = [r for r in self._runners.values() if r.bot.status is BotStatus.PAUSED]
        resumed = 0
        for runner in paused:
            allowed, reason = self._gate(runner.bot.account_id)
            if not allowed:
                self._bus.activity(Level.WARNING, runner.bot.name, f"Bot stays paused: {reason}")
                continue
            await self.set_status(runner.bot.bot_id, BotStatus.RUNNING)
            resumed += 1
        return resumed

    async def close_deal(self, bot_id: str, deal_no: int, price: Decimal | None) -> None:
        """Close a deal at market now: cancel its orders and sell what it holds.

        A grid's one deal is the bot itself: closing it stops the bot (its orders canceled, holdings kept).
        """
        runner = self._runners[bot_id]
        if runner.closes_on_stop:
            await self.set_status(bot_id, BotStatus.STOPPED)
            return
        await runner.close_deal(deal_no)
        await self._step(runner, price)

    # -- prices ----------------------------------------------------------------------------------------
    async def on_prices(self, prices: Mapping[str, Decimal], account_id: str) -> None:
        """Step every bot of ``account_id`` that is not stopped on its pair's new price.

        The event loop gets a turn after each bot, so the window paints and its timers fire however many
        bots there are. A bot is not stepped again when neither its pair's price nor its exchange's time
        moved since its last step (nothing can have filled, and it already decided on that price).
        """
        link = self._accounts.get(account_id)
        if link is None:
            return
        self._prices.update({(account_id, symbol): price for symbol, price in prices.items()})
        now_ms = link.clock.now_ms()
        for runner in tuple(self._runners.values()):
            if runner.bot.account_id != account_id:
                continue
            price = prices.get(runner.bot.symbols[0])
            seen = (price, now_ms, runner.bot.status)
            if price is not None and self._seen.get(runner.bot.bot_id) == seen:
                continue
            await self._step(runner, price)
            self._seen[runner.bot.bot_id] = seen
            await asyncio.sleep(0)

    async def _step(self, runner: BotRunner, price: Decimal | None) -> None:
        """Step one bot; a failure stops it with its reason, said once (a bot stopped on an error is still
        stepped while it closes the deals the person closed at market, and may fail the same way again)."""
        if not runner.needs_steps:
            return
        was_failed, error_before = runner.failed, runner.bot.error
        try:
            await runner.step(price)
        except Exception as exc:  # one bot's failure never stops the others, nor the app
            reason = exc.message if isinstance(exc, CryptobotsError) else f"{type(exc).__name__}: {exc}"
            if not (was_failed and reason == error_before):
                log.exception("bot %s failed", runner.bot.bot_id)
                await runner.set_status(BotStatus.ERROR, reason)
                self._bus.activity(Level.ERROR, runner.bot.name, f"Bot stopped: {reason}")
                self._bus.publish(BotStopped(runner.bot, reason))
        else:
            # a deal failed during this step (an order the deal needed was refused)
            if runner.failed and not (was_failed and runner.bot.error == error_before):
                self._bus.publish(BotStopped(runner.bot, runner.bot.error or "an order was refused"))
        self._announce(runner)

    def _announce(self, runner: BotRunner) -> None:
        closed = sum(1 for d in runner.deals if d.phase == "closed")
        update = BotUpdated(runner.bot, len(runner.active_deals), closed, runner.realised_profit())
        if self._last.get(runner.bot.bot_id) != update:
            self._last[runner.bot.bot_id] = update
            self._bus.publish(update)
