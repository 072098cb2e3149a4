"""The app controller: builds the window and tray on top of the engine, and owns start and quit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QSystemTrayIcon

from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import ConnectionChanged, ConnectionState, Level, PortfolioUpdated
from cryptobots_desktop.paths import AppPaths
from cryptobots_desktop.settings import LoadedSettings, SettingsStore

from .event_bridge import QtEventBridge
from .formatting import fmt_money
from .main_window import WINDOW_TITLE, MainWindow
from .tray import AppTray

if TYPE_CHECKING:
    from cryptobots_desktop.wiring import Runtime

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
    ) -> None:
        super().__init__()
        self._store = store
        self.settings = loaded.settings
        self._paths = paths
        self._resources = resources
        self.bus = EventBus()
        self.bridge = QtEventBridge(self.bus, self)
        self.window = MainWindow()
        self.runtime: Runtime | None = None
        self._quit = asyncio.Event()
        self._saving: set[asyncio.Task[None]] = set()
        self._quit_after_first_paint = quit_after_first_paint
        self._painted = False
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray = AppTray(self) if tray_available else None

        w = self.window
        b = self.bridge
        b.portfolioUpdated.connect(w.dashboard.on_portfolio)
        b.portfolioUpdated.connect(self._on_portfolio)
        b.tickerUpdated.connect(w.dashboard.on_ticker)
        b.candlesUpdated.connect(w.dashboard.on_candles)
        b.replayProgress.connect(w.status.on_replay)
        b.connectionChanged.connect(w.status.on_connection)
        b.connectionChanged.connect(self._on_connection)
        b.activityLogged.connect(w.activity.on_activity)
        w.dashboard.pairChanged.connect(self._on_pair_changed)
        w.status.speedChanged.connect(self._on_speed_changed)
        w.quit_shortcut.activated.connect(self.request_quit)
        w.close_handler = self._on_close
        w.installEventFilter(self)
        if self.tray is not None:
            self.tray.showHideRequested.connect(self.toggle_window)
            self.tray.quitRequested.connect(self.request_quit)
        if loaded.problem:
            self.bus.activity(Level.WARNING, "settings", loaded.problem)
        self._portfolio_text = "Portfolio: loading…"

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
        w.status.set_speed(self.settings.paper.speed)
        w.show()
        if self.tray is not None:
            self.tray.show()
            self._update_tray()
        await asyncio.sleep(0)  # let the window paint before the exchange opens
        from cryptobots_desktop.wiring import open_paper_runtime  # noqa: PLC0415 - adapters load after 1st paint

        try:
            self.runtime = await open_paper_runtime(self.bus, self.settings, self._paths, self._resources)
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
        w.dashboard.set_precision(
            lambda pair: rt.markets[pair].price_decimals if pair in rt.markets else 2,
            self._amount_decimals,
        )
        w.dashboard.set_pairs(rt.pairs, rt.feed.chart_symbol)
        rt.start()

    def _amount_decimals(self, asset: str) -> int:
        if self.runtime is None:
            return 8
        for market in self.runtime.markets.values():
            if market.base == asset:
                return market.amount_decimals
        return 2 if asset in ("USDT", "USDC", "BUSD", "FDUSD") else 8

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
        if self._saving:
            await asyncio.gather(*self._saving, return_exceptions=True)
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            if self._quit_after_first_paint:
                print("first-paint", flush=True)
                sys.stdout.flush()
                QTimer.singleShot(0, self.request_quit)
        return False

    # -- engine events and choices --------------------------------------------------------------------
    def _on_portfolio(self, event: PortfolioUpdated) -> None:
        self._portfolio_text = f"Portfolio: {fmt_money(event.valuation.total, event.valuation.quote)}"
        self._update_tray()

    def _on_connection(self, event: ConnectionChanged) -> None:
        self._update_tray()

    def _update_tray(self) -> None:
        if self.tray is not None:
            self.tray.set_summary(f"{WINDOW_TITLE}\nPaper trading — simulated funds\n{self._portfolio_text}")

    def _on_pair_changed(self, pair: str) -> None:
        self.settings.window.chart_pair = pair
        if self.runtime is not None:
            self.runtime.feed.set_chart_symbol(pair)
        self._schedule_save()

    def _on_speed_changed(self, speed: ReplaySpeed) -> None:
        self.settings.paper.speed = speed
        if self.runtime is not None:
            self.runtime.feed.set_replay_speed(speed)
        self.bus.activity(Level.INFO, "paper", f"Replay speed set to {speed.label}.")
        self._schedule_save()

    # -- settings -------------------------------------------------------------------------------------
    async def _save_settings(self) -> None:
        snapshot = self.settings.model_copy(deep=True)
        try:
            await asyncio.to_thread(self._store.save, snapshot)
        except OSError as exc:
            self.bus.activity(Level.ERROR, "settings", f"Settings could not be saved: {exc}")

    def _schedule_save(self) -> None:
        with contextlib.suppress(RuntimeError):  # no running loop: shutdown saves anyway
            task = asyncio.get_running_loop().create_task(self._save_settings())
            self._saving.add(task)
            task.add_done_callback(self._saving.discard)
