"""Helpers for the unit tests: the recorded market data, parsed trading rules, a hand-driven wall clock."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.paper.exchange_info import MarketRules, parse_exchange_info

MARKET_DATA = Path(__file__).resolve().parents[2] / "resources" / "market_data"


class FakeWall:
    """A wall clock (seconds) that moves only when a test says so."""

    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def load_rules(file_name: str) -> dict[str, MarketRules]:
    with (MARKET_DATA / file_name).open(encoding="utf-8") as fh:
        return parse_exchange_info(json.load(fh), Decimal("0.001"), Decimal("0.001"))


@pytest.fixture(scope="session")
def market_data() -> Path:
    return MARKET_DATA


@pytest.fixture(scope="session")
def rules_2024() -> dict[str, MarketRules]:
    """Current filter schema (NOTIONAL), the snapshot used with the 2023 candles."""
    return load_rules("binance_exchangeinfo_spot.json")


@pytest.fixture(scope="session")
def rules_2021() -> dict[str, MarketRules]:
    """Legacy filter schema (MIN_NOTIONAL), the snapshot used with the 2021 candles."""
    return load_rules("binance_exchangeinfo_spot_2021-04-29.json")
