"""The app controller: builds the window and tray on top of the engine, and owns start and quit."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import logging
import sys
from collections.abc import Coroutine, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QSystemTrayIcon

from cryptobots_desktop.core.bots import BotStatus, StrategyKind
from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import (
    BotStopped,
    BotUpdated,
    ConnectionChanged,
    ConnectionState,
    DealUpdated,
    Level,
    PortfolioUpdated,
    TickerUpdated,
)
from cryptobots_desktop.paths import AppPaths
from cryptobots_desktop.settings import LoadedSettings, SettingsStore

from .accounts_controller import AccountsController
from .dashboard_controller import DashboardController
from .event_bridge import QtEventBridge
from .formatting import fmt_money, fmt_signed
from .main_window import WINDOW_TITLE, MainWindow
from .table_view import RecordTableView
from .tray import AppTray

if TYPE_CHECKING:
    from cryptobots_desktop.wiring import Runtime

PAPER_ACCOUNT_ID = "paper"  # wiring.PAPER_ACCOUNT_ID (wiring loads after the first paint)

log = logging.getLogger(__name__)


class AppController(QObject):
    """One app session: window, tray and runtime; close-to-tray; a clean quit that saves everything."""

    def __init__(
        self,
        store: SettingsStore,
        loaded: LoadedSettings,
        paths: AppPaths,
        resources: Path,
        *,
        tray_available: bool | None = None,
        quit_after_first_paint: bool = False,
        start_minimized: bool = False,
        api_urls: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self.settings = loaded.settings
        self._paths = paths
        self._resources = resources
        self._api_urls = dict(api_urls or {})
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_event_loop()  # the qasync loop, set before the controller is built
        self.bus = EventBus()
        self.bridge = QtEventBridge(self.bus, self)
        self.window = MainWindow()
        self.runtime: Runtime | None = None
        self._quit = asyncio.Event()
        self._saving: set[asyncio.Task[None]] = set()
        self._quit_after_first_paint = quit_after_first_paint
        self._start_minimized = start_minimized
        self._painted = False
        self._first_paint = asyncio.Event()
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray = AppTray(self) if tray_available else None

        w = self.window
        b = self.bridge
        b.portfolioUpdated.connect(w.dashboard.on_portfolio)
        b.portfolioUpdated.connect(self._on_portfolio)
        b.tickerUpdated.connect(w.dashboard.on_ticker)
        b.candlesUpdated.connect(w.dashboard.on_candles)
        b.dealUpdated.connect(w.dashboard.on_deal)
        b.orderUpdated.connect(w.dashboard.on_order)
        b.replayProgress.connect(w.status.on_replay)
        b.connectionChanged.connect(w.status.on_connection)
        b.connectionChanged.connect(self._on_connection)
        b.activityLogged.connect(w.activity.on_activity)
        b.botUpdated.connect(w.bots.on_bot)
        b.botUpdated.connect(self._on_bot)
        b.botStopped.connect(self._on_bot_stopped)
        b.dealUpdated.connect(w.deals.on_deal)
        b.dealUpdated.connect(self._on_deal)
        b.tickerUpdated.connect(w.deals.on_ticker)
        b.tickerUpdated.connect(self._on_ticker)
        b.replayProgress.connect(w.deals.on_replay)
        w.bots.newBotRequested.connect(self.open_new_bot_dialog)
        w.bots.statusRequested.connect(self._on_status_requested)
        w.deals.closeDealRequested.connect(self._confirm_close_deal)
        w.deals.exportRequested.connect(self._choose_export_file)
        w.new_bot_shortcut.activated.connect(self.open_new_bot_dialog)
        w.pause_all_shortcut.activated.connect(self.toggle_pause_all)
        w.status.speedChanged.connect(self._on_speed_changed)
        w.quit_shortcut.activated.connect(self.request_quit)
        w.close_handler = self._on_close
        w.data_dir = paths.data_dir
        w.installEventFilter(self)
        if self.tray is not None:
            self.tray.showHideRequested.connect(self.toggle_window)
            self.tray.quitRequested.connect(self.request_quit)
            self.tray.pauseToggleRequested.connect(self.toggle_pause_all)
            self.tray.aboutRequested.connect(w.show_about)
        if loaded.problem:
            self.bus.activity(Level.WARNING, "settings", loaded.problem)
        self._portfolio_text = "Portfolio: loading…"
        self._bots: dict[str, BotUpdated] = {}
        self._bots_text = "Bots: none yet"
        self._active_deals: dict[tuple[str, int], bool] = {}
        self._free: dict[str, Decimal] = {}
        self._prices: dict[tuple[str, str], Decimal] = {}  # (account id, pair) -> last price
        self._live_free: dict[str, dict[str, Decimal]] = {}  # live account id -> asset -> free balance
        self.new_bot_dialog = None
        self.accounts = AccountsController(w, self.tray, b, self.bus, self.spawn, self._update_tray, self)
        self.dashboard = DashboardController(w.dashboard, b, self.settings.window, self._schedule_save, self)

    # -- life cycle -----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Start, then serve until Quit, then shut down cleanly."""
        await self.start()
        await self._quit.wait()
        await self.shutdown()

    async def start(self) -> None:
        w = self.window
        s = self.settings.window
        if s.geometry:
            w.restoreGeometry(QByteArray.fromBase64(s.geometry.encode("ascii")))
        w.show_page(s.page)
        for view in w.findChildren(RecordTableView):
            if view.objectName() in s.columns:
                view.restore_columns(s.columns[view.objectName()])
        w.status.set_speed(self.settings.paper.speed)
        minimized = self._start_minimized and self.tray is not None  # no tray: the window is shown
        if not minimized:
            w.show()
        if self.tray is not None:
            self.tray.show()
            self.tray.set_window_visible(not minimized)
            self._update_tray()
        with contextlib.suppress(TimeoutError):  # the window paints first; the exchange opens after
            await asyncio.wait_for(self._first_paint.wait(), timeout=0.5)
        gc.enable()  # the command line turns the cycle collector off until the first paint (__main__)
        from cryptobots_desktop.wiring import open_paper_runtime  # noqa: PLC0415 - adapters load after 1st paint

        try:
            self.runtime = await open_paper_runtime(
                self.bus, self.settings, self._paths, self._resources, api_urls=self._api_urls
            )
        except CryptobotsError as exc:
            self.bus.publish(ConnectionChanged("paper", ConnectionState.DOWN, str(exc)))
            self.bus.activity(Level.ERROR, "paper", str(exc))
            return
        except Exception as exc:
            log.exception("opening the paper exchange failed")
            self.bus.publish(ConnectionChanged("paper", ConnectionState.DOWN, str(exc)))
            self.bus.activity(Level.ERROR, "paper", f"The paper exchange could not be opened: {exc}")
            return
        rt = self.runtime
        self.accounts.attach(rt.accounts)
        w.price_decimals = lambda pair: rt.markets[pair].price_decimals if pair in rt.markets else 2
        w.deals.open_model.refresh_all()
        self.dashboard.attach(rt)
        rt.start()
        # What start-up made (window, engine, modules) lives as long as the app: the cycle collector's full
        # passes skip it from now on (over it, each one froze the window for 35-75 ms)
        gc.collect()
        gc.freeze()

    def request_quit(self) -> None:
        self._quit.set()

    @property
    def quitting(self) -> bool:
        return self._quit.is_set()

    async def shutdown(self) -> None:
        """Save the window's settings, stop the engine (the paper account is saved), remove the tray."""
        self._remember_window()
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None
        await self._save_settings()
        if self._saving or self._tasks:
            await asyncio.gather(*self._saving, *self._tasks, return_exceptions=True)
        if self.tray is not None:
            self.tray.dispose()
        self.bridge.close()
        self.window.close_handler = None
        self.window.close()

    # -- window and tray ------------------------------------------------------------------------------
    def _on_close(self, event: QCloseEvent) -> None:
        if self.quitting or self.tray is None:
            event.accept()
            self.request_quit()
            return
        event.ignore()
        self.hide_window()
        if not self.settings.window.tray_hint_shown:
            self.settings.window.tray_hint_shown = True
            self.tray.notify(
                "Cryptobots Desktop is still running",
                "It keeps running in the system tray. Choose Quit in the tray menu to stop it.",
            )
            self._schedule_save()

    def hide_window(self) -> None:
        self._remember_window()
        self.window.hide()
        if self.tray is not None:
            self.tray.set_window_visible(False)

    def show_window(self) -> None:
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        if self.tray is not None:
            self.tray.set_window_visible(True)

    def toggle_window(self) -> None:
        if self.window.isVisible():
            self.hide_window()
        else:
            self.show_window()

    def _remember_window(self) -> None:
        s = self.settings.window
        s.geometry = bytes(self.window.saveGeometry().toBase64().data()).decode("ascii")
        s.page = self.window.page_index
        for view in self.window.findChildren(RecordTableView):
            state = view.columns_state()
            if state is not None:
                s.columns[view.objectName()] = state

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            self._first_paint.set()
            if self._quit_after_first_paint:
                print("first-paint", flush=True)
                sys.stdout.flush()
                QTimer.singleShot(0, self.request_quit)
        return False

    # -- engine events and choices --------------------------------------------------------------------
    def _on_portfolio(self, event: PortfolioUpdated) -> None:
        if event.account_id != PAPER_ACCOUNT_ID:
            return  # the tray and the new-bot dialog's paper balances; live ones are read when needed
        self._free = {r.balance.asset: r.balance.free for r in event.valuation.rows}
        self._portfolio_text = f"Portfolio: {fmt_money(event.valuation.total, event.valuation.quote)}"
        self._update_tray()

    def _on_connection(self, event: ConnectionChanged) -> None:
        self._update_tray()

    def _update_tray(self) -> None:
        if self.tray is not None:
            lines = [WINDOW_TITLE, "Paper trading — simulated funds", self._portfolio_text, self._bots_text]
            warning = self.accounts.worst_text() if hasattr(self, "accounts") else ""
            self.tray.set_summary("\n".join([*lines, warning] if warning else lines))

    def _on_speed_changed(self, speed: ReplaySpeed) -> None:
        self.settings.paper.speed = speed
        if self.runtime is not None:
            self.runtime.feed.set_replay_speed(speed)
        self.bus.activity(Level.INFO, "paper", f"Replay speed set to {speed.label}.")
        self._schedule_save()

    # -- bots and deals -------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """Run engine work from a slot without blocking the window; a failure is reported, never lost."""

        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:
                log.exception("%s failed", what)
                self.bus.activity(Level.ERROR, "app", f"{what} failed: {exc}")

        task = self._loop.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def open_new_bot_dialog(self) -> None:
        if self.runtime is None:
            return
        from cryptobots_desktop.gui.new_bot_dialog import (  # noqa: PLC0415 - only when asked
            PAPER_ACCOUNT,
            AccountChoice,
            NewBotDialog,
        )

        rt = self.runtime
        paper = AccountChoice(
            PAPER_ACCOUNT_ID,
            PAPER_ACCOUNT,
            rt.markets,
            lambda pair: self._prices.get((PAPER_ACCOUNT_ID, pair)),
            self._free_balance,
        )
        choices = [paper]
        for state in rt.accounts.states():
            account_id = state.account.account_id
            markets = rt.live.markets_of(account_id)
            if not markets:
                continue  # not connected (yet): nothing to trade on
            allowed, why = rt.accounts.can_start(account_id)
            choices.append(
                AccountChoice(
                    account_id,
                    f"{state.account.label} (live: real funds)",
                    markets,
                    lambda pair, a=account_id: self._prices.get((a, pair)),
                    lambda asset, a=account_id: self._live_free.get(a, {}).get(asset),
                    "" if allowed else f"Bots cannot run on this account now. {why}",
                    lambda pair, a=account_id: self.spawn(
                        self._fetch_live_price(a, pair), "Reading the price"
                    ),
                )
            )
            self.spawn(self._fetch_live_balances(account_id), "Reading the balances")
        dialog = NewBotDialog(
            rt.pairs,
            rt.markets,
            paper.price_of,
            self._free_balance,
            parent=self.window,
            accounts=choices,
        )
        dialog.accepted.connect(lambda: self._create_bot(dialog))
        dialog.finished.connect(lambda _result: setattr(self, "new_bot_dialog", None))
        self.new_bot_dialog = dialog
        self.window.show_page(1)
        dialog.open()

    async def _fetch_live_price(self, account_id: str, pair: str) -> None:
        if self.runtime is not None:
            with contextlib.suppress(CryptobotsError):  # the preview says "not known yet"
                self._prices[(account_id, pair)] = await self.runtime.live.price(account_id, pair)
            if self.new_bot_dialog is not None:
                self.new_bot_dialog.refresh()

    async def _fetch_live_balances(self, account_id: str) -> None:
        if self.runtime is not None:
            with contextlib.suppress(CryptobotsError):
                self._live_free[account_id] = await self.runtime.live.free_balances(account_id)
            if self.new_bot_dialog is not None:
                self.new_bot_dialog.refresh()

    def _free_balance(self, asset: str) -> Decimal | None:
        return self._free.get(asset)

    def _create_bot(self, dialog: Any) -> None:
        """The dialog's bots: one per pair it names (``dialog.bots``), created one after the other."""
        rt = self.runtime
        if rt is None:
            return
        account_id = dialog.account_id
        bots = list(dialog.bots) or [(dialog.bot_name, dialog.symbol)]
        if len(bots) == 1:
            name, symbol = bots[0]
            self.spawn(
                self._create_one(rt, dialog.strategy, name, account_id, symbol, dialog.params),
                "Creating the bot",
            )
        else:
            self.spawn(
                self._create_several(rt, dialog.strategy, bots, account_id, dialog.params),
                "Creating the bots",
            )

    @staticmethod
    async def _create_one(
        rt: Runtime, strategy: StrategyKind, name: str, account_id: str, symbol: str, params: Any
    ) -> None:
        if strategy is StrategyKind.GRID:
            await rt.supervisor.create_grid_bot(name, account_id, symbol, params)
        else:
            await rt.supervisor.create_dca_bot(name, account_id, symbol, params)

    async def _create_several(
        self, rt: Runtime, strategy: StrategyKind, bots: list[tuple[str, str]], account_id: str, params: Any
    ) -> None:
        """Each bot in turn: one that fails is reported (as a single bot's failure is); the rest still go."""
        for name, symbol in bots:
            try:
                await self._create_one(rt, strategy, name, account_id, symbol, params)
            except Exception as exc:
                log.exception("creating the bot %s failed", name)
                self.bus.activity(Level.ERROR, "app", f"Creating the bot {name} on {symbol} failed: {exc}")

    def _on_status_requested(self, bot_id: str, status: BotStatus) -> None:
        if self.runtime is not None:
            self.spawn(self.runtime.supervisor.set_status(bot_id, status), "Changing the bot's status")

    def toggle_pause_all(self) -> None:
        rt = self.runtime
        if rt is None:
            return
        running = any(b.bot.status is BotStatus.RUNNING for b in self._bots.values())
        if running:
            self.spawn(self._pause_all(rt), "Pausing all bots")
        else:
            self.spawn(self._resume_all(rt), "Resuming all bots")

    async def _pause_all(self, rt: Runtime) -> None:
        n = await rt.supervisor.pause_all()
        self.bus.activity(
            Level.INFO, "app", f"Paused {n} bot(s): no new deals; open deals keep their take-profit."
        )

    async def _resume_all(self, rt: Runtime) -> None:
        n = await rt.supervisor.resume_all()
        self.bus.activity(Level.INFO, "app", f"Resumed {n} bot(s).")

    def _confirm_close_deal(self, deal: DealUpdated) -> None:
        r = deal.record
        held = deal.deal.base_held if deal.deal is not None else Decimal(0)
        base = r.symbol.split("/")[0]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Close the deal at market?",
            f"Deal #{r.deal_no} of {deal.bot_name} on {r.symbol}: its safety orders and take-profit are "
            f"canceled, then the {held.normalize():f} {base} it holds is sold at the market price now.",
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        box.addButton("Close at market", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self._close_deal(deal))
        self.close_deal_box = box
        box.open()

    def _close_deal(self, deal: DealUpdated) -> None:
        if self.runtime is not None:
            r = deal.record
            self.spawn(
                self.runtime.supervisor.close_deal(
                    r.bot_id, r.deal_no, self._prices.get((deal.account_id, r.symbol))
                ),
                "Closing the deal",
            )

    def _choose_export_file(self) -> None:
        dialog = QFileDialog(
            self.window, "Export closed deals", str(Path.home() / "closed-deals.csv"), "CSV (*.csv)"
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(
            lambda path: self.spawn(self.export_closed_deals(Path(path)), "Exporting deals")
        )
        self.export_dialog = dialog
        dialog.open()

    async def export_closed_deals(self, path: Path) -> None:
        """Write the closed deals to ``path`` as CSV, in a worker thread."""
        rows = self.window.deals.closed_model.csv_rows()

        def write() -> None:
            with path.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(rows)

        await asyncio.to_thread(write)
        self.bus.activity(Level.INFO, "app", f"Exported {len(rows) - 1} closed deal(s) to {path}.")

    def _on_bot(self, event: BotUpdated) -> None:
        self._bots[event.bot.bot_id] = event
        statuses = [b.bot.status for b in self._bots.values()]
        running = statuses.count(BotStatus.RUNNING)
        paused = statuses.count(BotStatus.PAUSED)
        failed = statuses.count(BotStatus.ERROR)
        self._bots_text = f"Bots: {running} running" + (f", {paused} paused" if paused else "")
        if failed:
            self._bots_text += f", {failed} stopped on an error"
        self.window.status.set_bots(self._bots_text)
        if self.tray is not None:
            self.tray.set_bots_state(running, paused, failed)
        self._update_tray()

    def _on_bot_stopped(self, event: BotStopped) -> None:
        if self.tray is not None:
            self.tray.notify(f"Bot stopped: {event.bot.name}", event.reason)

    def _on_deal(self, event: DealUpdated) -> None:
        key = (event.record.bot_id, event.record.deal_no)
        was_active = self._active_deals.get(key)
        self._active_deals[key] = event.record.is_active
        if was_active and event.record.phase == "closed" and self.tray is not None and event.deal is not None:
            quote = event.record.symbol.split("/")[1]
            self.tray.notify(
                f"Deal closed: {event.record.symbol}",
                f"{event.bot_name} #{event.record.deal_no}: {fmt_signed(event.deal.realised_pnl)} {quote}",
            )

    def _on_ticker(self, event: TickerUpdated) -> None:
        self._prices[(event.account_id, event.ticker.symbol)] = event.ticker.last
        if self.new_bot_dialog is not None:
            self.new_bot_dialog.refresh()

    # -- settings -------------------------------------------------------------------------------------
    async def _save_settings(self) -> None:
        snapshot = self.settings.model_copy(deep=True)
        try:
            await asyncio.to_thread(self._store.save, snapshot)
        except OSError as exc:
            self.bus.activity(Level.ERROR, "settings", f"Settings could not be saved: {exc}")

    def _schedule_save(self) -> None:
        task = self._loop.create_task(self._save_settings())
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)
