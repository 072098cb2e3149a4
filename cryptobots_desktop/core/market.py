"""Markets (trading rules of a pair), candles and tickers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal


def quantize_to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """Round ``value`` to a multiple of ``step`` (``step`` > 0) with the given rounding mode."""
    units = (value / step).to_integral_value(rounding=rounding)
    return (units * step).normalize() if units else Decimal(0)


@dataclass(frozen=True, slots=True)
class Market:
    """The trading rules of one spot pair, as the exchange publishes them."""

    symbol: str  # unified, e.g. "BTC/USDT"
    exchange_symbol: str  # the exchange's own id, e.g. "BTCUSDT"
    base: str
    quote: str
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal
    max_amount: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal

    def round_price(self, price: Decimal) -> Decimal:
        """The price rounded to the nearest tick, as ccxt's ``price_to_precision`` does."""
        return quantize_to_step(price, self.price_tick, ROUND_HALF_UP)

    def floor_amount(self, amount: Decimal) -> Decimal:
        """The amount truncated to the lot step, as ccxt's ``amount_to_precision`` does."""
        return quantize_to_step(amount, self.amount_step, ROUND_DOWN)

    @property
    def price_decimals(self) -> int:
        """How many decimals a price of this market shows."""
        return max(0, -self.price_tick.normalize().as_tuple().exponent)  # type: ignore[operator]

    @property
    def amount_decimals(self) -> int:
        """How many decimals an amount of this market shows."""
        return max(0, -self.amount_step.normalize().as_tuple().exponent)  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle; ``ts_ms`` is its open time in Unix milliseconds (UTC)."""

    ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Ticker:
    """The last traded price of a pair at a moment."""

    symbol: str
    ts_ms: int
    last: Decimal


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTC/USDT"`` -> ``("BTC", "USDT")``; raises ValueError on anything else."""
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ValueError(f"not a pair symbol: {symbol!r}")
    return base, quote
