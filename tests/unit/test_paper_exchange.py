"""PaperExchange end to end on the real recorded data: prices, candles, orders, gaps, restarts."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.paper.candles import CandleSeries
from cryptobots_desktop.adapters.paper.market_view import candles_up_to, path_segments, price_at
from cryptobots_desktop.adapters.paper.price_path import PricePath
from cryptobots_desktop.core.errors import (
    CryptobotsError,
    DuplicateClientOrderId,
    ExchangeError,
    UnknownPair,
)
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderStatus, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed

from .conftest import FakeWall

T = TypeVar("T")
DAY_MS = 86_400_000
TICK = Decimal("0.01")
START_2023 = 1_680_382_980_000


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


async def open_exchange(
    market_data: Path,
    state: Path,
    wall: FakeWall,
    *,
    dataset: str = "binance_spot_2023",
    speed: ReplaySpeed = ReplaySpeed.MAX,
    participation: str = "0.1",
) -> PaperExchange:
    return await PaperExchange.open(
        market_data,
        dataset,
        state,
        {"USDT": Decimal("10000"), "BTC": Decimal("0.1")},
        speed,
        Decimal(participation),
        wall,
    )


def test_opening_reads_no_candle_file_and_starts_a_day_into_the_data(
    market_data: Path, tmp_path: Path
) -> None:
    async def scenario() -> None:
        ex = await open_exchange(market_data, tmp_path / "state.db", FakeWall())
        assert ex.exchange_id == "paper" and ex.is_paper
        assert not ex.dataset.loaded
        assert ex.replay.start_ms == START_2023 and ex.replay.now_ms() == START_2023 + DAY_MS
        assert set(await ex.load_markets()) == set(ex.markets) == set(ex.dataset.pairs)
        balances = await ex.fetch_balances()
        assert {a: (b.free, b.used) for a, b in balances.items()} == {
            "BTC": (Decimal("0.1"), Decimal(0)),
            "USDT": (Decimal("10000"), Decimal(0)),
        }
        assert await ex.fetch_open_orders() == [] and await ex.fetch_order("BTC/USDT", "x") is None
        assert not ex.dataset.loaded
        await ex.fetch_ticker("SOL/USDT")
        assert ex.dataset.loaded == (("SOL/USDT", "1m"),)
        with pytest.raises(UnknownPair):
            await ex.fetch_ticker("DOGE/USDT")
        with pytest.raises(ExchangeError, match="15m timeframe"):
            await ex.fetch_candles("BTC/USDT", "15m")
        await ex.close()
        with pytest.raises(CryptobotsError, match="closed"):
            await ex.fetch_balances()

    run(scenario())


def test_ticker_and_forming_candles_follow_the_price_path(market_data: Path, tmp_path: Path) -> None:
    minutes = CandleSeries.load(
        market_data / "binance_spot_2023" / "binance_BTC-USDT_1m.csv.gz", "BTC/USDT", "1m"
    )
    fives = CandleSeries.load(
        market_data / "binance_spot_2023" / "binance_BTC-USDT_5m.csv.gz", "BTC/USDT", "5m"
    )

    async def scenario() -> None:
        wall = FakeWall()
        ex = await open_exchange(market_data, tmp_path / "state.db", wall, speed=ReplaySpeed.X10)
        seen: list[tuple[int, Decimal]] = []
        for _ in range(30):  # 30 x 0.5 s at 10x: 2.5 minutes of replay
            wall.advance(0.5)
            ticker = await ex.fetch_ticker("BTC/USDT")
            now = ticker.ts_ms
            assert now == ex.replay.now_ms()
            i = minutes.index_at(now)
            assert i is not None
            start = minutes.ts(i)
            path = PricePath.of(minutes.candle(i), tick=TICK)
            assert ticker.last == path.price_at(now - start)
            seen.append((now, ticker.last))

            *closed, forming = await ex.fetch_candles("BTC/USDT", "1m", 5)
            assert [c.ts_ms for c in closed] == [start - k * 60_000 for k in (4, 3, 2, 1)]
            assert closed == [minutes.candle(i - k) for k in (4, 3, 2, 1)]
            so_far = [p for t, p in seen if t >= start]
            assert forming.ts_ms == start and forming.open == minutes.candle(i).open
            assert forming.close == ticker.last
            assert (forming.low, forming.high) == path.extremes(0, now - start)
            assert forming.low <= min(so_far) and forming.high >= max(so_far)
            assert forming.volume == (minutes.candle(i).volume * (now - start) / 60_000).quantize(
                Decimal("1e-8"), "ROUND_DOWN"
            )

            *closed5, forming5 = await ex.fetch_candles("BTC/USDT", "5m", 3)
            bucket = now - now % 300_000
            assert forming5.ts_ms == bucket and forming5.close == ticker.last
            assert closed5 == [fives.candle(fives.index_at(bucket - k * 300_000) or 0) for k in (2, 1)]
            parts = [minutes.candle(j) for j in minutes.range_indices(bucket, start)] + [forming]
            assert forming5.open == parts[0].open
            assert (forming5.low, forming5.high) == (min(c.low for c in parts), max(c.high for c in parts))
        await ex.close()

    run(scenario())


def test_in_a_data_gap_the_price_is_the_last_close(market_data: Path, tmp_path: Path) -> None:
    gap_start = 1_619_323_260_000  # 2021-04-25 04:01 UTC: no candles on Binance until 08:45

    async def scenario() -> None:
        ex = await open_exchange(market_data, tmp_path / "state.db", FakeWall(), dataset="binance_spot_2021")
        minutes = ex.dataset.load_series("BTC/USDT", "1m")
        before = minutes.candle(minutes.index_at_or_before(gap_start))
        assert before.ts_ms == gap_start - 60_000
        ex.replay.step(gap_start + 2 * 3_600_000 - ex.replay.now_ms())  # 06:01 UTC
        ticker = await ex.fetch_ticker("BTC/USDT")
        assert ticker.last == before.close
        candles = await ex.fetch_candles("BTC/USDT", "1m", 3)
        assert candles[-1] == before  # nothing is forming in a gap
        assert (await ex.fetch_candles("BTC/USDT", "5m", 1))[-1].ts_ms == gap_start - 60_000
        order = await ex.create_order(
            OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"), "g1")
        )
        assert order.fills[0].price == before.close
        # trading picks up again with the first candle after the gap
        ex.replay.step(gap_start + 284 * 60_000 - ex.replay.now_ms())
        assert (await ex.fetch_ticker("BTC/USDT")).last == minutes.candle(
            minutes.index_at_or_before(gap_start) + 1
        ).open
        await ex.close()

    run(scenario())


def test_the_2023_halt_zero_volume_then_no_candles(market_data: Path) -> None:
    minutes = CandleSeries.load(
        market_data / "binance_spot_2023" / "binance_BTC-USDT_1m.csv.gz", "BTC/USDT", "1m"
    )
    halt, resumed = 1_679_660_880_000, 1_679_666_400_000  # 2023-03-24 12:28 and 14:00 UTC
    assert price_at(minutes, minutes.first_ts - 1, TICK) is None
    for t in (halt, halt + 30_000, halt + 11 * 60_000 + 59_999, halt + 40 * 60_000, resumed - 1):
        assert price_at(minutes, t, TICK) == Decimal("28080")
    assert price_at(minutes, resumed, TICK) == minutes.candle(minutes.index_at(resumed) or 0).open
    assert {(s.volume, s.low, s.high) for s in path_segments(minutes, halt, resumed - 1, TICK)} == {
        (Decimal(0), Decimal("28080"), Decimal("28080"))
    }
    candles = candles_up_to(minutes, minutes, halt + 40 * 60_000, 2, TICK)
    assert [c.ts_ms for c in candles] == [halt + 10 * 60_000, halt + 11 * 60_000]


def test_an_account_survives_a_restart_and_keeps_filling(market_data: Path, tmp_path: Path) -> None:
    state = tmp_path / "paper.db"
    buy = OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.5"), "grid-1", Decimal("1"))

    async def first_session() -> tuple[object, ...]:
        ex = await open_exchange(market_data, state, FakeWall(5_000.0), participation="0.0002")
        price = (await ex.fetch_ticker("BTC/USDT")).last
        await ex.create_order(
            OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.01"), "m-1")
        )
        resting = OrderRequest(
            "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.3"), "grid-1", price - TICK
        )
        placed = await ex.create_order(resting)
        assert placed.status is OrderStatus.OPEN
        sell = OrderRequest("BTC/USDT", OrderSide.SELL, OrderType.LIMIT, Decimal("0.05"), "grid-2", price * 2)
        await ex.create_order(sell)
        # acknowledged means durable: the rows are in the file before close()
        with sqlite3.connect(state) as db:
            rows = db.execute("SELECT client_order_id FROM orders ORDER BY exchange_order_id").fetchall()
        assert rows == [("m-1",), ("grid-1",), ("grid-2",)]
        ex.replay.step(10 * 60_000)
        order = await ex.fetch_order("BTC/USDT", "grid-1")
        assert order is not None and order.status is OrderStatus.OPEN and 0 < order.filled < Decimal("0.3")
        snapshot = (
            await ex.fetch_balances(),
            await ex.fetch_open_orders(),
            await ex.fetch_fills(),
            ex.replay.now_ms(),
        )
        await ex.close()
        return snapshot

    async def second_session(before: tuple[object, ...]) -> None:
        ex = await open_exchange(market_data, state, FakeWall(0.0), participation="0.0002")
        after = (
            await ex.fetch_balances(),
            await ex.fetch_open_orders(),
            await ex.fetch_fills(),
            ex.replay.now_ms(),
        )
        assert after == before
        assert ex.starting_balances == {"USDT": Decimal("10000"), "BTC": Decimal("0.1")}
        with pytest.raises(DuplicateClientOrderId):
            await ex.create_order(buy)
        with pytest.raises(DuplicateClientOrderId):
            await ex.create_order(
                OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.01"), "m-1")
            )
        ex.replay.step(DAY_MS)
        order = await ex.fetch_order("BTC/USDT", "grid-1")
        assert order is not None and order.status is OrderStatus.FILLED and order.filled == Decimal("0.3")
        assert all(f.is_maker and f.price == order.price for f in order.fills)
        balances = await ex.fetch_balances()
        assert balances["USDT"].used == Decimal("0")  # the sell holds BTC, not USDT
        assert balances["BTC"].used == Decimal("0.05")
        await ex.cancel_order("BTC/USDT", "grid-2")
        await ex.close()

    async def third_session() -> None:
        ex = await open_exchange(market_data, state, FakeWall(), participation="0.0002")
        assert await ex.fetch_open_orders() == [] and (await ex.fetch_balances())["BTC"].used == 0
        await ex.close()
        with pytest.raises(CryptobotsError, match="binance_spot_2023"):
            await open_exchange(market_data, state, FakeWall(), dataset="binance_spot_2021")

    run(second_session(run(first_session())))
    run(third_session())


def test_replay_time_is_saved_on_close(market_data: Path, tmp_path: Path) -> None:
    def writer_threads() -> set[int | None]:
        return {t.ident for t in threading.enumerate() if t.name.startswith("paper-state")}

    async def scenario() -> None:
        # other tests' session-wide local exchanges keep their own paper accounts (and threads) open
        before = writer_threads()
        wall = FakeWall()
        ex = await open_exchange(market_data, tmp_path / "s.db", wall, speed=ReplaySpeed.X100)
        assert writer_threads() - before, "the exchange writes its state on a thread of its own"
        wall.advance(36)  # one hour of replay
        assert ex.replay.now_ms() == START_2023 + DAY_MS + 3_600_000
        await ex.close()
        again = await open_exchange(market_data, tmp_path / "s.db", FakeWall(0.0), speed=ReplaySpeed.X100)
        assert again.replay.now_ms() == START_2023 + DAY_MS + 3_600_000
        await again.close()
        # the writer threads of both are gone once the exchanges are closed
        assert writer_threads() <= before

    run(scenario())


def test_an_unreadable_state_file_is_reported_for_a_person(market_data: Path, tmp_path: Path) -> None:
    state = tmp_path / "paper.db"
    state.write_bytes(b"not a database, just forty bytes of junk!" * 4)
    with pytest.raises(CryptobotsError, match="could not be read") as err:
        run(open_exchange(market_data, state, FakeWall()))
    assert "new paper account" in err.value.hint
