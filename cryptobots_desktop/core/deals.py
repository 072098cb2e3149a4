"""A deal: the buys and sells a bot made for one position, and its profit or loss.

Formulas (``B`` = base asset, ``Q`` = quote asset of the symbol; each fill's fee is in its ``fee_asset``):

* base bought ``= Σ buy amount − Σ buy fees paid in B`` (Binance takes a buy's fee from the base received);
* quote spent ``= Σ buy price × amount + Σ buy fees paid in Q``;
* average entry ``= quote spent / base bought`` (so the buy fees are in the entry price);
* base sold ``= Σ sell amount + Σ sell fees paid in B``; quote received ``= Σ sell price × amount − Σ sell
  fees paid in Q`` (Binance takes a sell's fee from the quote received);
* base held ``= base bought − base sold``;
* realised P/L ``= quote received − average entry × base sold`` (average-cost method);
* unrealised P/L at price ``p`` ``= base held × p × (1 − sell fee rate) − average entry × base held``
  (the fee rate of the sale that has not happened yet, 0 unless given);
* total P/L ``= realised + unrealised``, and in % of the quote spent;
* fees in quote ``= Σ fees paid in Q + Σ fees paid in B × that fill's price``.

Fees paid in a third asset (e.g. BNB) are outside these sums, in :attr:`Deal.other_fees`; valuing them needs
a price the deal does not know.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from cryptobots_desktop.core.market import split_symbol
from cryptobots_desktop.core.orders import Fill, OrderSide

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


@dataclass(frozen=True, slots=True)
class Deal:
    """One position of a bot from its first buy to its last sell; times are Unix milliseconds (UTC).

    A deal never changes, so its position figures are summed over its fills once, when it is made.
    """

    id: str
    bot_id: str
    symbol: str
    opened_ms: int
    buys: tuple[Fill, ...] = ()
    sells: tuple[Fill, ...] = ()
    closed_ms: int | None = None
    _base_bought: Decimal = field(init=False, repr=False, compare=False)
    _quote_spent: Decimal = field(init=False, repr=False, compare=False)
    _base_sold: Decimal = field(init=False, repr=False, compare=False)
    _quote_received: Decimal = field(init=False, repr=False, compare=False)
    _average_entry: Decimal | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        base, quote = split_symbol(self.symbol)  # raises ValueError on anything but "BASE/QUOTE"
        for side, fills in ((OrderSide.BUY, self.buys), (OrderSide.SELL, self.sells)):
            for fill in fills:
                if fill.side is not side or fill.symbol != self.symbol:
                    raise ValueError(f"fill {fill.trade_id} is not a {side.value} of {self.symbol}")
        bought = _total(f.amount for f in self.buys) - self._fees(self.buys, base)
        spent = _total(f.cost for f in self.buys) + self._fees(self.buys, quote)
        sold = _total(f.amount for f in self.sells) + self._fees(self.sells, base)
        received = _total(f.cost for f in self.sells) - self._fees(self.sells, quote)
        object.__setattr__(self, "_base_bought", bought)
        object.__setattr__(self, "_quote_spent", spent)
        object.__setattr__(self, "_base_sold", sold)
        object.__setattr__(self, "_quote_received", received)
        object.__setattr__(self, "_average_entry", spent / bought if bought > 0 else None)

    # ---- building -------------------------------------------------------------------------------------

    def with_fill(self, fill: Fill) -> Deal:
        """This deal with one more fill (a buy or a sell, by its side)."""
        if fill.side is OrderSide.BUY:
            return dataclasses.replace(self, buys=(*self.buys, fill))
        return dataclasses.replace(self, sells=(*self.sells, fill))

    def closed_at(self, ts_ms: int) -> Deal:
        """This deal marked closed at ``ts_ms``."""
        return dataclasses.replace(self, closed_ms=ts_ms)

    @property
    def is_closed(self) -> bool:
        return self.closed_ms is not None

    # ---- assets and fees ------------------------------------------------------------------------------

    @property
    def base_asset(self) -> str:
        return split_symbol(self.symbol)[0]

    @property
    def quote_asset(self) -> str:
        return split_symbol(self.symbol)[1]

    @staticmethod
    def _fees(fills: Iterable[Fill], asset: str) -> Decimal:
        return _total(f.fee for f in fills if f.fee_asset == asset)

    @property
    def fees_in_quote(self) -> Decimal:
        """Every fee paid in the base or quote asset, valued in quote (base fees at their fill's price)."""
        base, quote = split_symbol(self.symbol)
        fills = (*self.buys, *self.sells)
        return _total(f.fee for f in fills if f.fee_asset == quote) + _total(
            f.fee * f.price for f in fills if f.fee_asset == base
        )

    @property
    def other_fees(self) -> dict[str, Decimal]:
        """Fees paid in neither the base nor the quote asset (e.g. BNB), by asset; not in the P/L."""
        own = set(split_symbol(self.symbol))
        fees: dict[str, Decimal] = {}
        for fill in (*self.buys, *self.sells):
            if fill.fee and fill.fee_asset not in own:
                fees[fill.fee_asset] = fees.get(fill.fee_asset, ZERO) + fill.fee
        return fees

    # ---- position -------------------------------------------------------------------------------------

    @property
    def base_bought(self) -> Decimal:
        """Base received by the buys, net of the fees taken in base."""
        return self._base_bought

    @property
    def quote_spent(self) -> Decimal:
        """Quote paid by the buys, including fees taken in quote."""
        return self._quote_spent

    @property
    def average_entry_price(self) -> Decimal | None:
        """``quote_spent / base_bought``; None before the first buy."""
        return self._average_entry

    @property
    def base_sold(self) -> Decimal:
        """Base that left the account through the sells, including fees taken in base."""
        return self._base_sold

    @property
    def quote_received(self) -> Decimal:
        """Quote the sells brought in, net of the fees taken in quote."""
        return self._quote_received

    @property
    def base_held(self) -> Decimal:
        """Base the deal still holds: bought minus sold."""
        return self.base_bought - self.base_sold

    # ---- profit and loss ------------------------------------------------------------------------------

    @property
    def realised_pnl(self) -> Decimal:
        """Quote received minus the average-cost basis of the base sold."""
        entry = self.average_entry_price or ZERO
        return self.quote_received - entry * self.base_sold

    def unrealised_pnl(self, price: Decimal, sell_fee_rate: Decimal = ZERO) -> Decimal:
        """What the base held would gain or lose sold at ``price``, after ``sell_fee_rate`` (a fraction)."""
        held = self.base_held
        entry = self.average_entry_price or ZERO
        return held * price * (1 - sell_fee_rate) - entry * held

    def total_pnl(self, price: Decimal, sell_fee_rate: Decimal = ZERO) -> Decimal:
        """Realised plus unrealised P/L at ``price``, in quote."""
        return self.realised_pnl + self.unrealised_pnl(price, sell_fee_rate)

    def total_pnl_pct(self, price: Decimal, sell_fee_rate: Decimal = ZERO) -> Decimal | None:
        """Total P/L in % of the quote spent; None before the first buy."""
        spent = self.quote_spent
        return self.total_pnl(price, sell_fee_rate) / spent * HUNDRED if spent > 0 else None
