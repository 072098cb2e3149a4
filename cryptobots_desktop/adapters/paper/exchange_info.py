"""Binance ``GET /api/v3/exchangeInfo`` responses parsed into ``core.market.Market`` trading rules."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptobots_desktop.core.market import Market


@dataclass(frozen=True, slots=True)
class MarketRules:
    """A market plus what the paper exchange needs to word Binance's errors.

    ``notional_filter`` is the filter holding the minimum notional: ``"NOTIONAL"`` (current schema) or
    ``"MIN_NOTIONAL"`` (legacy schema, before 2023); Binance names it in "Filter failure: ..." errors.
    """

    market: Market
    notional_filter: str


def plain_decimal(text: str) -> Decimal:
    """``"0.01000000"`` -> ``Decimal("0.01")``, ``"9000.00000000"`` -> ``Decimal("9000")`` (no exponent)."""
    value = Decimal(text)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def parse_symbol(info: Mapping[str, Any], maker_fee: Decimal, taker_fee: Decimal) -> MarketRules:
    """One entry of ``exchangeInfo.symbols`` -> its rules (raises KeyError on a missing filter)."""
    filters = {f["filterType"]: f for f in info["filters"]}
    price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
    notional_filter = "NOTIONAL" if "NOTIONAL" in filters else "MIN_NOTIONAL"
    base, quote = str(info["baseAsset"]), str(info["quoteAsset"])
    market = Market(
        symbol=f"{base}/{quote}",
        exchange_symbol=str(info["symbol"]),
        base=base,
        quote=quote,
        price_tick=plain_decimal(price["tickSize"]),
        amount_step=plain_decimal(lot["stepSize"]),
        min_amount=plain_decimal(lot["minQty"]),
        max_amount=plain_decimal(lot["maxQty"]),
        min_notional=plain_decimal(filters[notional_filter]["minNotional"]),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )
    return MarketRules(market, notional_filter)


def parse_exchange_info(
    data: Mapping[str, Any],
    maker_fee: Decimal,
    taker_fee: Decimal,
    symbols: Collection[str] | None = None,
) -> dict[str, MarketRules]:
    """Rules of every spot symbol in ``data`` (or only the unified ``symbols`` given), keyed "BASE/QUOTE"."""
    rules: dict[str, MarketRules] = {}
    for info in data["symbols"]:
        symbol = f"{info['baseAsset']}/{info['quoteAsset']}"
        if symbols is not None and symbol not in symbols:
            continue
        rules[symbol] = parse_symbol(info, maker_fee, taker_fee)
    if symbols is not None and (missing := set(symbols) - rules.keys()):
        raise KeyError(f"exchangeInfo lacks {sorted(missing)}")
    return rules
