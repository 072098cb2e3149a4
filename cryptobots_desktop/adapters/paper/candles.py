"""One pair's recorded candles of one timeframe, kept compactly in typed arrays."""

from __future__ import annotations

import gzip
from array import array
from bisect import bisect_right
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.core.market import Candle, split_symbol

TIMEFRAME_MS: dict[str, int] = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}
SHORT_SCAN = 16  # candles a scan reads from the columns directly rather than from the envelope


def candle_file_name(symbol: str, timeframe: str) -> str:
    """``"BTC/USDT", "1m"`` -> ``"binance_BTC-USDT_1m.csv.gz"``."""
    base, quote = split_symbol(symbol)
    return f"binance_{base}-{quote}_{timeframe}.csv.gz"


def _exact(value: float) -> Decimal:
    """The published decimal behind a float parsed from it (<= 8 decimals, < 15 significant digits)."""
    return Decimal(repr(value))


class CandleSeries:
    """Candles of one pair and timeframe, oldest first: times in ``array('q')``, OHLCV in ``array('d')``.

    Values become Decimals only when a candle is handed out.
    """

    __slots__ = ("_c", "_envelope", "_h", "_l", "_o", "_ts", "_v", "symbol", "timeframe", "timeframe_ms")

    def __init__(
        self,
        symbol: str,
        timeframe: str,
        ts: array[int],
        o: array[float],
        h: array[float],
        low: array[float],
        c: array[float],
        v: array[float],
    ) -> None:
        if not len(ts) == len(o) == len(h) == len(low) == len(c) == len(v):
            raise ValueError("candle columns differ in length")
        self.symbol = symbol
        self.timeframe = timeframe
        self.timeframe_ms = TIMEFRAME_MS[timeframe]
        self._ts, self._o, self._h, self._l, self._c, self._v = ts, o, h, low, c, v
        self._envelope: tuple[array[float], array[float]] | None = None

    @classmethod
    def load(cls, path: Path, symbol: str, timeframe: str) -> CandleSeries:
        """Read a gzip CSV ``ts_ms,open,high,low,close,volume`` (one header line, increasing times)."""
        with gzip.open(path, "rb") as fh:
            text = fh.read().decode("ascii")
        lines = text.split("\n")
        if not lines or not lines[0].startswith("ts_ms,"):
            raise ValueError(f"{path.name}: not a candle file")
        rows = [line.split(",") for line in lines[1:] if line]
        ts = array("q", [int(r[0]) for r in rows])
        cols = [array("d", [float(r[k]) for r in rows]) for k in range(1, 6)]
        return cls(symbol, timeframe, ts, *cols)

    def __len__(self) -> int:
        return len(self._ts)

    @property
    def first_ts(self) -> int:
        """Open time of the first candle."""
        return self._ts[0]

    @property
    def last_ts(self) -> int:
        """Open time of the last candle."""
        return self._ts[-1]

    def ts(self, i: int) -> int:
        """Open time of candle ``i``."""
        return self._ts[i]

    def volume(self, i: int) -> Decimal:
        """Volume (base asset) of candle ``i``."""
        return _exact(self._v[i])

    def index_at_or_before(self, ts_ms: int) -> int:
        """Index of the last candle opened at or before ``ts_ms``; -1 if none."""
        return bisect_right(self._ts, ts_ms) - 1

    def index_at(self, ts_ms: int) -> int | None:
        """Index of the candle whose period contains ``ts_ms``; None in a gap or outside the data."""
        i = self.index_at_or_before(ts_ms)
        if i >= 0 and ts_ms < self._ts[i] + self.timeframe_ms:
            return i
        return None

    def candle(self, i: int) -> Candle:
        """Candle ``i`` with exact Decimal values."""
        return Candle(
            self._ts[i],
            _exact(self._o[i]),
            _exact(self._h[i]),
            _exact(self._l[i]),
            _exact(self._c[i]),
            _exact(self._v[i]),
        )

    def closed_before(self, ts_ms: int) -> int:
        """How many candles have closed by ``ts_ms`` (open time + timeframe <= ``ts_ms``)."""
        return bisect_right(self._ts, ts_ms - self.timeframe_ms)

    def last_closed(self, ts_ms: int, n: int) -> list[Candle]:
        """The last ``n`` candles closed by ``ts_ms``, oldest first."""
        end = self.closed_before(ts_ms)
        return [self.candle(i) for i in range(max(0, end - n), end)]

    def range_indices(self, from_ms: int, to_ms: int) -> range:
        """Indices of candles opened in ``[from_ms, to_ms)``."""
        return range(bisect_right(self._ts, from_ms - 1), bisect_right(self._ts, to_ms - 1))

    def envelope(self) -> tuple[array[float], array[float]]:
        """Per candle, the lowest and highest of its open, high, low and close (computed once).

        Every price on a candle's path lies between these two, whatever the data says of its low and high.
        """
        if self._envelope is None:
            lows = array("d", map(min, self._o, self._h, self._l, self._c))
            highs = array("d", map(max, self._o, self._h, self._l, self._c))
            self._envelope = (lows, highs)
        return self._envelope

    def first_reaching(self, start: int, stop: int, low: float | None, high: float | None) -> int:
        """Index of the first candle in ``[start, stop)`` whose path reaches ``low`` or below, or ``high``
        or above (equality counts); ``stop`` if none does. ``None`` levels are never reached.

        A scan over the float columns, no Decimal per candle. A float level converted from a Decimal
        (``float(d)``, correctly rounded and so monotonic) is reached whenever the Decimal one is: it may
        report a candle that only touches the level in float, never miss one that reaches it exactly.
        """
        start, stop = max(start, 0), min(stop, len(self._ts))
        lo = float("-inf") if low is None else low
        hi = float("inf") if high is None else high
        if stop - start <= SHORT_SCAN:  # a few candles (a sync of the live replay): no envelope built
            o, h, lw, c = self._o, self._h, self._l, self._c
            for k in range(start, stop):
                if min(o[k], h[k], lw[k], c[k]) <= lo or max(o[k], h[k], lw[k], c[k]) >= hi:
                    return k
            return stop
        lows, highs = self.envelope()
        i = start
        chunk = 512
        while i < stop:  # whole chunks at C speed, then the chunk that reaches one candle at a time
            j = min(i + chunk, stop)
            if min(lows[i:j]) <= lo or max(highs[i:j]) >= hi:
                for k in range(i, j):
                    if lows[k] <= lo or highs[k] >= hi:
                        return k
            i = j
        return stop
