"""``CcxtGateway``: a live exchange account through ``ccxt.async_support``, spot only.

Importing this module imports ccxt (~0.45 s): the composition root imports it only when a live account is
used. Every call goes through ``_call``, which turns whatever ccxt raises into a domain error
(``ccxt_errors.translate``, the one mapping), honours the exchange's ``Retry-After`` for every later call
(ccxt does not), re-synchronises the clock once when the exchange says it is skewed, and retries reads
(never an order: an order's fate after a failure is settled by the reconciler, by client order id).
An order under the pair's minimum amount or value is refused before it is sent (``order_minimums``),
naming the minimum: ccxt's own refusal of a too small amount says only "precision".
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters import ccxt_parse as parse
from cryptobots_desktop.adapters.ccxt_errors import scrub, translate, unknown_pair
from cryptobots_desktop.adapters.order_minimums import below_minimums
from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    ClockOutOfSync,
    ExchangeError,
    ExchangeUnavailable,
    MalformedResponse,
    OrderNotCancelable,
    OrderNotFound,
    RateLimited,
)
from cryptobots_desktop.core.market import Candle, Market, Ticker
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderType

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_ATTEMPTS = 3  # a read is tried this often when the exchange is busy, down or rate limiting
BACKOFF_S = (0.5, 2.0)  # waits between read attempts when the exchange gives no Retry-After
DEFAULT_RATE_LIMIT_WAIT_S = 5.0
ALNUM_CLIENT_IDS = frozenset({"okx"})  # exchanges whose client order ids allow letters and digits only
SPOT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
        "fetchOpenOrders": {"warnWithoutSymbol": False},  # the reconciler asks for all pairs at once
    },
    "okx": {"fetchMarkets": {"types": ["spot"]}, "createOrder": "privatePostTradeOrder"},
}


LATE_REQUEST_MARGIN_S = 2.0  # beyond the exchange's window: clock differences, its own processing
LATE_REQUEST_WINDOWS_S = {"okx": 30.0}  # exchanges that refuse older requests without a recvWindow option
DEFAULT_LATE_REQUEST_S = 60.0  # exchanges whose window is not known here


SILENT = logging.Logger("cryptobots_desktop.ccxt_silenced", logging.CRITICAL + 1)  # no handlers, no parent


def _strict_json(text: str) -> Any:
    """ccxt's ``parse_json`` without its silence: a body that starts like JSON must parse as JSON."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        raise ccxt.BadResponse("the exchange's answer is not valid JSON") from None


def required_credentials(exchange_id: str) -> dict[str, bool]:
    """Which credentials an exchange needs (ccxt's ``requiredCredentials``: apiKey, secret, password…)."""
    klass = getattr(ccxt, exchange_id, None)
    if klass is None:
        raise UnknownExchange(exchange_id)
    return {k: bool(v) for k, v in klass().requiredCredentials.items()}


class UnknownExchange(ExchangeError):
    """ccxt does not know this exchange id."""

    def __init__(self, exchange_id: str) -> None:
        super().__init__(f"The app does not know an exchange called {exchange_id!r}.")


def _point_at(urls: Any, base: str) -> Any:
    """ccxt's ``urls['api']`` with every URL's scheme and host replaced by ``base`` (paths kept)."""
    if isinstance(urls, str):
        parts = urlsplit(urls.replace("{hostname}", "exchange.invalid"))
        return base.rstrip("/") + parts.path
    if isinstance(urls, dict):
        return {k: _point_at(v, base) for k, v in urls.items()}
    return urls


class CcxtGateway:
    """One live spot account on a ccxt exchange; implements ``core.ports.ExchangeGateway``.

    ``api_url`` points every REST endpoint at another host (a local exchange in tests, a proxy);
    ``sleep`` and ``monotonic`` are injectable for tests of the back-off.
    """

    def __init__(
        self,
        exchange_id: str,
        credentials: ApiCredentials | None,
        *,
        account_id: str | None = None,
        api_url: str | None = None,
        timeout_ms: int = 15_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        klass = getattr(ccxt, exchange_id, None)
        if klass is None:
            raise UnknownExchange(exchange_id)
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": timeout_ms,
            "options": {"defaultType": "spot", **SPOT_OPTIONS.get(exchange_id, {})},
        }
        if credentials is not None:
            config.update(
                apiKey=credentials.api_key,
                secret=credentials.secret,
                password=credentials.passphrase,
                uid=credentials.uid,
            )
        self._x: Any = klass(config)
        self._x.logger = SILENT  # ccxt logs request headers (keys, passphrases) at DEBUG: never let it
        self._x.parse_json = _strict_json  # a garbled body is an error, not an empty balance
        self._x.has = {**self._x.has, "fetchCurrencies": False}  # spot trading needs no currency list
        if api_url is not None:
            self._x.urls["api"] = _point_at(self._x.urls["api"], api_url)
        self._id = exchange_id
        self.account_id = account_id or exchange_id
        self._name = str(self._x.name)
        self._secrets = credentials.secrets if credentials else ()
        self._sleep = sleep
        self._monotonic = monotonic
        self._quiet_until = 0.0  # no request before this monotonic time (the exchange's Retry-After)
        self._markets: dict[str, Market] | None = None
        self._markets_lock = asyncio.Lock()
        self._fills: dict[str, tuple[Decimal, tuple[Fill, ...]]] = {}  # client id -> filled, its fills

    # -- what it is ------------------------------------------------------------------------------------
    @property
    def exchange_id(self) -> str:
        return self._id

    @property
    def late_acceptance_s(self) -> float:
        """How long after it is sent an order request may still reach the exchange and be accepted: the
        exchange's window for a request's timestamp (``recvWindow``) plus a margin; until then "no such
        order" is not believed (the reconciler waits before sending it again)."""
        window_ms = self._x.options.get("recvWindow")
        if isinstance(window_ms, int | float) and window_ms > 0:
            window_s = float(window_ms) / 1000
        else:
            window_s = LATE_REQUEST_WINDOWS_S.get(self._id, DEFAULT_LATE_REQUEST_S)
        return window_s + LATE_REQUEST_MARGIN_S

    @property
    def exchange_name(self) -> str:
        """The exchange's display name (ccxt's ``name``), e.g. "Binance"."""
        return self._name

    @property
    def is_paper(self) -> bool:
        return False

    # -- the one way every request is made -----------------------------------------------------------
    async def _call(
        self,
        request: Callable[[], Awaitable[T]],
        *,
        read: bool,
        symbol: str | None = None,
    ) -> T:
        resynced = False
        attempt = 0
        while True:
            attempt += 1
            wait = self._quiet_until - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                return await request()
            except ccxt.BaseError as exc:
                error = self._translate(exc, symbol)
            except (
                ValueError,
                KeyError,
                TypeError,
                AttributeError,
                ArithmeticError,
            ) as exc:  # parsing an odd answer
                log.warning("%s: unreadable answer: %s", self._id, scrub(str(exc), self._secrets))
                error = MalformedResponse(
                    f"{self._name} answered something the app cannot read.", "The app checks again shortly."
                )
            if isinstance(error, ClockOutOfSync) and not resynced:
                resynced = True  # refused before processing: the same request is safe to repeat
                await self._resync_clock()
                continue
            if isinstance(error, RateLimited):
                pause = error.retry_after if error.retry_after is not None else DEFAULT_RATE_LIMIT_WAIT_S
                self._quiet_until = max(self._quiet_until, self._monotonic() + pause)
            retry = (
                read
                and attempt < READ_ATTEMPTS
                and isinstance(error, ExchangeUnavailable | MalformedResponse)
            )
            if not retry:
                raise error from None  # the ccxt exception's text (URLs, bodies) stays out of tracebacks
            if not isinstance(error, RateLimited):
                await self._sleep(BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)])

    def _translate(self, exc: BaseException, symbol: str | None) -> ExchangeError:
        market = self._markets.get(symbol) if self._markets and symbol else None
        headers = self._x.last_response_headers if isinstance(exc, ccxt.NetworkError) else None
        error = translate(
            exc,
            body=self._x.last_http_response,
            exchange=self._name,
            market=market,
            symbol=symbol,
            headers=headers,
            secrets=self._secrets,
        )
        log.info("%s: %s -> %s", self._id, type(exc).__name__, type(error).__name__)
        return error

    async def _resync_clock(self) -> None:
        try:
            difference = await self._x.load_time_difference()
        except ccxt.BaseError as exc:
            raise self._translate(exc, None) from None
        log.info("%s: clock re-synchronised, difference %s ms", self._id, difference)

    # -- markets and prices ----------------------------------------------------------------------------
    async def load_markets(self) -> Mapping[str, Market]:
        async with self._markets_lock:
            if self._markets is None:
                raw = await self._call(self._x.load_markets, read=True)
                mode = int(self._x.precisionMode)
                self._markets = {
                    m["symbol"]: parse.market(m, mode)
                    for m in raw.values()
                    if m.get("spot") and m.get("active") is not False
                }
        return self._markets

    async def _market(self, symbol: str) -> Market:
        market = (await self.load_markets()).get(symbol)
        if market is None:
            raise unknown_pair(self._name, symbol)
        return market

    async def fetch_ticker(self, symbol: str) -> Ticker:
        await self._market(symbol)
        raw = await self._call(lambda: self._x.fetch_ticker(symbol), read=True, symbol=symbol)
        return parse.ticker(raw, symbol)

    async def fetch_candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> Sequence[Candle]:
        await self._market(symbol)
        rows = await self._call(
            lambda: self._x.fetch_ohlcv(symbol, timeframe, limit=limit), read=True, symbol=symbol
        )
        return [parse.candle(row) for row in rows]

    async def fetch_balances(self) -> Mapping[str, Balance]:
        raw = await self._call(self._x.fetch_balance, read=True)
        return parse.balances(raw)

    # -- orders ----------------------------------------------------------------------------------------
    def _wire_id(self, client_order_id: str) -> str:
        if self._id in ALNUM_CLIENT_IDS:  # our ids are lower case with dashes: "Z" keeps them unique
            return client_order_id.replace("-", "Z")
        return client_order_id

    def _app_id(self, wire_id: str) -> str:
        return wire_id.replace("Z", "-") if self._id in ALNUM_CLIENT_IDS else wire_id

    async def create_order(self, request: OrderRequest) -> Order:
        market = await self._market(request.symbol)
        cid = request.client_order_id
        limit_price = request.price if request.type is OrderType.LIMIT else None
        too_small = below_minimums(self._name, market, request.amount, limit_price)
        if too_small is not None:  # refused here, naming the minimum (ccxt would say only "precision")
            raise too_small
        price = float(request.price) if request.type is OrderType.LIMIT and request.price else None
        raw = await self._call(
            lambda: self._x.create_order(
                market.symbol,
                request.type.value,
                request.side.value,
                float(request.amount),
                price,
                {"clientOrderId": self._wire_id(cid)},
            ),
            read=False,
            symbol=request.symbol,
        )
        return await self._complete(raw, request.symbol, cid)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        await self._market(symbol)
        params = {"clientOrderId": self._wire_id(client_order_id)}
        try:
            raw = await self._call(
                lambda: self._x.fetch_order(None, symbol, params), read=True, symbol=symbol
            )
        except OrderNotFound:
            return None
        return await self._order(raw, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        await self._market(symbol)
        params = {"clientOrderId": self._wire_id(client_order_id)}
        try:
            raw = await self._call(
                lambda: self._x.cancel_order(None, symbol, params), read=False, symbol=symbol
            )
        except OrderNotFound:  # Binance says "Unknown order sent." for a filled order too
            raise OrderNotCancelable(
                f"{self._name} could not cancel order {client_order_id}: it is no longer open.",
                "Nothing to do: it filled or was canceled already; the app reads its final state.",
            ) from None
        return await self._complete(raw, symbol, client_order_id)

    async def _complete(self, raw: Mapping[str, Any], symbol: str, client_order_id: str) -> Order:
        """The order from a create or cancel reply; where the reply carries only ids (OKX), asked for."""
        if raw.get("status") is not None and raw.get("amount") is not None:
            return await self._order(raw, client_order_id)
        order = await self.fetch_order(symbol, client_order_id)
        if order is None:  # accepted a moment ago, yet unknown: its fate is for the reconciler to settle
            raise MalformedResponse(
                f"{self._name} acknowledged order {client_order_id} but cannot find it.",
                "The app checks the order by its client order id again before sending anything for it.",
            )
        return order

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        if symbol is not None:
            await self._market(symbol)
        rows = await self._call(lambda: self._x.fetch_open_orders(symbol), read=True, symbol=symbol)
        return [await self._order(row, self._app_id(str(row.get("clientOrderId") or ""))) for row in rows]

    async def _order(self, raw: Mapping[str, Any], client_order_id: str) -> Order:
        """The domain order, with every fill the exchange reports for it (fetched once per new fill)."""
        try:
            filled = parse.filled_amount(raw)
            side = OrderSide(str(raw["side"]))
            fills: tuple[Fill, ...] = ()
            if filled > 0:
                fills = await self._fills_of(raw, client_order_id, side, filled)
            return parse.order(raw, client_order_id, fills)
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            log.warning("%s: unreadable order: %s", self._id, scrub(str(exc), self._secrets))
            raise MalformedResponse(
                f"{self._name} answered an order the app cannot read.", "The app checks again shortly."
            ) from None

    async def _fills_of(
        self, raw: Mapping[str, Any], client_order_id: str, side: OrderSide, filled: Decimal
    ) -> tuple[Fill, ...]:
        known = self._fills.get(client_order_id)
        if known is not None and known[0] == filled:
            return known[1]
        trades = [t for t in raw.get("trades") or () if t.get("id")]
        if sum((parse.dec(t.get("amount"), "fill amount") for t in trades), Decimal(0)) != filled:
            order_id, symbol = str(raw["id"]), str(raw["symbol"])
            trades = await self._call(
                lambda: self._x.fetch_order_trades(order_id, symbol), read=True, symbol=symbol
            )
        when = int(raw.get("lastTradeTimestamp") or raw.get("timestamp") or 0)  # for fills without a time
        fills = tuple(parse.fill(t, client_order_id, side, when) for t in trades)
        if sum((f.amount for f in fills), Decimal(0)) == filled:
            self._fills[client_order_id] = (filled, fills)  # complete: no need to ask again
        return fills

    async def close(self) -> None:
        await self._x.close()
