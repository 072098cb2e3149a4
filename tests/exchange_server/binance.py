"""Binance spot REST (``/api/v3``, ``/sapi/v1``): the subset ccxt and other Binance clients use.

Signed endpoints check ``X-MBX-APIKEY``, the hex HMAC-SHA256 ``signature`` over the query string plus the
form body, ``timestamp`` and ``recvWindow`` (default 5000, at most 60000) against the server's auth clock,
then the key's restrictions. Errors carry Binance's codes, messages and HTTP statuses. Orders go to the
paper matching engine; market data comes from the replayed candles at replay time.

Client order ids as Binance treats them: a ``newClientOrderId`` is refused (-2010 "Duplicate order sent.")
only while an order with that id is open; once it is filled or canceled the id may be used again, and a
query by ``origClientOrderId`` finds the latest order with it. The paper engine keeps every client id it
ever accepted unique, so a reused id is placed there under an engine id of its own (``OrderInfo.engine_cid``,
kept in a small JSON file beside the account's state so a restarted exchange still reports the right ids).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.paper.candles import TIMEFRAME_MS
from cryptobots_desktop.adapters.paper.market_view import candles_up_to
from cryptobots_desktop.core.errors import ExchangeError, OrderNotCancelable, OrderNotFound
from cryptobots_desktop.core.market import Candle, Market, quantize_to_step
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType

from .server import ApiError, json_response, new_client_order_id

if TYPE_CHECKING:
    from .server import ExchangeServer

DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
ENGINE_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
KEY_FORMAT_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
INTERVALS: dict[str, tuple[str, int]] = {  # interval -> (base series, how many base candles per candle)
    "1m": ("1m", 1),
    "3m": ("1m", 3),
    "5m": ("5m", 1),
    "15m": ("5m", 3),
    "30m": ("5m", 6),
    "1h": ("5m", 12),
    "2h": ("5m", 24),
    "4h": ("5m", 48),
    "6h": ("5m", 72),
    "8h": ("5m", 96),
    "12h": ("5m", 144),
    "1d": ("5m", 288),
}
MAX_BASE_CANDLES = 20_000
DAY_MS = 86_400_000
ZERO = "0.00000000"

INVALID_KEY = (-2015, "Invalid API-key, IP, or permissions for action.")
KEY_FORMAT = (-2014, "API-key format invalid.")
BAD_SIGNATURE = (-1022, "Signature for this request is not valid.")
OUTSIDE_WINDOW = (-1021, "Timestamp for this request is outside of the recvWindow.")
AHEAD = (-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
INVALID_SYMBOL = (-1121, "Invalid symbol.")
NO_SUCH_ORDER = (-2013, "Order does not exist.")
UNKNOWN_ORDER = (-2011, "Unknown order sent.")
DUPLICATE_ORDER = (-2010, "Duplicate order sent.")


def err(status: int, code_msg: tuple[int, str]) -> ApiError:
    code, msg = code_msg
    return ApiError(status, {"code": code, "msg": msg})


def bad(code: int, msg: str) -> ApiError:
    return ApiError(400, {"code": code, "msg": msg})


def mandatory(name: str) -> ApiError:
    return bad(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def f8(value: Decimal | None) -> str:
    """Binance's fixed 8-decimal strings."""
    return ZERO if value is None else f"{value:.8f}"


def strip_signature(raw: str) -> str:
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


@dataclass(slots=True)
class OrderInfo:
    """What Binance reports about an order beyond the engine's ``Order``."""

    order_id: int
    client_order_id: str  # as the client sent it (and Binance reports it)
    type: str = "LIMIT"  # LIMIT, MARKET, LIMIT_MAKER
    time_in_force: str = "GTC"
    orig_quote_qty: Decimal = Decimal(0)
    engine_cid: str = ""  # the client id the paper account knows it by ("": the same)

    def __post_init__(self) -> None:
        self.engine_cid = self.engine_cid or self.client_order_id


class BinanceApi:
    def __init__(self, server: ExchangeServer) -> None:
        self.server = server
        self.orders: dict[int, OrderInfo] = {}
        self.by_client_id: dict[str, OrderInfo] = {}  # the latest order under each client id
        self.by_engine_id: dict[str, OrderInfo] = {}
        self._aliases: dict[str, str] = {}  # engine id -> client id, where they differ
        self._aliases_path: Path | None = None
        self._placing = asyncio.Lock()  # the open-twin check and the placement, one order at a time
        self._exchange_info: dict[str, Any] | None = None

    # --- setup ----------------------------------------------------------------------------------

    def register(self, router: web.UrlDispatcher) -> None:
        get, post, delete = router.add_get, router.add_post, router.add_delete
        get("/api/v3/ping", self.ping)
        get("/api/v3/time", self.time)
        get("/api/v3/exchangeInfo", self.exchange_info)
        get("/api/v3/ticker/24hr", self.ticker_24hr)
        get("/api/v3/ticker/price", self.ticker_price)
        get("/api/v3/ticker/bookTicker", self.book_ticker)
        get("/api/v3/avgPrice", self.avg_price)
        get("/api/v3/klines", self.klines)
        get("/api/v3/uiKlines", self.klines)
        get("/api/v3/depth", self.depth)
        get("/api/v3/account", self.account_info)
        post("/api/v3/order", self.new_order)
        post("/api/v3/order/test", self.test_order)
        get("/api/v3/order", self.query_order)
        delete("/api/v3/order", self.cancel_order)
        get("/api/v3/openOrders", self.open_orders)
        get("/api/v3/allOrders", self.all_orders)
        get("/api/v3/myTrades", self.my_trades)
        get("/sapi/v1/account/apiRestrictions", self.api_restrictions)
        get("/sapi/v1/account/status", self.account_status)
        get("/sapi/v1/system/status", self.system_status)

    def restore(self, known: Sequence[tuple[str, str]], aliases_path: Path | None = None) -> None:
        """Forget all orders, then learn the ones saved in a reopened paper account.

        ``known``: ``(order id, engine client id)`` pairs; ``aliases_path``: where the client ids of orders
        placed under an engine id of their own are kept (read now, written as they are made).
        """
        self.orders.clear()
        self.by_client_id.clear()
        self.by_engine_id.clear()
        self._aliases_path = aliases_path
        self._aliases = {}
        if aliases_path is not None and aliases_path.exists():
            self._aliases = dict(json.loads(aliases_path.read_text(encoding="utf-8")))
        for order_id, engine_cid in sorted(known, key=lambda k: int(k[0])):
            cid = self._aliases.get(engine_cid, engine_cid)
            self._remember(OrderInfo(int(order_id), cid, engine_cid=engine_cid))

    def _remember(self, info: OrderInfo) -> None:
        self.orders[info.order_id] = info
        self.by_client_id[info.client_order_id] = info  # orders come in id order: the latest wins
        self.by_engine_id[info.engine_cid] = info
        if info.engine_cid != info.client_order_id and info.engine_cid not in self._aliases:
            self._aliases[info.engine_cid] = info.client_order_id
            if self._aliases_path is not None:
                temporary = self._aliases_path.with_suffix(".tmp")
                temporary.write_text(json.dumps(self._aliases), encoding="utf-8")
                os.replace(temporary, self._aliases_path)

    def rate_limited(self, status: int, retry_after: int) -> web.Response:
        now = self.server.server_time_ms()
        if status == 418:
            msg = (
                f"Way too many requests; IP(127.0.0.1) banned until {now + retry_after * 1000}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
                "Please use WebSocket Streams for live updates to avoid polling the API."
            )
        return json_response({"code": -1003, "msg": msg}, status, {"Retry-After": str(retry_after)})

    @property
    def account(self) -> PaperExchange:
        account = self.server.binance_account
        assert account is not None
        return account

    # --- request parsing ------------------------------------------------------------------------

    async def params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query.items())
        if request.method in ("POST", "PUT") and request.body_exists:
            form = await request.post()
            params.update({k: str(v) for k, v in form.items()})
        return params

    async def signed(self, request: web.Request, *, trade: bool = False) -> dict[str, str]:
        """Authenticate a signed request as Binance does; return its parameters."""
        server = self.server
        key = request.headers.get("X-MBX-APIKEY", "")
        if not key or not KEY_FORMAT_RE.match(key):
            raise err(401, KEY_FORMAT)
        if not hmac.compare_digest(key, server.config.key):
            raise err(401, INVALID_KEY)
        params = await self.params(request)
        raw_query = request.rel_url.raw_query_string
        raw_body = (await request.text()) if request.method in ("POST", "PUT") else ""
        signature = params.get("signature", "")
        if not signature:
            raise mandatory("signature")
        payload = strip_signature(raw_query) + strip_signature(raw_body)
        expected = hmac.new(server.config.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.lower(), expected):
            raise err(400, BAD_SIGNATURE)
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit():
            raise mandatory("timestamp")
        window_text = params.get("recvWindow", str(DEFAULT_RECV_WINDOW))
        try:
            window = Decimal(window_text)
        except InvalidOperation:
            raise bad(-1100, "Illegal characters found in parameter 'recvWindow'.") from None
        if window > MAX_RECV_WINDOW or window <= 0:
            raise bad(-1131, "recvWindow must be less than 60000")
        now = server.server_time_ms()
        ts = int(timestamp)
        if ts >= now + 1000:
            raise err(400, AHEAD)
        if now - ts > window:
            raise err(400, OUTSIDE_WINDOW)
        restrictions = server.restrictions
        if restrictions.get("ipRestrict") and request.remote not in restrictions.get("ipWhitelist", []):
            raise err(401, INVALID_KEY)
        if not restrictions.get("enableReading", True):
            raise err(401, INVALID_KEY)
        if trade and not restrictions.get("enableSpotAndMarginTrading", True):
            raise err(401, INVALID_KEY)
        return params

    def market(self, exchange_symbol: str | None) -> Market:
        if not exchange_symbol:
            raise mandatory("symbol")
        for market in self.account.markets.values():
            if market.exchange_symbol == exchange_symbol:
                return market
        raise bad(*INVALID_SYMBOL)

    def symbols_param(self, params: Mapping[str, str]) -> list[Market] | None:
        """``symbol=X`` or ``symbols=["X","Y"]`` -> markets; None when neither was given."""
        if "symbol" in params:
            return [self.market(params["symbol"])]
        if "symbols" in params:
            try:
                names = json.loads(params["symbols"])
            except ValueError:
                raise bad(-1100, "Illegal characters found in parameter 'symbols'.") from None
            return [self.market(str(n)) for n in names]
        return None

    @staticmethod
    def decimal(params: Mapping[str, str], name: str, *, required: bool = True) -> Decimal | None:
        text = params.get(name)
        if text is None or text == "":
            if required:
                raise mandatory(name)
            return None
        if not DECIMAL_RE.match(text):
            raise bad(
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            )
        return Decimal(text)

    @staticmethod
    def integer(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
        text = params.get(name)
        if text is None or text == "":
            return default
        if not re.match(r"^-?[0-9]{1,20}$", text):
            raise bad(
                -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
            )
        return int(text)

    def raise_engine_error(self, error: ExchangeError) -> None:
        if error.exchange_code is not None and error.exchange_message is not None:
            raise bad(error.exchange_code, error.exchange_message) from error
        raise bad(-1000, "An unknown error occured while processing the request.") from error

    # --- public market data ---------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        return json_response({})

    async def time(self, request: web.Request) -> web.Response:
        return json_response({"serverTime": self.server.server_time_ms()})

    def _exchange_info_data(self) -> dict[str, Any]:
        if self._exchange_info is None:
            from cryptobots_desktop.adapters.paper.dataset import read_catalog

            cfg = self.server.config
            entry = read_catalog(cfg.market_data_dir)["datasets"][cfg.dataset]
            with (cfg.market_data_dir / entry["exchange_info"]).open(encoding="utf-8") as fh:
                data: dict[str, Any] = json.load(fh)
            wanted = {m.exchange_symbol for m in self.account.markets.values()}
            data["symbols"] = [s for s in data["symbols"] if s["symbol"] in wanted]
            self._exchange_info = data
        return self._exchange_info

    def filters(self, market: Market) -> dict[str, dict[str, Any]]:
        for info in self._exchange_info_data()["symbols"]:
            if info["symbol"] == market.exchange_symbol:
                return {f["filterType"]: f for f in info["filters"]}
        raise bad(*INVALID_SYMBOL)

    async def exchange_info(self, request: web.Request) -> web.Response:
        data = dict(self._exchange_info_data())
        params = await self.params(request)
        markets = self.symbols_param(params)
        if markets is not None:
            names = {m.exchange_symbol for m in markets}
            data["symbols"] = [s for s in data["symbols"] if s["symbol"] in names]
        data["serverTime"] = self.server.server_time_ms()
        return json_response(data)

    async def _ticker_stats(self, market: Market) -> dict[str, Any]:
        account = self.account
        ticker = await account.fetch_ticker(market.symbol)
        candles = await account.fetch_candles(market.symbol, "5m", 289)
        now = ticker.ts_ms
        day = [c for c in candles if c.ts_ms > now - DAY_MS] or candles[-1:]
        last = ticker.last
        open_ = day[0].open if day else last
        volume = sum((c.volume for c in day), Decimal(0))
        quote_volume = sum((c.volume * (c.high + c.low + c.close) / 3 for c in day), Decimal(0))
        change = last - open_
        return {
            "symbol": market.exchange_symbol,
            "priceChange": f8(change),
            "priceChangePercent": f"{(change / open_ * 100) if open_ else Decimal(0):.3f}",
            "weightedAvgPrice": f8(quote_volume / volume if volume else last),
            "prevClosePrice": f8(open_),
            "lastPrice": f8(last),
            "lastQty": ZERO,
            "bidPrice": f8(last),
            "bidQty": f8(Decimal(1)),
            "askPrice": f8(last),
            "askQty": f8(Decimal(1)),
            "openPrice": f8(open_),
            "highPrice": f8(max((c.high for c in day), default=last)),
            "lowPrice": f8(min((c.low for c in day), default=last)),
            "volume": f8(volume),
            "quoteVolume": f8(quote_volume),
            "openTime": now - DAY_MS,
            "closeTime": now,
            "firstId": -1,
            "lastId": -1,
            "count": 0,
        }

    async def _each_market(self, params: Mapping[str, str]) -> tuple[list[Market], bool]:
        markets = self.symbols_param(params)
        single = "symbol" in params
        return (markets if markets is not None else list(self.account.markets.values())), single

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        markets, single = await self._each_market(await self.params(request))
        stats = [await self._ticker_stats(m) for m in markets]
        return json_response(stats[0] if single else stats)

    async def ticker_price(self, request: web.Request) -> web.Response:
        markets, single = await self._each_market(await self.params(request))
        prices = []
        for m in markets:
            ticker = await self.account.fetch_ticker(m.symbol)
            prices.append({"symbol": m.exchange_symbol, "price": f8(ticker.last)})
        return json_response(prices[0] if single else prices)

    async def book_ticker(self, request: web.Request) -> web.Response:
        markets, single = await self._each_market(await self.params(request))
        books = []
        for m in markets:
            price = f8((await self.account.fetch_ticker(m.symbol)).last)
            books.append(
                {
                    "symbol": m.exchange_symbol,
                    "bidPrice": price,
                    "bidQty": f8(Decimal(1)),
                    "askPrice": price,
                    "askQty": f8(Decimal(1)),
                }
            )
        return json_response(books[0] if single else books)

    async def avg_price(self, request: web.Request) -> web.Response:
        params = await self.params(request)
        market = self.market(params.get("symbol"))
        candles = await self.account.fetch_candles(market.symbol, "1m", 5)
        avg = sum((c.close for c in candles), Decimal(0)) / max(len(candles), 1)
        return json_response({"mins": 5, "price": f8(quantize_to_step(avg, market.price_tick, ROUND_DOWN))})

    async def depth(self, request: web.Request) -> web.Response:
        """A thin book around the replayed price (the candles carry no order book): five levels a side."""
        params = await self.params(request)
        market = self.market(params.get("symbol"))
        limit = min(self.integer(params, "limit", 5) or 5, 5000)
        price = (await self.account.fetch_ticker(market.symbol)).last
        tick = market.price_tick
        levels = range(min(limit, 5))
        qty = f8(max(market.min_amount * 100, market.amount_step))
        return json_response(
            {
                "lastUpdateId": self.server.replay_ms(),
                "bids": [[f8(price - tick * k), qty] for k in levels if price - tick * k > 0],
                "asks": [[f8(price + tick * (k + 1)), qty] for k in levels],
            }
        )

    async def klines(self, request: web.Request) -> web.Response:
        params = await self.params(request)
        market = self.market(params.get("symbol"))
        interval = params.get("interval")
        if not interval:
            raise mandatory("interval")
        if interval not in INTERVALS:
            raise bad(-1120, "Invalid interval.")
        limit = self.integer(params, "limit", 500) or 500
        if not 1 <= limit <= 1000:
            raise bad(-1130, "Invalid data sent for a parameter.")
        start = self.integer(params, "startTime")
        end = self.integer(params, "endTime")
        base_tf, factor = INTERVALS[interval]
        account = self.account
        now = self.server.replay_ms()
        frame = TIMEFRAME_MS[base_tf] * factor
        if start is None:
            want = min((limit + 1) * factor, MAX_BASE_CANDLES)
            base = await account.fetch_candles(market.symbol, base_tf, want)
        else:
            base = await self._candles_between(market, base_tf, start - start % frame, min(end or now, now))
        candles = aggregate(base, frame) if factor > 1 else base
        if start is not None:
            candles = [c for c in candles if c.ts_ms >= start - start % frame][:limit]
        if end is not None:
            candles = [c for c in candles if c.ts_ms <= end]
        candles = candles[-limit:] if start is None else candles
        return json_response([kline(c, frame) for c in candles])

    async def _candles_between(self, market: Market, timeframe: str, start: int, end: int) -> list[Candle]:
        account = self.account
        dataset = account.dataset
        import asyncio

        minutes = await asyncio.to_thread(dataset.load_series, market.symbol, "1m")
        series = (
            minutes
            if timeframe == "1m"
            else await asyncio.to_thread(dataset.load_series, market.symbol, timeframe)
        )
        idx = series.range_indices(start, end + 1)
        if len(idx) > MAX_BASE_CANDLES:
            idx = range(idx.start, idx.start + MAX_BASE_CANDLES)
        now = self.server.replay_ms()
        closed = [series.candle(i) for i in idx if series.ts(i) + series.timeframe_ms <= now]
        if len(closed) < len(idx) and end >= now - now % series.timeframe_ms:
            forming = candles_up_to(minutes, series, now, 1, market.price_tick)
            if forming and forming[-1].ts_ms >= start:
                closed.append(forming[-1])
        return closed

    # --- signed: account ------------------------------------------------------------------------

    async def account_info(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        balances = await self.account.fetch_balances()
        omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
        rows = [
            {"asset": b.asset, "free": f8(b.free), "locked": f8(b.used)}
            for b in balances.values()
            if not (omit_zero and b.free == 0 and b.used == 0)
        ]
        r = self.server.restrictions
        return json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": "0.00100000",
                    "taker": "0.00100000",
                    "buyer": ZERO,
                    "seller": ZERO,
                },
                "canTrade": bool(r.get("enableSpotAndMarginTrading", True)),
                "canWithdraw": bool(r.get("enableWithdrawals", False)),
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.server.replay_ms(),
                "accountType": "SPOT",
                "balances": rows,
                "permissions": ["SPOT"],
                "uid": 354937868,
            }
        )

    async def api_restrictions(self, request: web.Request) -> web.Response:
        await self.signed(request)
        data = {k: v for k, v in self.server.restrictions.items() if k != "ipWhitelist"}
        if data.get("tradingAuthorityExpirationTime") is None:
            data.pop("tradingAuthorityExpirationTime", None)
        return json_response(data)

    async def account_status(self, request: web.Request) -> web.Response:
        await self.signed(request)
        return json_response({"data": "Normal"})

    async def system_status(self, request: web.Request) -> web.Response:
        return json_response({"status": 0, "msg": "normal"})

    # --- signed: orders -------------------------------------------------------------------------

    def _check_filters(self, market: Market, price: Decimal | None, quantity: Decimal) -> None:
        """What the paper engine rounds silently but Binance refuses: off-tick prices, off-step amounts."""
        filters = self.filters(market)
        pf = filters.get("PRICE_FILTER")
        if price is not None and pf is not None:
            lo, hi, tick = Decimal(pf["minPrice"]), Decimal(pf["maxPrice"]), Decimal(pf["tickSize"])
            if (lo and price < lo) or (hi and price > hi) or (tick and (price - lo) % tick != 0):
                raise bad(-1013, "Filter failure: PRICE_FILTER")
        lot = filters.get("LOT_SIZE")
        if lot is not None:
            step, lo = Decimal(lot["stepSize"]), Decimal(lot["minQty"])
            if step and quantity >= lo and (quantity - lo) % step != 0:
                raise bad(-1013, "Filter failure: LOT_SIZE")

    async def _parse_order(self, params: Mapping[str, str]) -> tuple[OrderRequest, OrderInfo]:
        market = self.market(params.get("symbol"))
        side_text = params.get("side")
        if not side_text:
            raise mandatory("side")
        if side_text not in ("BUY", "SELL"):
            raise bad(-1117, "Invalid side.")
        type_text = params.get("type")
        if not type_text:
            raise mandatory("type")
        if type_text not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise bad(-1116, "Invalid orderType.")
        cid = params.get("newClientOrderId") or new_client_order_id()
        if not CLIENT_ID_RE.match(cid):
            raise bad(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        if not ENGINE_CLIENT_ID_RE.match(cid):  # '.', ':' and '/' are Binance's but not the paper engine's
            raise bad(-1100, "Illegal characters found in parameter 'newClientOrderId'.")
        side = OrderSide.BUY if side_text == "BUY" else OrderSide.SELL
        tif = ""
        price: Decimal | None = None
        quote_qty = Decimal(0)
        if type_text == "MARKET":
            quantity = self.decimal(params, "quantity", required=False)
            quote = self.decimal(params, "quoteOrderQty", required=False)
            if quantity is None and quote is None:
                raise bad(
                    -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
                )
            if quantity is None:
                assert quote is not None
                quote_qty = quote
                last = (await self.account.fetch_ticker(market.symbol)).last
                quantity = quantize_to_step(quote / last, market.amount_step, ROUND_DOWN)
                if quantity <= 0:
                    raise bad(-1013, "Filter failure: LOT_SIZE")
            order_type = OrderType.MARKET
        else:
            if type_text == "LIMIT":
                tif = params.get("timeInForce", "")
                if not tif:
                    raise mandatory("timeInForce")
                if tif != "GTC":
                    raise bad(-1115, "Invalid timeInForce.")
            quantity = self.decimal(params, "quantity")
            price = self.decimal(params, "price")
            order_type = OrderType.LIMIT
        assert quantity is not None
        if quantity <= 0 or (price is not None and price <= 0):
            raise bad(-1013, "Invalid quantity." if quantity <= 0 else "Invalid price.")
        self._check_filters(market, price, quantity)
        if type_text == "LIMIT_MAKER":
            assert price is not None
            last = (await self.account.fetch_ticker(market.symbol)).last
            if (side is OrderSide.BUY and price >= last) or (side is OrderSide.SELL and price <= last):
                raise bad(-2010, "Order would immediately match and take.")
        request = OrderRequest(market.symbol, side, order_type, quantity, cid, price)
        return request, OrderInfo(0, cid, type_text, tif, quote_qty)

    async def new_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, trade=True)
        return await self._place(params, test=False)

    async def test_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, trade=True)
        return await self._place(params, test=True)

    async def _place(self, params: Mapping[str, str], *, test: bool) -> web.Response:
        order_request, info = await self._parse_order(params)
        if test:
            return json_response({})
        async with self._placing:
            await self._refuse_open_twin(info.client_order_id)
            if info.client_order_id in self.by_engine_id:  # used before (and closed): a fresh engine id
                info.engine_cid = f"reused-{len(self.orders) + 1}-{secrets.token_hex(6)}"
                order_request = dataclasses.replace(order_request, client_order_id=info.engine_cid)
            try:
                order = await self.account.create_order(order_request)
            except ExchangeError as error:
                self.raise_engine_error(error)
                raise
            info.order_id = int(order.exchange_order_id)
            self._remember(info)
        resp_type = params.get("newOrderRespType") or "FULL"
        data = self.order_json(order, info)
        transact = {"transactTime": order.created_ms}
        if resp_type == "ACK":
            keys = ("symbol", "orderId", "orderListId", "clientOrderId")
            return json_response({**{k: data[k] for k in keys}, **transact})
        result = {
            k: data[k]
            for k in (
                "symbol",
                "orderId",
                "orderListId",
                "clientOrderId",
                "price",
                "origQty",
                "executedQty",
                "origQuoteOrderQty",
                "cummulativeQuoteQty",
                "status",
                "timeInForce",
                "type",
                "side",
                "workingTime",
                "selfTradePreventionMode",
            )
        }
        result = {**result, **transact}
        if resp_type == "FULL":
            result["fills"] = [
                {
                    "price": f8(f.price),
                    "qty": f8(f.amount),
                    "commission": f8(f.fee),
                    "commissionAsset": f.fee_asset,
                    "tradeId": int(f.trade_id),
                }
                for f in order.fills
            ]
        return json_response(result)

    async def _refuse_open_twin(self, client_order_id: str) -> None:
        """Binance's -2010 "Duplicate order sent.": an order with this client id is still open."""
        latest = self.by_client_id.get(client_order_id)
        if latest is None:
            return
        open_ids = {o.client_order_id for o in await self.account.fetch_open_orders()}
        if latest.engine_cid in open_ids:
            raise bad(*DUPLICATE_ORDER)

    def order_json(self, order: Order, info: OrderInfo) -> dict[str, Any]:
        market = self.account.markets[order.symbol]
        if order.status is OrderStatus.OPEN:
            status = "PARTIALLY_FILLED" if order.filled > 0 else "NEW"
        else:
            status = {"filled": "FILLED", "canceled": "CANCELED", "rejected": "REJECTED"}[order.status.value]
        return {
            "symbol": market.exchange_symbol,
            "orderId": info.order_id,
            "orderListId": -1,
            "clientOrderId": info.client_order_id,
            "price": f8(order.price),
            "origQty": f8(order.amount),
            "executedQty": f8(order.filled),
            "cummulativeQuoteQty": f8(order.cost),
            "status": status,
            "timeInForce": info.time_in_force or "GTC",
            "type": info.type,
            "side": "BUY" if order.side is OrderSide.BUY else "SELL",
            "stopPrice": ZERO,
            "icebergQty": ZERO,
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "isWorking": True,
            "workingTime": order.created_ms,
            "origQuoteOrderQty": f8(info.orig_quote_qty),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _find(self, params: Mapping[str, str], market: Market) -> OrderInfo | None:
        order_id = self.integer(params, "orderId")
        cid = params.get("origClientOrderId")
        if order_id is None and not cid:
            raise bad(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        info = self.orders.get(order_id) if order_id is not None else self.by_client_id.get(cid or "")
        if info is not None and cid and info.client_order_id != cid:
            return None
        return info

    async def query_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        market = self.market(params.get("symbol"))
        info = self._find(params, market)
        order = await self.account.fetch_order(market.symbol, info.engine_cid) if info else None
        if info is None or order is None:
            raise bad(*NO_SUCH_ORDER)
        return json_response(self.order_json(order, info))

    async def cancel_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, trade=True)
        market = self.market(params.get("symbol"))
        info = self._find(params, market)
        if info is None:
            raise bad(*UNKNOWN_ORDER)
        try:
            order = await self.account.cancel_order(market.symbol, info.engine_cid)
        except (OrderNotFound, OrderNotCancelable):
            raise bad(*UNKNOWN_ORDER) from None
        data = self.order_json(order, info)
        keys = (
            "symbol",
            "orderId",
            "orderListId",
            "price",
            "origQty",
            "executedQty",
            "origQuoteOrderQty",
            "cummulativeQuoteQty",
            "status",
            "timeInForce",
            "type",
            "side",
            "selfTradePreventionMode",
        )
        return json_response(
            {
                "origClientOrderId": info.client_order_id,
                "clientOrderId": params.get("newClientOrderId") or new_client_order_id(),
                "transactTime": order.updated_ms,
                **{k: data[k] for k in keys},
            }
        )

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self.market(params["symbol"]).symbol if "symbol" in params else None
        orders = await self.account.fetch_open_orders(symbol)
        return json_response([self.order_json(o, self._info(o)) for o in orders])

    def _info(self, order: Order) -> OrderInfo:
        info = self.by_engine_id.get(order.client_order_id)
        if info is None:  # placed through the paper account directly
            info = OrderInfo(int(order.exchange_order_id), order.client_order_id)
            self._remember(info)
        return info

    async def all_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        market = self.market(params.get("symbol"))
        from_id = self.integer(params, "orderId")
        start, end = self.integer(params, "startTime"), self.integer(params, "endTime")
        limit = min(self.integer(params, "limit", 500) or 500, 1000)
        result = []
        for order_id in sorted(self.orders):
            if from_id is not None and order_id < from_id:
                continue
            info = self.orders[order_id]
            order = await self.account.fetch_order(market.symbol, info.engine_cid)
            if order is None:
                continue
            if (start is not None and order.created_ms < start) or (
                end is not None and order.created_ms > end
            ):
                continue
            result.append(self.order_json(order, info))
        return json_response(result[:limit] if from_id is not None else result[-limit:])

    async def my_trades(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        market = self.market(params.get("symbol"))
        order_id = self.integer(params, "orderId")
        from_id = self.integer(params, "fromId")
        start, end = self.integer(params, "startTime"), self.integer(params, "endTime")
        limit = min(self.integer(params, "limit", 500) or 500, 1000)
        fills = await self.account.fetch_fills(market.symbol)
        rows = []
        for fill in fills:
            info = self.by_engine_id.get(fill.client_order_id)
            oid = info.order_id if info else -1
            if order_id is not None and oid != order_id:
                continue
            if from_id is not None and int(fill.trade_id) < from_id:
                continue
            if (start is not None and fill.ts_ms < start) or (end is not None and fill.ts_ms > end):
                continue
            rows.append(trade_json(market, fill, oid))
        return json_response(rows[:limit] if from_id is not None or start is not None else rows[-limit:])


def trade_json(market: Market, fill: Fill, order_id: int) -> dict[str, Any]:
    return {
        "symbol": market.exchange_symbol,
        "id": int(fill.trade_id),
        "orderId": order_id,
        "orderListId": -1,
        "price": f8(fill.price),
        "qty": f8(fill.amount),
        "quoteQty": f8(fill.cost),
        "commission": f8(fill.fee),
        "commissionAsset": fill.fee_asset,
        "time": fill.ts_ms,
        "isBuyer": fill.side is OrderSide.BUY,
        "isMaker": fill.is_maker,
        "isBestMatch": True,
    }


def aggregate(candles: Sequence[Candle], frame_ms: int) -> list[Candle]:
    """Candles of a longer interval from consecutive shorter ones (bucketed by open time)."""
    out: list[Candle] = []
    for c in candles:
        bucket = c.ts_ms - c.ts_ms % frame_ms
        if out and out[-1].ts_ms == bucket:
            last = out[-1]
            out[-1] = Candle(
                bucket,
                last.open,
                max(last.high, c.high),
                min(last.low, c.low),
                c.close,
                last.volume + c.volume,
            )
        else:
            out.append(Candle(bucket, c.open, c.high, c.low, c.close, c.volume))
    return out


def kline(c: Candle, frame_ms: int) -> list[Any]:
    quote = c.volume * (c.high + c.low + c.close) / 3
    return [
        c.ts_ms,
        f8(c.open),
        f8(c.high),
        f8(c.low),
        f8(c.close),
        f8(c.volume),
        c.ts_ms + frame_ms - 1,
        f8(quote),
        0,
        ZERO,
        ZERO,
        "0",
    ]
