"""The price inside one candle over its period: the usual backtesting assumption.

A bullish candle (close >= open) goes open -> low -> high -> close, a bearish one open -> high -> low ->
close, linearly over equal thirds of the period. The ticker, the forming candle and order matching all
read prices from this one path, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cryptobots_desktop.core.market import Candle, quantize_to_step

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class PricePath:
    """The path of one candle: four waypoints at 0, 1/3, 2/3 and the end of ``duration_ms``.

    Prices between waypoints are rounded to ``tick`` (when given) and kept between the two waypoints,
    so every price on the path lies within the candle's low and high.
    """

    waypoints: tuple[Decimal, Decimal, Decimal, Decimal]
    duration_ms: int = MINUTE_MS
    tick: Decimal | None = None

    @classmethod
    def of(cls, candle: Candle, duration_ms: int = MINUTE_MS, tick: Decimal | None = None) -> PricePath:
        """The path of ``candle``: bullish open-low-high-close, bearish open-high-low-close."""
        if candle.close >= candle.open:
            points = (candle.open, candle.low, candle.high, candle.close)
        else:
            points = (candle.open, candle.high, candle.low, candle.close)
        return cls(points, duration_ms, tick)

    def _waypoint_ms(self, k: int) -> int:
        return self.duration_ms * k // 3

    def price_at(self, offset_ms: int) -> Decimal:
        """The price ``offset_ms`` after the candle opened (clamped to the candle's period)."""
        offset = min(max(offset_ms, 0), self.duration_ms)
        for k in range(3):
            start, end = self._waypoint_ms(k), self._waypoint_ms(k + 1)
            if offset <= end:
                a, b = self.waypoints[k], self.waypoints[k + 1]
                if offset == start:
                    return a
                if offset == end:
                    return b
                price = a + (b - a) * Decimal(offset - start) / Decimal(end - start)
                if self.tick is not None:
                    price = quantize_to_step(price, self.tick, ROUND_HALF_UP)
                return min(max(price, min(a, b)), max(a, b))
        raise AssertionError("unreachable")  # pragma: no cover

    def extremes(self, from_ms: int, to_ms: int) -> tuple[Decimal, Decimal]:
        """``(low, high)`` of the path between two offsets (inclusive) inside the candle."""
        lo_ms = min(max(from_ms, 0), self.duration_ms)
        hi_ms = min(max(to_ms, lo_ms), self.duration_ms)
        prices = [self.price_at(lo_ms), self.price_at(hi_ms)]
        prices += [self.waypoints[k] for k in (1, 2) if lo_ms < self._waypoint_ms(k) < hi_ms]
        return min(prices), max(prices)
