"""Balances of an account and their value in one quote currency."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset of an account: ``free`` to use, ``used`` held by open orders."""

    asset: str
    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.used


@dataclass(frozen=True, slots=True)
class ValuedBalance:
    """A balance with its value in the valuation currency (None when no price is known)."""

    balance: Balance
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class Valuation:
    """A portfolio valued in ``quote``; ``total`` sums only the priced rows."""

    quote: str
    rows: tuple[ValuedBalance, ...]
    total: Decimal

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(r.balance.asset for r in self.rows if r.value is None)


def asset_price(asset: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    """Price of one ``asset`` in ``quote`` from pair prices keyed ``"BASE/QUOTE"``, direct or inverted."""
    if asset == quote:
        return Decimal(1)
    direct = prices.get(f"{asset}/{quote}")
    if direct is not None:
        return direct
    inverse = prices.get(f"{quote}/{asset}")
    if inverse:
        return 1 / inverse
    return None


def value_portfolio(
    balances: Mapping[str, Balance], prices: Mapping[str, Decimal], quote: str = "USDT"
) -> Valuation:
    """Value every non-empty balance in ``quote``; rows are sorted by value, largest first."""
    rows: list[ValuedBalance] = []
    for balance in balances.values():
        if balance.total == 0:
            continue
        price = asset_price(balance.asset, quote, prices)
        rows.append(ValuedBalance(balance, None if price is None else balance.total * price))
    rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.balance.asset))
    total = sum((r.value for r in rows if r.value is not None), Decimal(0))
    return Valuation(quote, tuple(rows), total)
