"""Which account the Dashboard shows (paper or a connected live one), and the feeds fetching what it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.engine.events import AccountsChanged

from .dashboard_page import PAPER, DashboardPage
from .event_bridge import QtEventBridge

if TYPE_CHECKING:
    from cryptobots_desktop.settings import WindowSettings
    from cryptobots_desktop.wiring import Runtime

STABLE_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD")


def price_decimals_in(markets: Mapping[str, Market]) -> Callable[[str], int]:
    """How many decimals a pair's price shows on these markets."""
    return lambda pair: markets[pair].price_decimals if pair in markets else 2


def amount_decimals_in(markets: Mapping[str, Market]) -> Callable[[str], int]:
    """How many decimals an amount of an asset shows on these markets."""
    by_base = {m.base: m.amount_decimals for m in markets.values()}
    return lambda asset: by_base.get(asset, 2 if asset in STABLE_QUOTES else 8)


class DashboardController(QObject):
    """Offers the connected live accounts on the Dashboard; on a switch, gives it that account's pairs and
    precision and has that account's feed fetch the chart (a live feed fetches candles only while shown)."""

    def __init__(
        self,
        page: DashboardPage,
        bridge: QtEventBridge,
        window_settings: WindowSettings,
        save: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._page = page
        self._settings = window_settings
        self._save = save
        self._runtime: Runtime | None = None
        self._live_chart: str | None = None  # the live account whose feed fetches the chart now
        page.accountChanged.connect(self._on_account)
        page.pairChanged.connect(self._on_pair)
        bridge.accountsChanged.connect(self._on_accounts)

    def attach(self, runtime: Runtime) -> None:
        """The engine is open: show the paper account."""
        self._runtime = runtime
        self._show_paper()

    def _on_accounts(self, event: AccountsChanged) -> None:
        self._page.set_accounts(
            [(s.account.account_id, s.account.label) for s in event.accounts if s.connected]
        )

    def _on_account(self, account_id: str) -> None:
        rt = self._runtime
        if rt is None:
            return
        self._stop_live_chart()
        if account_id == PAPER:
            self._show_paper()
            return
        markets = rt.live.markets_of(account_id)
        traded = rt.supervisor.symbols_of(account_id)
        pairs = list(dict.fromkeys([*traded, *sorted(markets)]))
        current = traded[0] if traded else ("BTC/USDT" if "BTC/USDT" in markets else (pairs or [""])[0])
        self._page.set_precision(price_decimals_in(markets), amount_decimals_in(markets))
        self._page.set_pairs(pairs, current)
        rt.live.set_chart(account_id, current)
        self._live_chart = account_id

    def _on_pair(self, pair: str) -> None:
        rt = self._runtime
        if rt is None:
            return
        if self._page.account_id == PAPER:
            self._settings.chart_pair = pair
            rt.feed.set_chart_symbol(pair)
            self._save()
        else:
            rt.live.set_chart(self._page.account_id, pair)

    def _show_paper(self) -> None:
        rt = self._runtime
        assert rt is not None
        self._page.set_precision(price_decimals_in(rt.markets), amount_decimals_in(rt.markets))
        self._page.set_pairs(rt.pairs, rt.feed.chart_symbol or rt.pairs[0])

    def _stop_live_chart(self) -> None:
        if self._live_chart is not None and self._runtime is not None:
            self._runtime.live.set_chart(self._live_chart, None)
        self._live_chart = None
