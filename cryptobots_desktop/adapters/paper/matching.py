"""The paper exchange's matching engine: balances, orders and fills in memory, Binance's rules and errors.

Synchronous and free of I/O: the caller supplies the current price and time, and feeds resting orders
segments of the price path with ``advance``. ``take_changes`` hands over what changed, for persistence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.errors import (
    AmountBelowMinimum,
    DuplicateClientOrderId,
    InsufficientFunds,
    NotionalBelowMinimum,
    OrderNotCancelable,
    OrderNotFound,
    OrderRejected,
    UnknownPair,
)
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType

from .exchange_info import MarketRules

FEE_QUANTUM = Decimal("0.00000001")
DEFAULT_PARTICIPATION = Decimal("0.1")

# Binance's own codes and messages, as its REST API returns them.
INVALID_SYMBOL = (-1121, "Invalid symbol.")
DUPLICATE_ORDER = (-2010, "Duplicate order sent.")
INSUFFICIENT_BALANCE = (-2010, "Account has insufficient balance for requested action.")
FILTER_FAILURE = -1013
CANCEL_REJECTED = (-2011, "Unknown order sent.")
NO_SUCH_ORDER = (-2013, "Order does not exist.")


def fmt(value: Decimal) -> str:
    """A Decimal as a person reads it: no exponent, no trailing zeros."""
    return f"{value.normalize():f}"


def fee_of(rate: Decimal, received: Decimal) -> Decimal:
    """Binance's commission on an amount received, rounded to 8 decimals."""
    return (rate * received).quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order plus the engine's bookkeeping for it: the candle whose participation it used so far."""

    order: Order
    cap_ts: int = -1
    cap_used: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class EngineChanges:
    """What changed since the last ``take_changes``: orders, balances of touched assets, new fills."""

    orders: tuple[StoredOrder, ...] = ()
    balances: tuple[Balance, ...] = ()
    fills: tuple[Fill, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.orders or self.balances or self.fills)


@dataclass(slots=True)
class _OrderState:
    exchange_order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    amount: Decimal
    price: Decimal | None
    status: OrderStatus
    created_ms: int
    updated_ms: int
    fills: list[Fill] = field(default_factory=list)
    cap_ts: int = -1
    cap_used: Decimal = Decimal(0)

    @property
    def filled(self) -> Decimal:
        return sum((f.amount for f in self.fills), Decimal(0))

    def snapshot(self) -> Order:
        return Order(
            self.exchange_order_id,
            self.client_order_id,
            self.symbol,
            self.side,
            self.type,
            self.amount,
            self.price,
            self.status,
            self.created_ms,
            self.updated_ms,
            tuple(self.fills),
        )


class MatchingEngine:
    """Spot matching against a replayed price path, with Binance's checks, fees and error codes.

    ``participation`` caps how much of a candle's volume one resting order may take (the rest of the
    order stays open for later candles). Market orders and limit orders marketable when placed fill at
    once, fully, at the current price, paying the taker fee; resting limit orders fill at their price
    with the maker fee. Fees are paid in the asset received (no BNB discount).
    """

    def __init__(
        self,
        rules: Mapping[str, MarketRules],
        balances: Mapping[str, Decimal],
        participation: Decimal = DEFAULT_PARTICIPATION,
    ) -> None:
        if not Decimal(0) < participation <= Decimal(1):
            raise ValueError("participation must be in (0, 1]")
        self._rules = dict(rules)
        self._participation = participation
        self._free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self._used: dict[str, Decimal] = dict.fromkeys(self._free, Decimal(0))
        self._orders: dict[str, _OrderState] = {}
        # the open orders of each symbol, oldest first, and the highest buy / lowest sell among them
        self._open: dict[str, dict[str, _OrderState]] = {}
        self._reach: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        self._next_order = 1
        self._next_trade = 1
        self._dirty_orders: set[str] = set(self._orders)
        self._dirty_assets: set[str] = set(self._free)
        self._new_fills: list[Fill] = []

    @classmethod
    def restore(
        cls,
        rules: Mapping[str, MarketRules],
        balances: Iterable[Balance],
        orders: Iterable[StoredOrder],
        participation: Decimal = DEFAULT_PARTICIPATION,
    ) -> MatchingEngine:
        """An engine in a saved state (nothing is marked changed)."""
        engine = cls(rules, {}, participation)
        for b in balances:
            engine._free[b.asset], engine._used[b.asset] = b.free, b.used
        for stored in sorted(orders, key=lambda s: int(s.order.exchange_order_id)):
            o = stored.order
            state = _OrderState(
                o.exchange_order_id,
                o.client_order_id,
                o.symbol,
                o.side,
                o.type,
                o.amount,
                o.price,
                o.status,
                o.created_ms,
                o.updated_ms,
                list(o.fills),
                stored.cap_ts,
                stored.cap_used,
            )
            engine._orders[o.client_order_id] = state
            engine._track(state)
            engine._next_order = max(engine._next_order, int(o.exchange_order_id) + 1)
            for f in o.fills:
                engine._next_trade = max(engine._next_trade, int(f.trade_id) + 1)
        engine.take_changes()
        return engine

    # --- queries -------------------------------------------------------------------------------

    @property
    def participation(self) -> Decimal:
        """The share of a candle's volume one resting order may take."""
        return self._participation

    def balances(self) -> dict[str, Balance]:
        """Every asset the account has held, with free and used (held by open orders) amounts."""
        return {a: self._balance(a) for a in sorted(self._free.keys() | self._used.keys())}

    def order(self, client_order_id: str) -> Order | None:
        """The order placed under that client id, or None."""
        state = self._orders.get(client_order_id)
        return None if state is None else state.snapshot()

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders (of one symbol, or all), oldest first."""
        return [o.snapshot() for o in self._open_states(symbol)]

    def open_symbols(self) -> set[str]:
        """Symbols that have at least one open order."""
        return {symbol for symbol, by_symbol in self._open.items() if by_symbol}

    def reach(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        """The highest resting buy and the lowest resting sell price of ``symbol`` (None: no such order)."""
        reach = self._reach.get(symbol)
        if reach is None:
            top_buy: Decimal | None = None
            bottom_sell: Decimal | None = None
            for o in self._open.get(symbol, {}).values():
                if o.price is None:
                    continue
                if o.side is OrderSide.BUY:
                    top_buy = o.price if top_buy is None else max(top_buy, o.price)
                else:
                    bottom_sell = o.price if bottom_sell is None else min(bottom_sell, o.price)
            reach = self._reach[symbol] = (top_buy, bottom_sell)
        return reach

    def fills(self) -> list[Fill]:
        """Every fill so far, in order."""
        all_fills = [f for o in self._orders.values() for f in o.fills]
        return sorted(all_fills, key=lambda f: int(f.trade_id))

    # --- commands ------------------------------------------------------------------------------

    def place(self, request: OrderRequest, price_now: Decimal, ts_ms: int) -> Order:
        """Check and place an order; a market or marketable limit order fills at once at ``price_now``.

        Raises ``UnknownPair``, ``DuplicateClientOrderId``, ``AmountBelowMinimum``,
        ``NotionalBelowMinimum``, ``InsufficientFunds`` or ``OrderRejected``, in Binance's order.
        """
        rules = self._rules.get(request.symbol)
        if rules is None:
            code, msg = INVALID_SYMBOL
            raise UnknownPair(
                f"{request.symbol} is not traded on this paper exchange.",
                f"Choose one of: {', '.join(sorted(self._rules))}.",
                exchange_code=code,
                exchange_message=msg,
            )
        cid = request.client_order_id
        if cid in self._orders:
            code, msg = DUPLICATE_ORDER
            raise DuplicateClientOrderId(
                f"An order with client order id {cid} was already placed.",
                "Place the order under a new client order id.",
                exchange_code=code,
                exchange_message=msg,
            )
        market = rules.market
        amount = market.floor_amount(request.amount)
        price = None if request.type is OrderType.MARKET else market.round_price(request.price or Decimal(0))
        self._check_filters(rules, request, amount, price, price_now)
        is_buy = request.side is OrderSide.BUY
        taker = price is None or (price >= price_now if is_buy else price <= price_now)
        need_asset = market.quote if is_buy else market.base
        need = ((price or price_now) * amount) if is_buy else amount
        free = self._free.get(need_asset, Decimal(0))
        if free < need:
            code, msg = INSUFFICIENT_BALANCE
            raise InsufficientFunds(
                f"Not enough {need_asset}: the order needs {fmt(need)} {need_asset} "
                f"but only {fmt(free)} {need_asset} is free.",
                f"Lower the amount, or cancel open orders that hold {need_asset}.",
                exchange_code=code,
                exchange_message=msg,
            )
        state = _OrderState(
            str(self._next_order),
            cid,
            request.symbol,
            request.side,
            request.type,
            amount,
            price,
            OrderStatus.OPEN,
            ts_ms,
            ts_ms,
        )
        self._next_order += 1
        self._orders[cid] = state
        self._track(state)
        self._dirty_orders.add(cid)
        if taker:
            self._execute(state, market, amount, price_now, ts_ms, is_maker=False)
        else:
            self._move(need_asset, need, to_used=True)
        return state.snapshot()

    def cancel(self, symbol: str, client_order_id: str, ts_ms: int) -> Order:
        """Cancel an open order and release what it still holds."""
        state = self._orders.get(client_order_id)
        if state is None or state.symbol != symbol:
            code, msg = NO_SUCH_ORDER
            raise OrderNotFound(
                f"There is no {symbol} order with client order id {client_order_id}.",
                "Check the pair and the order id.",
                exchange_code=code,
                exchange_message=msg,
            )
        if state.status.is_final:
            code, msg = CANCEL_REJECTED
            raise OrderNotCancelable(
                f"Order {client_order_id} is already {state.status.value} and cannot be canceled.",
                "Nothing to do: only open orders can be canceled.",
                exchange_code=code,
                exchange_message=msg,
            )
        market = self._rules[symbol].market
        remaining = state.amount - state.filled
        if state.side is OrderSide.BUY:
            self._move(market.quote, remaining * (state.price or Decimal(0)), to_used=False)
        else:
            self._move(market.base, remaining, to_used=False)
        state.status = OrderStatus.CANCELED
        self._track(state)
        state.updated_ms = ts_ms
        self._dirty_orders.add(client_order_id)
        return state.snapshot()

    def advance(
        self, symbol: str, low: Decimal, high: Decimal, candle_ts: int, volume: Decimal, ts_ms: int
    ) -> list[Fill]:
        """Match the resting orders of ``symbol`` against a path segment that spans ``low``..``high``.

        The segment lies inside the candle opened at ``candle_ts`` with ``volume``; each order takes at
        most ``participation x volume`` of that candle over all its segments. Fills are stamped ``ts_ms``.
        """
        market = self._rules[symbol].market
        cap = self._participation * volume
        new: list[Fill] = []
        top_buy, bottom_sell = self.reach(symbol)
        if (top_buy is None or low > top_buy) and (bottom_sell is None or high < bottom_sell):
            return new  # the segment reaches no resting order (the common case)
        for state in self._open_states(symbol):
            price = state.price
            if price is None:
                continue
            crossed = low <= price if state.side is OrderSide.BUY else high >= price
            if not crossed:
                continue
            if state.cap_ts != candle_ts:
                state.cap_ts, state.cap_used = candle_ts, Decimal(0)
            amount = market.floor_amount(min(state.amount - state.filled, cap - state.cap_used))
            if amount <= 0:
                continue
            state.cap_used += amount
            new.append(self._execute(state, market, amount, price, ts_ms, is_maker=True))
        return new

    def take_changes(self) -> EngineChanges:
        """What changed since the last call (then forgets it)."""
        changes = EngineChanges(
            orders=tuple(
                StoredOrder(s.snapshot(), s.cap_ts, s.cap_used)
                for s in sorted(
                    (self._orders[c] for c in self._dirty_orders), key=lambda s: int(s.exchange_order_id)
                )
            ),
            balances=tuple(self._balance(a) for a in sorted(self._dirty_assets)),
            fills=tuple(self._new_fills),
        )
        self._dirty_orders.clear()
        self._dirty_assets.clear()
        self._new_fills = []
        return changes

    # --- internals -----------------------------------------------------------------------------

    def _open_states(self, symbol: str | None) -> list[_OrderState]:
        """Open orders (of one symbol, or all), oldest first."""
        if symbol is not None:
            return list(self._open.get(symbol, {}).values())
        states = [o for by_symbol in self._open.values() for o in by_symbol.values()]
        return sorted(states, key=lambda o: int(o.exchange_order_id))

    def _track(self, state: _OrderState) -> None:
        """Keep the index of open orders in step with ``state``'s status (call on every status change)."""
        by_symbol = self._open.setdefault(state.symbol, {})
        if state.status is OrderStatus.OPEN:
            by_symbol[state.client_order_id] = state
        else:
            by_symbol.pop(state.client_order_id, None)
        self._reach.pop(state.symbol, None)

    def _balance(self, asset: str) -> Balance:
        return Balance(asset, self._free.get(asset, Decimal(0)), self._used.get(asset, Decimal(0)))

    def _add(self, book: dict[str, Decimal], asset: str, delta: Decimal) -> None:
        book[asset] = book.get(asset, Decimal(0)) + delta
        self._dirty_assets.add(asset)

    def _move(self, asset: str, amount: Decimal, *, to_used: bool) -> None:
        """Reserve (free -> used) or release (used -> free) ``amount`` of ``asset``."""
        sign = 1 if to_used else -1
        self._add(self._free, asset, -sign * amount)
        self._add(self._used, asset, sign * amount)

    def _execute(
        self,
        state: _OrderState,
        market: Market,
        amount: Decimal,
        price: Decimal,
        ts_ms: int,
        *,
        is_maker: bool,
    ) -> Fill:
        """Book one fill: move the assets, charge the fee, update the order."""
        rate = market.maker_fee if is_maker else market.taker_fee
        cost = price * amount
        # A resting order pays from what it reserved; a taker pays from free funds.
        paying = self._used if is_maker else self._free
        if state.side is OrderSide.BUY:
            fee, fee_asset = fee_of(rate, amount), market.base
            self._add(paying, market.quote, -cost)
            self._add(self._free, market.base, amount - fee)
        else:
            fee, fee_asset = fee_of(rate, cost), market.quote
            self._add(paying, market.base, -amount)
            self._add(self._free, market.quote, cost - fee)
        fill = Fill(
            str(self._next_trade),
            state.client_order_id,
            state.symbol,
            state.side,
            price,
            amount,
            fee,
            fee_asset,
            ts_ms,
            is_maker,
        )
        self._next_trade += 1
        state.fills.append(fill)
        state.updated_ms = ts_ms
        if state.filled >= state.amount:
            state.status = OrderStatus.FILLED
            self._track(state)
        self._dirty_orders.add(state.client_order_id)
        self._new_fills.append(fill)
        return fill

    def _check_filters(
        self,
        rules: MarketRules,
        request: OrderRequest,
        amount: Decimal,
        price: Decimal | None,
        price_now: Decimal,
    ) -> None:
        """Binance's symbol filters: PRICE_FILTER, LOT_SIZE, then (MIN_)NOTIONAL."""
        market = rules.market
        symbol, base, quote = market.symbol, market.base, market.quote
        if price is not None and price <= 0:
            raise OrderRejected(
                f"Order price {fmt(request.price or Decimal(0))} {quote} is below the price step of "
                f"{fmt(market.price_tick)} {quote} for {symbol}.",
                "Enter a higher price.",
                exchange_code=FILTER_FAILURE,
                exchange_message="Filter failure: PRICE_FILTER",
            )
        if amount < market.min_amount or amount <= 0:
            raise AmountBelowMinimum(
                f"Order amount {fmt(request.amount)} {base} is below the minimum of "
                f"{fmt(market.min_amount)} {base} for {symbol}.",
                "Increase the amount.",
                minimum=market.min_amount,
                exchange_code=FILTER_FAILURE,
                exchange_message="Filter failure: LOT_SIZE",
            )
        if amount > market.max_amount:
            raise OrderRejected(
                f"Order amount {fmt(amount)} {base} is above the maximum of "
                f"{fmt(market.max_amount)} {base} for {symbol}.",
                "Split it into smaller orders.",
                exchange_code=FILTER_FAILURE,
                exchange_message="Filter failure: LOT_SIZE",
            )
        notional = (price or price_now) * amount
        if notional < market.min_notional:
            at = "" if price is not None else f" at the current price of {fmt(price_now)} {quote}"
            raise NotionalBelowMinimum(
                f"Order value {fmt(notional)} {quote}{at} is below the minimum of "
                f"{fmt(market.min_notional)} {quote} for {symbol}.",
                "Increase the amount." if price is None else "Increase the amount or the price.",
                minimum=market.min_notional,
                exchange_code=FILTER_FAILURE,
                exchange_message=f"Filter failure: {rules.notional_filter}",
            )
