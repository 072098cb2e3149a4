"""``PaperExchange``: the embedded paper exchange, an ``ExchangeGateway`` over replayed real market data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.errors import CryptobotsError, ExchangeError, MarketDataUnavailable, UnknownPair
from cryptobots_desktop.core.market import Candle, Market, Ticker
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest
from cryptobots_desktop.core.replay import ReplaySpeed

from .candles import CandleSeries
from .dataset import Dataset
from .market_view import candles_up_to, path_segments, price_at
from .matching import DEFAULT_PARTICIPATION, INVALID_SYMBOL, MatchingEngine
from .replay_clock import ReplayClock
from .state_store import StateStore

DAY_MS = 86_400_000
TIMEFRAMES = ("1m", "5m")
REPLAY_SAVE_INTERVAL_S = 5.0


class PaperExchange:
    """Paper trading on recorded Binance candles; implements ``core.ports.ExchangeGateway``.

    Create with ``await PaperExchange.open(...)``. Every public method first brings the matching engine up
    to the replay clock's time (resting orders fill along the candles' price path), then answers. A state
    change is saved to the state file before the call that caused it returns.
    """

    def __init__(
        self,
        dataset: Dataset,
        store: StateStore,
        engine: MatchingEngine,
        clock: ReplayClock,
        starting_balances: Mapping[str, Decimal],
        wall_clock: Callable[[], float],
    ) -> None:
        """Use ``PaperExchange.open``; this only wires already-loaded parts together."""
        self._dataset = dataset
        self._store = store
        self._engine = engine
        self._clock = clock
        self._starting_balances = dict(starting_balances)
        self._wall = wall_clock
        self._synced_ms = clock.now_ms()
        self._saved_wall = wall_clock()
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        market_data_dir: Path,
        dataset: str,
        state_path: Path,
        starting_balances: Mapping[str, Decimal],
        speed: ReplaySpeed = ReplaySpeed.X10,
        participation: Decimal = DEFAULT_PARTICIPATION,
        wall_clock: Callable[[], float] = time.monotonic,
        replay_start_ms: int | None = None,
        only_pair: str | None = None,
    ) -> PaperExchange:
        """Open the paper account saved in ``state_path``, or start one with ``starting_balances``.

        A new account's replay starts one day into the dataset (so charts have history); a saved one
        resumes its balances, orders, fills and replay time. No candle file is read here.
        ``replay_start_ms`` starts a new account's replay there instead (kept inside the data; a
        backtest from the first minute). ``only_pair`` trades that pair alone, over all of its own candles.
        """
        data = await asyncio.to_thread(Dataset.load, market_data_dir, dataset)
        if only_pair is not None:
            data = await asyncio.to_thread(data.narrowed_to, only_pair)
        store = await StateStore.open(state_path)
        try:
            saved = await store.load()
            if saved is None:
                if any(v < 0 for v in starting_balances.values()):
                    raise ValueError("starting balances must not be negative")
                engine = MatchingEngine(data.rules, starting_balances, participation)
                replay_ms = min(data.start_ms + DAY_MS, data.end_ms)
                if replay_start_ms is not None:
                    replay_ms = min(max(replay_start_ms, data.start_ms), data.end_ms)
                await store.create(data.name, starting_balances, replay_ms, engine.take_changes())
                starting = dict(starting_balances)
            else:
                if saved.dataset != data.name:
                    raise CryptobotsError(
                        f"This paper account trades the {saved.dataset!r} data set, not {data.name!r}.",
                        "Open it with its own data set, or start a new paper account.",
                    )
                engine = MatchingEngine.restore(data.rules, saved.balances, saved.orders, participation)
                replay_ms, starting = saved.replay_ms, dict(saved.starting_balances)
        except BaseException:
            await store.close()
            raise
        clock = ReplayClock(data.start_ms, data.end_ms, replay_ms, speed, wall_clock)
        return cls(data, store, engine, clock, starting, wall_clock)

    # --- properties ----------------------------------------------------------------------------

    @property
    def exchange_id(self) -> str:
        """Always ``"paper"``."""
        return "paper"

    @property
    def is_paper(self) -> bool:
        """Always True: simulated funds."""
        return True

    @property
    def replay(self) -> ReplayClock:
        """The replay clock (speed, stepping, bounds)."""
        return self._clock

    @property
    def dataset(self) -> Dataset:
        """The dataset replayed: name, title, pairs, ``start_ms``/``end_ms``."""
        return self._dataset

    @property
    def markets(self) -> Mapping[str, Market]:
        """The dataset's markets keyed by unified symbol."""
        return self._dataset.markets

    @property
    def starting_balances(self) -> Mapping[str, Decimal]:
        """What the account started with."""
        return dict(self._starting_balances)

    # --- ExchangeGateway -----------------------------------------------------------------------

    async def load_markets(self) -> Mapping[str, Market]:
        """The dataset's markets (already in memory)."""
        return self._dataset.markets

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The path price at replay time now (the last close in a data gap)."""
        async with self._lock:
            await self._sync()
            return Ticker(symbol, self._synced_ms, await self._price_now(symbol))

    async def fetch_candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> Sequence[Candle]:
        """The last ``limit`` candles up to now, oldest first; the last one forming along the path."""
        self._market(symbol)
        if timeframe not in TIMEFRAMES:
            raise ExchangeError(
                f"The {timeframe} timeframe is not available in paper trading.",
                f"Use one of: {', '.join(TIMEFRAMES)}.",
            )
        async with self._lock:
            await self._sync()
            minutes = await self._series(symbol, "1m")
            series = minutes if timeframe == "1m" else await self._series(symbol, timeframe)
            tick = self._market(symbol).price_tick
            return candles_up_to(minutes, series, self._synced_ms, limit, tick)

    async def fetch_balances(self) -> Mapping[str, Balance]:
        """Free and used amounts of every asset the account has held."""
        async with self._lock:
            await self._sync()
            return self._engine.balances()

    async def create_order(self, request: OrderRequest) -> Order:
        """Place an order; it is saved before this returns. Raises ``core.errors`` rejections."""
        async with self._lock:
            await self._sync()
            if request.symbol in self._dataset.rules:
                price = await self._price_now(request.symbol)
            else:
                price = Decimal(0)  # the engine refuses the unknown pair first
            order = self._engine.place(request, price, self._synced_ms)
            await self._save()
            return order

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order placed under that client id on that pair, or None if it was never placed."""
        async with self._lock:
            await self._sync()
            order = self._engine.order(client_order_id)
            return order if order is not None and order.symbol == symbol else None

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order (saved before this returns)."""
        async with self._lock:
            await self._sync()
            order = self._engine.cancel(symbol, client_order_id, self._synced_ms)
            await self._save()
            return order

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Open orders (of one pair, or all), oldest first."""
        async with self._lock:
            await self._sync()
            return self._engine.open_orders(symbol)

    async def fetch_fills(self, symbol: str | None = None) -> Sequence[Fill]:
        """Every fill of the account (or of one pair), oldest first."""
        async with self._lock:
            await self._sync()
            return [f for f in self._engine.fills() if symbol is None or f.symbol == symbol]

    async def close(self) -> None:
        """Bring orders up to date, save everything with the replay time, stop the writer thread."""
        async with self._lock:
            if self._closed:
                return
            try:
                await self._sync()
                await self._save()
            finally:
                self._closed = True
                await self._store.close()

    # --- fast-forward (backtests) ---------------------------------------------------------------

    async def next_touch(
        self,
        symbol: str,
        to_ms: int,
        low: Decimal | None = None,
        high: Decimal | None = None,
    ) -> int | None:
        """Open time of the first 1m candle of ``symbol`` whose price path reaches a resting order's price
        on that pair (a buy at or above the path's low, a sell at or below its high), or ``low`` (the path
        at or below it) or ``high`` (at or above it); None if no candle does up to the one open at ``to_ms``.

        The scan starts at the candle matched next (the one open at the time orders were last matched to),
        reads the float columns only, and treats a touch in float as a touch: it may name a candle that
        turns out not to fill anything, never skip one that would.
        """
        self._market(symbol)
        async with self._lock:
            minutes = await self._series(symbol, "1m")
            return self._first_touch(minutes, symbol, self._synced_ms, to_ms, low, high)

    async def fast_forward(self, to_ms: int) -> None:
        """Move the replay (and the matching) straight to ``to_ms``, for a replay at ``ReplaySpeed.MAX``.

        Only for time in which no resting order can fill: raises ``ValueError`` if any 1m candle from the
        one matched next up to the one open at ``to_ms`` reaches a resting order's price (check with
        ``next_touch`` first). Matching those candles one by one would change nothing, so skipping them
        leaves the account exactly as stepping the replay minute by minute would.
        """
        async with self._lock:
            if self._closed:
                raise CryptobotsError("The paper exchange is closed.", "Open it again to continue.")
            now = self._clock.now_ms()
            if not now <= to_ms <= self._clock.end_ms:
                raise ValueError("fast_forward goes forward, up to the end of the data")
            for symbol in sorted(self._engine.open_symbols()):
                minutes = await self._series(symbol, "1m")
                touch = self._first_touch(minutes, symbol, self._synced_ms, to_ms, None, None)
                if touch is not None:
                    raise ValueError(f"a resting {symbol} order may fill in the minute opened at {touch}")
            self._clock.step(to_ms - now)
            self._synced_ms = max(self._synced_ms, to_ms)

    def _first_touch(
        self,
        minutes: CandleSeries,
        symbol: str,
        from_ms: int,
        to_ms: int,
        low: Decimal | None,
        high: Decimal | None,
    ) -> int | None:
        top_buy, bottom_sell = self._engine.reach(symbol)
        buy = None if low is None else float(low)
        sell = None if high is None else float(high)
        if top_buy is not None:
            buy = float(top_buy) if buy is None else max(buy, float(top_buy))
        if bottom_sell is not None:
            sell = float(bottom_sell) if sell is None else min(sell, float(bottom_sell))
        if buy is None and sell is None:
            return None
        start = max(minutes.index_at_or_before(from_ms), 0)
        stop = minutes.index_at_or_before(to_ms) + 1
        i = minutes.first_reaching(start, stop, buy, sell)
        return minutes.ts(i) if i < stop else None

    # --- internals -----------------------------------------------------------------------------

    def _market(self, symbol: str) -> Market:
        market = self._dataset.markets.get(symbol)
        if market is None:
            code, msg = INVALID_SYMBOL
            raise UnknownPair(
                f"{symbol} is not traded on this paper exchange.",
                f"Choose one of: {', '.join(sorted(self._dataset.markets))}.",
                exchange_code=code,
                exchange_message=msg,
            )
        return market

    async def _series(self, symbol: str, timeframe: str) -> CandleSeries:
        series = self._dataset.cached_series(symbol, timeframe)
        if series is None:
            series = await asyncio.to_thread(self._dataset.load_series, symbol, timeframe)
        return series

    async def _price_now(self, symbol: str) -> Decimal:
        market = self._market(symbol)
        price = price_at(await self._series(symbol, "1m"), self._synced_ms, market.price_tick)
        if price is None:
            raise MarketDataUnavailable(
                f"There is no {symbol} price yet at this point of the replay.",
                "Let the replay run until the pair's data starts.",
            )
        return price

    async def _sync(self) -> None:
        """Advance resting orders along the path up to replay time now; save fills before answering."""
        if self._closed:
            raise CryptobotsError("The paper exchange is closed.", "Open it again to continue.")
        now = self._clock.now_ms()
        if now > self._synced_ms:
            for symbol in sorted(self._engine.open_symbols()):
                minutes = await self._series(symbol, "1m")
                # the path is walked only from the first candle that may reach a resting order: before it,
                # matching changes nothing (the common case: one quick look at the float columns)
                touch = self._first_touch(minutes, symbol, self._synced_ms, now, None, None)
                if touch is None:
                    continue
                tick = self._market(symbol).price_tick
                for seg in path_segments(minutes, max(self._synced_ms, touch), now, tick):
                    self._engine.advance(symbol, seg.low, seg.high, seg.candle_ts, seg.volume, seg.end_ms)
            self._synced_ms = now
        await self._save(only_if_due=True)

    async def _save(self, *, only_if_due: bool = False) -> None:
        """Save engine changes with the synced replay time; with nothing changed, at most every few s."""
        changes = self._engine.take_changes()
        wall = self._wall()
        if changes or not only_if_due or wall - self._saved_wall >= REPLAY_SAVE_INTERVAL_S:
            await self._store.save(changes, self._synced_ms)
            self._saved_wall = wall
