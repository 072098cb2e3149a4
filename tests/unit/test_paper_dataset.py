"""Recorded candle files, exchangeInfo rules and the datasets that tie them together."""

from __future__ import annotations

import gzip
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper.candles import CandleSeries
from cryptobots_desktop.adapters.paper.dataset import Dataset, common_window, read_catalog
from cryptobots_desktop.adapters.paper.exchange_info import MarketRules
from cryptobots_desktop.core.errors import CryptobotsError

HALT_MS = 1_679_660_880_000  # 2023-03-24 12:28 UTC: zero-volume candles until 12:39, none 12:40-13:59


def test_datasets_json_bounds_are_the_window_common_to_the_1m_files(market_data: Path) -> None:
    catalog = read_catalog(market_data)
    for name, entry in catalog["datasets"].items():
        series = [
            CandleSeries.load(market_data / name / f"binance_{p.replace('/', '-')}_1m.csv.gz", p, "1m")
            for p in entry["pairs"]
        ]
        assert (entry["start_ms"], entry["end_ms"]) == common_window(series), name


def test_opening_a_dataset_reads_only_json_and_loads_candles_on_first_use(market_data: Path) -> None:
    ds = Dataset.load(market_data)  # the default dataset
    assert ds.name == "binance_spot_2023" and ds.pairs == ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")
    assert (ds.start_ms, ds.end_ms) == (1_680_382_980_000, 1_682_974_860_000)
    assert not ds.loaded and ds.cached_series("BTC/USDT", "1m") is None
    btc = ds.load_series("BTC/USDT", "1m")
    assert ds.load_series("BTC/USDT", "1m") is btc and ds.loaded == (("BTC/USDT", "1m"),)
    assert ds.markets["BTC/USDT"].maker_fee == ds.markets["BTC/USDT"].taker_fee == Decimal("0.001")
    with pytest.raises(CryptobotsError, match="no market data set named 'nope'"):
        Dataset.load(market_data, "nope")


def test_candle_series_keeps_the_exact_published_values(market_data: Path) -> None:
    path = market_data / "binance_spot_2023" / "binance_BTC-USDT_1m.csv.gz"
    started = time.perf_counter()
    series = CandleSeries.load(path, "BTC/USDT", "1m")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"loading 66k candles took {elapsed:.3f} s"  # ~80 ms on a laptop
    rows = gzip.decompress(path.read_bytes()).decode().split("\n")[1:-1]
    assert len(series) == len(rows) == 66_087
    for i in (*range(50), *range(len(rows) - 50, len(rows)), *range(0, len(rows), 997)):
        ts, *values = rows[i].split(",")
        c = series.candle(i)
        assert (c.ts_ms, c.open, c.high, c.low, c.close, c.volume) == (int(ts), *map(Decimal, values))
    assert series.first_ts == 1_679_004_900_000 and series.last_ts == 1_682_974_860_000


def test_lookups_find_the_candle_containing_a_time_and_see_gaps(market_data: Path) -> None:
    series = CandleSeries.load(
        market_data / "binance_spot_2023" / "binance_BTC-USDT_1m.csv.gz", "BTC/USDT", "1m"
    )
    i = series.index_at(HALT_MS + 59_999)
    assert i is not None and series.ts(i) == HALT_MS
    halt = series.candle(i)
    assert halt.volume == 0 and halt.open == halt.high == halt.low == halt.close == Decimal("28080")
    assert series.index_at(HALT_MS + 12 * 60_000) is None  # 12:40, inside the gap
    assert (
        series.index_at(series.first_ts - 1) is None and series.index_at_or_before(series.first_ts - 1) == -1
    )
    last = series.last_closed(HALT_MS + 3 * 60_000 + 1, 3)
    assert [c.ts_ms for c in last] == [HALT_MS, HALT_MS + 60_000, HALT_MS + 120_000]
    assert (
        len(series.range_indices(HALT_MS, HALT_MS + 120 * 60_000)) == 12 + 28
    )  # 12:28-14:27 UTC, 80 minutes missing


@pytest.mark.parametrize(
    ("rules_name", "symbol", "tick", "step", "min_notional", "filter_name"),
    [
        ("rules_2021", "BTC/USDT", "0.01", "0.000001", "10", "MIN_NOTIONAL"),
        ("rules_2021", "ETH/BTC", "0.000001", "0.001", "0.0001", "MIN_NOTIONAL"),
        ("rules_2021", "XRP/USDT", "0.0001", "0.01", "10", "MIN_NOTIONAL"),
        ("rules_2024", "BTC/USDT", "0.01", "0.00001", "5", "NOTIONAL"),
        ("rules_2024", "ETH/BTC", "0.00001", "0.0001", "0.0001", "NOTIONAL"),
        ("rules_2024", "XRP/USDT", "0.0001", "1", "5", "NOTIONAL"),
        ("rules_2024", "SOL/USDT", "0.01", "0.001", "5", "NOTIONAL"),
    ],
)
def test_exchange_info_filters_become_market_rules(
    request: pytest.FixtureRequest,
    rules_name: str,
    symbol: str,
    tick: str,
    step: str,
    min_notional: str,
    filter_name: str,
) -> None:
    rules: dict[str, MarketRules] = request.getfixturevalue(rules_name)
    r = rules[symbol]
    m = r.market
    assert (m.price_tick, m.amount_step, m.min_notional, r.notional_filter) == (
        Decimal(tick),
        Decimal(step),
        Decimal(min_notional),
        filter_name,
    )
    assert m.min_amount == m.amount_step and m.exchange_symbol == symbol.replace("/", "")
    assert str(m.min_notional) == min_notional  # written as Binance's people read it, no exponent


def test_every_dataset_pair_has_rules_and_candle_files(market_data: Path) -> None:
    catalog = json.loads((market_data / "datasets.json").read_text())
    for name in catalog["datasets"]:
        ds = Dataset.load(market_data, name)
        for pair in ds.pairs:
            assert ds.has_series(pair, "1m") and ds.has_series(pair, "5m")


def test_a_short_scan_finds_the_same_first_reaching_candle_as_the_envelope(market_data: Path) -> None:
    series = CandleSeries.load(
        market_data / "binance_spot_2023" / "binance_SOL-USDT_1m.csv.gz", "SOL/USDT", "1m"
    )
    lows, highs = series.envelope()
    for start in range(0, 3000, 37):
        mid = (lows[start] + highs[start]) / 2
        for low, high in ((mid * 0.995, None), (None, mid * 1.004), (mid * 0.998, mid * 1.002), (None, None)):
            for span in (0, 1, 2, 5, 16):
                stop = start + span
                lo = float("-inf") if low is None else low
                hi = float("inf") if high is None else high
                expected = next((k for k in range(start, stop) if lows[k] <= lo or highs[k] >= hi), stop)
                assert series.first_reaching(start, stop, low, high) == expected
    assert series.first_reaching(len(series) - 2, len(series) + 5, None, 1e12) == len(series)  # clamped


def test_one_pair_narrowed_runs_over_all_of_its_own_candles(market_data: Path) -> None:
    """A one-pair backtest replays the whole BTC/USDT file (from 16 March), not only the window XRP shares."""
    data = Dataset.load(market_data, "binance_spot_2023")
    btc = data.narrowed_to("BTC/USDT")
    series = btc.cached_series("BTC/USDT", "1m")
    assert series is not None and btc.pairs == ("BTC/USDT",)
    assert (btc.start_ms, btc.end_ms) == (series.first_ts, series.last_ts)
    assert btc.start_ms < data.start_ms and (btc.end_ms - btc.start_ms) // 60_000 > 66_000
    assert set(btc.markets) == {"BTC/USDT"} and btc.rules["BTC/USDT"] == data.rules["BTC/USDT"]
    assert data.narrowed_to("DOGE/USDT") is data  # unknown: the caller's own check explains it
