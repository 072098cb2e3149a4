"""The market feed: polls prices, the chart's candles and the portfolio, and drives a replay at MAX speed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.ports import ExchangeGateway, ReplayControl
from cryptobots_desktop.core.replay import ReplaySpeed

from .event_bus import EventBus
from .events import CandlesUpdated, ConnectionChanged, ConnectionState, Level, ReplayProgress, TickerUpdated
from .portfolio import PortfolioTracker

log = logging.getLogger(__name__)

ONE_MINUTE_MS = 60_000


class MarketFeed:
    """One loop per exchange account that keeps the window's prices, chart and portfolio current.

    At a timed replay speed (or live) it polls every ``poll_interval`` seconds. At ``ReplaySpeed.MAX`` it
    steps the replay one candle at a time, as fast as the exchange answers, and publishes at most every
    ``publish_interval`` seconds so the window keeps up.

    ``symbols`` may be a callable, asked at every poll (a live account polls the pairs its bots trade);
    a feed without ``portfolio`` or ``chart_symbol`` leaves the dashboard's balances or chart alone.
    """

    def __init__(
        self,
        bus: EventBus,
        gateway: ExchangeGateway,
        portfolio: PortfolioTracker | None,
        *,
        symbols: Sequence[str] | Callable[[], Sequence[str]],
        chart_symbol: str | None,
        replay: ReplayControl | None = None,
        poll_interval: float = 0.25,
        publish_interval: float = 0.1,
        candle_limit: int = 120,
        on_prices: Callable[[Mapping[str, Decimal]], Awaitable[None]] | None = None,
        account_id: str | None = None,
    ) -> None:
        self.account_id = account_id or gateway.exchange_id
        self._bus = bus
        self._gateway = gateway
        self._portfolio = portfolio
        self._symbols = symbols if callable(symbols) else tuple(symbols)
        self._chart_symbol = chart_symbol
        self._replay = replay
        self._poll_interval = poll_interval
        self._publish_interval = publish_interval
        self._candle_limit = candle_limit
        self._on_prices = on_prices
        self._wake = asyncio.Event()
        self._state = ConnectionState.CONNECTING
        self._last_error = ""
        self._announced_end = False
        self.prices: dict[str, Decimal] = {}

    @property
    def chart_symbol(self) -> str | None:
        return self._chart_symbol

    def set_chart_symbol(self, symbol: str | None) -> None:
        """Show another pair on the chart (None: no chart); the feed answers at once, not at its next poll."""
        self._chart_symbol = symbol
        self._wake.set()

    def set_replay_speed(self, speed: ReplaySpeed) -> None:
        if self._replay is not None:
            self._replay.set_speed(speed)
            self._wake.set()

    async def run(self) -> None:
        """Poll until cancelled. Errors are reported on the bus and retried with backoff, never raised."""
        backoff = self._poll_interval
        last_publish = 0.0
        while True:
            stepping = self._replay is not None and self._replay.speed is ReplaySpeed.MAX
            try:
                if stepping and self._replay is not None and not self._replay.finished:
                    self._replay.step(ONE_MINUTE_MS)  # one replayed minute at a time: bots see each one
                now = time.monotonic()
                publish = not stepping or now - last_publish >= self._publish_interval
                await self.poll_once(publish=publish)
                if publish:
                    last_publish = now
                self._set_state(ConnectionState.CONNECTED)
                backoff = self._poll_interval
            except CryptobotsError as exc:
                self._set_state(ConnectionState.DOWN, exc.message, exc.hint)
                backoff = min(backoff * 2, 30.0)
            except Exception as exc:  # a bug must not kill the feed; it is logged with its traceback
                log.exception("market feed failed")
                self._set_state(ConnectionState.DOWN, f"Unexpected error: {type(exc).__name__}: {exc}")
                backoff = min(backoff * 2, 30.0)
            if stepping and self._state is ConnectionState.CONNECTED and not self._finished():
                await asyncio.sleep(0)
            else:
                await self._sleep(backoff)

    async def poll_once(self, *, publish: bool = True) -> None:
        """Fetch the prices and hand them to the bots; with ``publish``, also the chart, balances, replay.

        The window's handlers run inside ``publish``; the event loop gets a turn between one publication
        and the next, so their costs never add up to one long freeze of the window.
        """
        symbols = self._symbols() if callable(self._symbols) else self._symbols
        tickers = [await self._gateway.fetch_ticker(symbol) for symbol in symbols]
        for ticker in tickers:
            self.prices[ticker.symbol] = ticker.last
        if self._on_prices is not None:
            await self._on_prices(dict(self.prices))
        if not publish:
            return
        for ticker in tickers:
            self._bus.publish(TickerUpdated(ticker, self.account_id))
            await asyncio.sleep(0)
        chart = self._chart_symbol
        if chart is not None:
            candles = await self._gateway.fetch_candles(chart, "1m", self._candle_limit)
            self._bus.publish(CandlesUpdated(chart, "1m", tuple(candles), self.account_id))
            await asyncio.sleep(0)
        if self._portfolio is not None:
            await self._portfolio.refresh(self.prices)
            await asyncio.sleep(0)
        self._publish_replay()

    def _finished(self) -> bool:
        return self._replay is not None and self._replay.finished

    def _publish_replay(self) -> None:
        replay = self._replay
        if replay is None:
            return
        self._bus.publish(
            ReplayProgress(replay.now_ms(), replay.speed, replay.start_ms, replay.end_ms, replay.finished)
        )
        if replay.finished and not self._announced_end:
            self._announced_end = True
            end = datetime.fromtimestamp(replay.end_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            self._bus.activity(
                Level.INFO,
                self._gateway.exchange_id,
                f"The replay reached the end of the recorded market data ({end}). Prices stay where they "
                "ended; your paper balances and orders are kept.",
            )

    def _set_state(self, state: ConnectionState, message: str = "", hint: str = "") -> None:
        detail = f"{message} {hint}".strip()
        if state is self._state and detail == self._last_error:
            return
        self._state, self._last_error = state, detail
        self._bus.publish(ConnectionChanged(self._gateway.exchange_id, state, detail))
        if state is ConnectionState.DOWN:
            self._bus.activity(Level.ERROR, self._gateway.exchange_id, detail)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
