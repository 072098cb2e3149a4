"""The replay clock and the price path inside a candle."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper.candles import CandleSeries
from cryptobots_desktop.adapters.paper.price_path import PricePath
from cryptobots_desktop.adapters.paper.replay_clock import ReplayClock
from cryptobots_desktop.core.market import Candle
from cryptobots_desktop.core.replay import ReplaySpeed

from .conftest import FakeWall

START, END = 1_000_000, 10_000_000


def test_clock_runs_at_its_speed_and_re_anchors_on_change() -> None:
    wall = FakeWall()
    clock = ReplayClock(START, END, START + 1000, ReplaySpeed.X1, wall)
    assert clock.now_ms() == START + 1000 and clock.speed is ReplaySpeed.X1
    wall.advance(2.5)
    assert clock.now_ms() == START + 3500
    clock.set_speed(ReplaySpeed.X10)
    assert clock.now_ms() == START + 3500  # no jump when the speed changes
    wall.advance(1)
    assert clock.now_ms() == START + 13_500
    clock.set_speed(ReplaySpeed.X100)
    wall.advance(0.5)
    assert clock.now_ms() == START + 63_500
    assert clock.start_ms == START and clock.end_ms == END and not clock.finished


def test_max_speed_moves_only_by_steps() -> None:
    wall = FakeWall()
    clock = ReplayClock(START, END, START, ReplaySpeed.X10, wall)
    wall.advance(1)
    clock.set_speed(ReplaySpeed.MAX)
    wall.advance(100)
    assert clock.now_ms() == START + 10_000
    clock.step(60_000)
    assert clock.now_ms() == START + 70_000
    with pytest.raises(ValueError):
        clock.step(-1)
    clock.set_speed(ReplaySpeed.X1)
    wall.advance(1)
    assert clock.now_ms() == START + 71_000


def test_clock_stops_at_the_end() -> None:
    wall = FakeWall()
    clock = ReplayClock(START, END, END - 5_000, ReplaySpeed.X100, wall)
    wall.advance(1)
    assert clock.now_ms() == END and clock.finished
    clock.set_speed(ReplaySpeed.MAX)
    clock.step(60_000)
    assert clock.now_ms() == END and clock.finished
    assert ReplayClock(START, END, END + 99, ReplaySpeed.MAX, wall).now_ms() == END


def candle(o: str, h: str, low: str, c: str) -> Candle:
    return Candle(0, Decimal(o), Decimal(h), Decimal(low), Decimal(c), Decimal(1))


def test_bullish_path_goes_open_low_high_close() -> None:
    path = PricePath.of(candle("100", "110", "95", "105"))
    assert [path.price_at(t) for t in (0, 20_000, 40_000, 60_000)] == [
        Decimal(100),
        Decimal(95),
        Decimal(110),
        Decimal(105),
    ]
    assert path.price_at(10_000) == Decimal("97.5")
    assert path.price_at(30_000) == Decimal("102.5")
    assert path.extremes(0, 20_000) == (Decimal(95), Decimal(100))
    assert path.extremes(10_000, 30_000) == (Decimal(95), Decimal("102.5"))  # the low waypoint is inside
    assert path.extremes(0, 60_000) == (Decimal(95), Decimal(110))
    assert path.extremes(50_000, 60_000) == (Decimal(105), Decimal("107.5"))


def test_bearish_path_goes_open_high_low_close() -> None:
    path = PricePath.of(candle("100", "110", "90", "95"))
    assert [path.price_at(t) for t in (0, 20_000, 40_000, 60_000)] == [
        Decimal(100),
        Decimal(110),
        Decimal(90),
        Decimal(95),
    ]
    assert path.extremes(0, 30_000) == (Decimal(100), Decimal(110))
    assert path.extremes(30_000, 45_000) == (Decimal(90), Decimal(100))


def test_prices_between_waypoints_are_rounded_to_the_tick_within_the_candle() -> None:
    path = PricePath.of(candle("100", "100.03", "100", "100.03"), tick=Decimal("0.01"))
    assert path.price_at(50_000) == Decimal("100.03")  # no move from the high to the close
    path = PricePath.of(candle("1.42686", "1.4270", "1.4268", "1.42690"), tick=Decimal("0.0001"))
    # XRP/USDT before its 2021 tick change: off-tick waypoints, yet every price stays in [low, high]
    prices = [path.price_at(t) for t in range(0, 60_001, 1_000)]
    assert all(Decimal("1.4268") <= p <= Decimal("1.4270") for p in prices)


def test_the_path_of_every_real_candle_spans_exactly_its_low_and_high(market_data: Path) -> None:
    series = CandleSeries.load(
        market_data / "binance_spot_2021" / "binance_BTC-USDT_1m.csv.gz", "BTC/USDT", "1m"
    )
    crash = series.index_at(1_621_429_800_000)  # 2021-05-19 13:10 UTC, the low of the crash
    assert crash is not None and series.candle(crash).low == Decimal("30000")
    for i in range(crash - 200, crash + 200):
        c = series.candle(i)
        path = PricePath.of(c, tick=Decimal("0.01"))
        assert path.extremes(0, 60_000) == (c.low, c.high)
        assert (path.price_at(0), path.price_at(60_000)) == (c.open, c.close)
