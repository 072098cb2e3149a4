"""Datasets of recorded market data, as described by ``datasets.json``; candle files load lazily."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.market import Market

from .candles import CandleSeries, candle_file_name
from .exchange_info import MarketRules, parse_exchange_info

DATASETS_FILE = "datasets.json"


def read_catalog(market_data_dir: Path) -> dict[str, Any]:
    """The parsed ``datasets.json`` of a market-data folder."""
    with (market_data_dir / DATASETS_FILE).open(encoding="utf-8") as fh:
        catalog: dict[str, Any] = json.load(fh)
    return catalog


def common_window(series: Iterable[CandleSeries]) -> tuple[int, int]:
    """``(latest first candle, earliest last candle)`` open times: the window every series covers."""
    items = list(series)
    if not items:
        raise ValueError("no candle series")
    return max(s.first_ts for s in items), min(s.last_ts for s in items)


class Dataset:
    """One replayable dataset: its pairs, their trading rules and the folder of their candle files.

    Constructing it reads only the small JSON files; a pair's candles load on first use (``load_series``,
    thread-safe, meant to run in a worker thread) and stay cached. ``start_ms``/``end_ms`` bound the window
    common to all pairs' 1m candles (open times of the latest first and the earliest last candle).
    """

    def __init__(
        self,
        name: str,
        title: str,
        folder: Path,
        pairs: tuple[str, ...],
        rules: Mapping[str, MarketRules],
        start_ms: int,
        end_ms: int,
    ) -> None:
        self.name = name
        self.title = title
        self.folder = folder
        self.pairs = pairs
        self.rules: Mapping[str, MarketRules] = dict(rules)
        self.markets: Mapping[str, Market] = {s: r.market for s, r in self.rules.items()}
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._series: dict[tuple[str, str], CandleSeries] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, market_data_dir: Path, name: str | None = None) -> Dataset:
        """The dataset ``name`` (default: the catalog's ``default_dataset``) from ``market_data_dir``."""
        catalog = read_catalog(market_data_dir)
        datasets: dict[str, Any] = catalog["datasets"]
        name = name or str(catalog["default_dataset"])
        if name not in datasets:
            raise CryptobotsError(
                f"There is no market data set named {name!r}.",
                f"Choose one of: {', '.join(sorted(datasets))}.",
            )
        entry = datasets[name]
        pairs = tuple(str(p) for p in entry["pairs"])
        with (market_data_dir / entry["exchange_info"]).open(encoding="utf-8") as fh:
            info = json.load(fh)
        fees = catalog["fees"]
        rules = parse_exchange_info(info, Decimal(fees["maker"]), Decimal(fees["taker"]), pairs)
        return cls(
            name=name,
            title=str(entry["title"]),
            folder=market_data_dir / name,
            pairs=pairs,
            rules={p: rules[p] for p in pairs},
            start_ms=int(entry["start_ms"]),
            end_ms=int(entry["end_ms"]),
        )

    def narrowed_to(self, symbol: str) -> Dataset:
        """This dataset with ``symbol`` alone, replayed over all of its own 1m candles rather than the window
        every pair shares (a one-pair backtest). Blocking: reads the candles. Unknown pairs: unchanged."""
        if symbol not in self.rules or not self.has_series(symbol, "1m"):
            return self
        series = self.load_series(symbol, "1m")
        narrowed = Dataset(
            self.name,
            self.title,
            self.folder,
            (symbol,),
            {symbol: self.rules[symbol]},
            series.first_ts,
            series.last_ts,
        )
        narrowed._series[(symbol, "1m")] = series
        return narrowed

    def series_path(self, symbol: str, timeframe: str) -> Path:
        """Where the candle file of ``symbol``/``timeframe`` lives (it may not exist)."""
        return self.folder / candle_file_name(symbol, timeframe)

    def has_series(self, symbol: str, timeframe: str) -> bool:
        """Whether the dataset holds candles of that pair and timeframe."""
        return symbol in self.rules and self.series_path(symbol, timeframe).is_file()

    def cached_series(self, symbol: str, timeframe: str) -> CandleSeries | None:
        """The candles if already loaded, else None (never touches the disk)."""
        return self._series.get((symbol, timeframe))

    def load_series(self, symbol: str, timeframe: str) -> CandleSeries:
        """The candles of a pair and timeframe, read from disk on first use (blocking: call off the loop)."""
        with self._lock:
            series = self._series.get((symbol, timeframe))
            if series is None:
                series = CandleSeries.load(self.series_path(symbol, timeframe), symbol, timeframe)
                self._series[(symbol, timeframe)] = series
            return series

    @property
    def loaded(self) -> tuple[tuple[str, str], ...]:
        """``(symbol, timeframe)`` of every candle series loaded so far."""
        return tuple(self._series)
