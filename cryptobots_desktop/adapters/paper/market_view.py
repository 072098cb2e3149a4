"""What a replayed market looks like at a moment: its price, its candles (the last one forming) and the
path segments resting orders are matched against. All of it reads prices from ``price_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from cryptobots_desktop.core.market import Candle

from .candles import CandleSeries
from .price_path import MINUTE_MS, PricePath

VOLUME_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class PathSegment:
    """The part of one 1m candle's path between two moments, with that candle's time and volume."""

    candle_ts: int
    volume: Decimal
    low: Decimal
    high: Decimal
    end_ms: int


def minute_path(minutes: CandleSeries, i: int, tick: Decimal | None) -> PricePath:
    """The price path of 1m candle ``i``."""
    return PricePath.of(minutes.candle(i), MINUTE_MS, tick)


def price_at(minutes: CandleSeries, ts_ms: int, tick: Decimal | None) -> Decimal | None:
    """The path price at ``ts_ms``; in a gap or after the data the last close; None before the data."""
    i = minutes.index_at_or_before(ts_ms)
    if i < 0:
        return None
    offset = ts_ms - minutes.ts(i)
    if offset < MINUTE_MS:
        return minute_path(minutes, i, tick).price_at(offset)
    return minutes.candle(i).close


def path_segments(
    minutes: CandleSeries, from_ms: int, to_ms: int, tick: Decimal | None
) -> Iterator[PathSegment]:
    """Segments of the path from ``from_ms`` to ``to_ms`` (both inclusive), one per 1m candle touched."""
    if to_ms < from_ms:
        return
    first = max(minutes.index_at_or_before(from_ms), 0)
    for i in range(first, minutes.index_at_or_before(to_ms) + 1):
        ts = minutes.ts(i)
        if ts + MINUTE_MS <= from_ms:
            continue
        a, b = max(from_ms - ts, 0), min(to_ms - ts, MINUTE_MS)
        low, high = minute_path(minutes, i, tick).extremes(a, b)
        yield PathSegment(ts, minutes.volume(i), low, high, ts + b)


def forming_minute(minutes: CandleSeries, i: int, ts_ms: int, tick: Decimal | None) -> Candle:
    """1m candle ``i`` as seen at ``ts_ms`` inside it: high/low so far, close = price now, volume prorated."""
    candle = minutes.candle(i)
    offset = min(max(ts_ms - candle.ts_ms, 0), MINUTE_MS)
    path = PricePath.of(candle, MINUTE_MS, tick)
    low, high = path.extremes(0, offset)
    volume = (candle.volume * offset / MINUTE_MS).quantize(VOLUME_QUANTUM, rounding=ROUND_DOWN)
    return Candle(candle.ts_ms, candle.open, high, low, path.price_at(offset), volume)


def candles_up_to(
    minutes: CandleSeries, series: CandleSeries, ts_ms: int, limit: int, tick: Decimal | None
) -> list[Candle]:
    """The last ``limit`` candles of ``series`` at ``ts_ms``, oldest first.

    Closed candles come from ``series`` as published; the one forming at ``ts_ms`` (if the data has any
    minute of it so far) is built from the 1m candles and the path, so it agrees with the ticker.
    """
    if limit <= 0:
        return []
    bucket = ts_ms - ts_ms % series.timeframe_ms
    closed = series.last_closed(bucket, limit)
    parts: list[Candle] = []
    for j in minutes.range_indices(bucket, ts_ms + 1):
        if minutes.ts(j) + MINUTE_MS <= ts_ms:
            parts.append(minutes.candle(j))
        else:
            parts.append(forming_minute(minutes, j, ts_ms, tick))
    if not parts:
        return closed
    forming = Candle(
        bucket,
        parts[0].open,
        max(c.high for c in parts),
        min(c.low for c in parts),
        parts[-1].close,
        sum((c.volume for c in parts), Decimal(0)),
    )
    return [*closed, forming][-limit:]
