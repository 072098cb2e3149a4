"""Backtest fast-forward: skipping the minutes in which the bot cannot act changes nothing.

The same bot runs over the same window minute by minute and with fast-forward, on the real April 2023
BTC/USDT minutes: every fill (side, price, amount, fee, time, maker or taker), every deal and the final
balances must be identical. The windows hold stop losses and trailing take-profits, so the price levels
the controller watches are exercised; with those levels hidden from the fast-forward the results differ,
which shows the windows test them. The paper exchange's candle scan is checked exactly at a candle's low.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import ROUND_DOWN
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.backtest import BacktestResult, parse_time, run_backtest
from cryptobots_desktop.core.market import quantize_to_step
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.controller import CloseReason
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.engine.dca_runner import BotWatch, DcaBotRunner

SYMBOL = "BTC/USDT"
STOP_LOSS = DcaParams(
    base_order_size=D(100),
    safety_order_size=D(100),
    max_safety_orders=3,
    price_deviation_pct=D("0.5"),
    safety_order_volume_scale=D(2),
    take_profit_pct=D(1),
    stop_loss_pct=D(2),
    cooldown_seconds=600,
)
TRAILING = DcaParams(
    base_order_size=D(100),
    safety_order_size=D(100),
    max_safety_orders=5,
    price_deviation_pct=D("0.5"),
    safety_order_step_scale=D("1.5"),
    take_profit_pct=D("0.5"),
    trailing_take_profit=True,
    trailing_deviation_pct=D("0.2"),
)
CASES = [
    pytest.param(STOP_LOSS, "2023-04-26T12:00", "2023-04-27T02:00", CloseReason.STOP_LOSS, id="stop-loss-26"),
    pytest.param(STOP_LOSS, "2023-04-03T06:00", "2023-04-03T23:00", CloseReason.STOP_LOSS, id="stop-loss-03"),
    pytest.param(
        TRAILING, "2023-04-10T16:00", "2023-04-11T03:00", CloseReason.TRAILING_TAKE_PROFIT, id="trailing-10"
    ),
    pytest.param(
        TRAILING, "2023-04-04T10:00", "2023-04-05T02:00", CloseReason.TRAILING_TAKE_PROFIT, id="trailing-04"
    ),
]


def run(resources: Path, params: DcaParams, start: str, end: str, *, fast: bool) -> BacktestResult:
    return asyncio.run(
        run_backtest(
            resources, SYMBOL, params, start_ms=parse_time(start), end_ms=parse_time(end), fast_forward=fast
        )
    )


def outcome(result: BacktestResult) -> tuple[object, ...]:
    fills = [
        (f.trade_id, f.client_order_id, f.side, f.price, f.amount, f.fee, f.fee_asset, f.ts_ms, f.is_maker)
        for f in result.fills
    ]
    return fills, result.balances, result.to_json(), result.end_ms


@pytest.mark.parametrize(("params", "start", "end", "reason"), CASES)
def test_fast_forward_gives_the_same_deals_fills_and_balances(
    resources: Path, params: DcaParams, start: str, end: str, reason: CloseReason
) -> None:
    slow = run(resources, params, start, end, fast=False)
    fast = run(resources, params, start, end, fast=True)
    assert outcome(fast) == outcome(slow)
    assert [d["close_reason"] for d in slow.deals].count(reason.value) >= 1
    assert len(slow.fills) >= 4
    assert slow.steps == (slow.end_ms - slow.start_ms) // 60_000
    assert fast.steps * 3 < slow.steps  # it did skip most minutes


@pytest.mark.parametrize(("params", "start", "end", "reason"), CASES[::2])
def test_without_the_watched_levels_fast_forward_would_differ(
    resources: Path,
    params: DcaParams,
    start: str,
    end: str,
    reason: CloseReason,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The windows do exercise the stop-loss / trailing levels: hiding them from the skip breaks equality."""
    watch = DcaBotRunner.watch

    def blind(self: DcaBotRunner) -> BotWatch:
        return replace(watch(self), low=None, high=None)

    slow = run(resources, params, start, end, fast=False)
    monkeypatch.setattr(DcaBotRunner, "watch", blind)
    fast = run(resources, params, start, end, fast=True)
    assert outcome(fast) != outcome(slow)


def test_the_candle_scan_stops_exactly_at_a_candle_whose_low_is_the_order_price(
    resources: Path, tmp_path: Path
) -> None:
    async def scenario() -> None:
        exchange = await PaperExchange.open(
            resources / "market_data",
            "binance_spot_2023",
            tmp_path / "paper.sqlite3",
            {"USDT": D(10_000)},
            speed=ReplaySpeed.MAX,
            replay_start_ms=parse_time("2023-04-10T00:00"),
        )
        try:
            market = exchange.markets[SYMBOL]
            now = exchange.replay.now_ms()
            candles = await exchange.fetch_candles(SYMBOL, "1m", 1)
            assert candles[-1].ts_ms == now
            # the first later minute whose low is below every low since now: a buy at exactly it fills there
            series = exchange.dataset.cached_series(SYMBOL, "1m")
            assert series is not None
            i = series.index_at(now)
            assert i is not None
            lowest, k = series.candle(i).low, i + 1
            while series.candle(k).low >= lowest or k < i + 30:
                lowest = min(lowest, series.candle(k).low)
                k += 1
            target = series.candle(k)
            assert target.low == quantize_to_step(target.low, market.price_tick, ROUND_DOWN)
            end = exchange.replay.end_ms
            assert await exchange.next_touch(SYMBOL, end, low=target.low) == target.ts_ms
            below = target.low - market.price_tick
            assert (await exchange.next_touch(SYMBOL, end, low=below) or end + 1) > target.ts_ms
            amount = market.floor_amount(D(20) / target.low)
            request = OrderRequest(SYMBOL, OrderSide.BUY, OrderType.LIMIT, amount, "ff-test-1", target.low)
            await exchange.create_order(request)
            assert await exchange.next_touch(SYMBOL, end) == target.ts_ms
            with pytest.raises(ValueError, match="may fill"):
                await exchange.fast_forward(target.ts_ms)
            await exchange.fast_forward(target.ts_ms - 60_000)  # the last quiet minute
            assert (await exchange.fetch_order(SYMBOL, "ff-test-1")).fills == ()  # type: ignore[union-attr]
            exchange.replay.step(2 * 60_000)  # through the minute of the low
            order = await exchange.fetch_order(SYMBOL, "ff-test-1")
            assert order is not None and order.fills
            assert {f.price for f in order.fills} == {target.low}
        finally:
            await exchange.close()

    asyncio.run(scenario())
