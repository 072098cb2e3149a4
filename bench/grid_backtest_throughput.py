"""Grid backtest throughput: candles per second for the example grid over the shipped BTC/USDT 1m 2023 data.

``examples/grid-btc.json`` runs over all of ``binance_spot_2023`` with fast-forward (the default: the grid
is stepped only in the minutes in which one of its resting orders can fill), and over a smaller window both
minute by minute and with fast-forward, whose results must be identical. Each figure is the whole
``run_backtest`` call (opening the paper exchange and the journal, the run, the report).

    .venv/bin/python bench/grid_backtest_throughput.py [--baseline-days 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from cryptobots_desktop.backtest import BacktestResult, run_backtest
from cryptobots_desktop.core.strategies.grid import GridParams

ROOT = Path(__file__).resolve().parent.parent
PAIR = "BTC/USDT"
PARAMS = GridParams.model_validate_json((ROOT / "examples" / "grid-btc.json").read_text())


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
    grid = full.grid or {}
    print(
        f"fast-forward, all of binance_spot_2023 {PAIR}: {n} candles in {full_s:.2f} s "
        f"= {n / full_s:,.0f} candles/s"
    )
    print(
        f"  minutes stepped: {full.steps} of {n}; fills: {len(full.fills)}; cycles: {grid.get('cycles')}; "
        f"realised {grid.get('realised_profit')} {full.quote}; portfolio {full.starting_value:.2f} -> "
        f"{full.final_value:.2f} {full.quote}"
    )
    start = full.start_ms
    end = start + int(args.baseline_days * 86_400_000) // 60_000 * 60_000
    slow, slow_s = timed(False, start, end)
    quick, quick_s = timed(True, start, end)
    m = candles(slow)
    print(
        f"minute by minute, first {args.baseline_days:g} days: {m} candles in {slow_s:.2f} s "
        f"= {m / slow_s:,.0f} candles/s"
    )
    print(f"fast-forward, same window: {m / quick_s:,.0f} candles/s; identical results: {same(slow, quick)}")
    return 0 if same(slow, quick) else 1


if __name__ == "__main__":
    sys.exit(main())
