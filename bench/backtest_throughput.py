"""Backtest throughput: candles per second for one DCA bot over the shipped BTC/USDT 1m data of 2023.

The issue's bot (base order 100 USDT, first safety order 100 USDT, 5 safety orders, deviation 1 %, step
scale 1.5, volume scale 2, take profit 1.5 %) runs over all of the shipped BTC/USDT 1m candles of 2023
(66k, 16 March - 1 May) with fast-forward (the default), and over a smaller window both minute by
minute (the baseline, measured in the same run) and with fast-forward, whose results must be identical.
Each figure is the whole ``run_backtest`` call: opening the paper exchange and the journal, the run, and
the report. Goal: >= 50,000 candles/s.

    .venv/bin/python bench/backtest_throughput.py [--baseline-days 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.backtest import BacktestResult, run_backtest
from cryptobots_desktop.core.strategies.dca import DcaParams

ROOT = Path(__file__).resolve().parent.parent
PAIR = "BTC/USDT"
GOAL = 50_000
PARAMS = DcaParams(
    base_order_size=Decimal(100),
    safety_order_size=Decimal(100),
    max_safety_orders=5,
    price_deviation_pct=Decimal(1),
    safety_order_step_scale=Decimal("1.5"),
    safety_order_volume_scale=Decimal(2),
    take_profit_pct=Decimal("1.5"),
)


def timed(fast: bool, start_ms: int | None = None, end_ms: int | None = None) -> tuple[BacktestResult, float]:
    began = time.perf_counter()
    result = asyncio.run(
        run_backtest(ROOT / "resources", PAIR, PARAMS, start_ms=start_ms, end_ms=end_ms, fast_forward=fast)
    )
    return result, time.perf_counter() - began


def candles(result: BacktestResult) -> int:
    return (result.end_ms - result.start_ms) // 60_000


def same(a: BacktestResult, b: BacktestResult) -> bool:
    return (a.fills, a.balances, a.to_json()) == (b.fills, b.balances, b.to_json())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-days", type=float, default=3.0, help="minute-by-minute window (days)")
    args = parser.parse_args()

    full, full_s = timed(True)
    n = candles(full)
    fast_rate = n / full_s
    closed = sum(1 for d in full.deals if d["phase"] == "closed")
    print(
        f"fast-forward, all of the 2023 {PAIR} 1m candles: {n} candles in {full_s:.2f} s "
        f"= {fast_rate:,.0f} candles/s"
    )
    print(
        f"  minutes stepped: {full.steps} of {n}; deals: {len(full.deals)} "
        f"({closed} closed, {full.open_deals} open)"
    )
    print(
        f"  realised profit {full.realised_pnl:.2f} {full.quote}; portfolio {full.starting_value:.2f} -> "
        f"{full.final_value:.2f} {full.quote}"
    )

    start = full.start_ms
    end = start + int(args.baseline_days * 86_400_000) // 60_000 * 60_000
    slow, slow_s = timed(False, start, end)
    quick, quick_s = timed(True, start, end)
    m = candles(slow)
    slow_rate, quick_rate = m / slow_s, m / quick_s
    print(
        f"minute by minute, first {args.baseline_days:g} days: {m} candles in {slow_s:.2f} s "
        f"= {slow_rate:,.0f} candles/s"
    )
    print(
        f"fast-forward, same window: {quick_s:.3f} s = {quick_rate:,.0f} candles/s; "
        f"identical results: {same(slow, quick)}"
    )
    print(
        f"ratio (full fast-forward / minute by minute): {fast_rate / slow_rate:.1f}x; "
        f"goal {GOAL:,} candles/s: "
        f"{'met' if fast_rate >= GOAL else 'NOT met'}"
    )
    return 0 if same(slow, quick) else 1


if __name__ == "__main__":
    sys.exit(main())
