"""OKX v5 REST (``/api/v5``): the subset for the passphrase flow, spot cash trading only.

Private requests carry ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN`` (base64 HMAC-SHA256 of timestamp + METHOD +
request path with query + body), ``OK-ACCESS-TIMESTAMP`` (ISO-8601 with ms, within 30 s of the server's
auth clock) and ``OK-ACCESS-PASSPHRASE``; failures answer 401 with OKX's codes (50103-50113). Trading
errors answer 200 with ``code`` "1" (or the error code) and per-order ``sCode``/``sMsg``, as OKX does.
The OKX account is its own paper account on the same market data and replay time; instrument rules are
the Binance ones of the dataset (tick, lot step, minimum size).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.core.errors import (
    AmountBelowMinimum,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    NotionalBelowMinimum,
    OrderNotCancelable,
    OrderNotFound,
    UnknownPair,
)
from cryptobots_desktop.core.market import Market, quantize_to_step
from cryptobots_desktop.core.orders import Order, OrderRequest, OrderSide, OrderStatus, OrderType

from .server import ApiError, json_response

if TYPE_CHECKING:
    from .server import ExchangeServer

CL_ORD_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
DAY_MS = 86_400_000


def fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def auth_error(code: str, msg: str) -> ApiError:
    return ApiError(401, {"msg": msg, "code": code})


def failed(code: str, msg: str) -> ApiError:
    return ApiError(200, {"code": code, "msg": msg, "data": []})


class OrderFailure(Exception):
    """One order refused: its ``sCode``/``sMsg``."""

    def __init__(self, cl_ord_id: str, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.cl_ord_id, self.code, self.msg = cl_ord_id, code, msg


@dataclass(slots=True)
class OkxOrderInfo:
    ord_id: str
    engine_cid: str  # the paper engine's client order id (made up when the client sent none)
    cl_ord_id: str  # what the client sent ("" if nothing)
    ord_type: str
    tgt_ccy: str
    tag: str


class OkxApi:
    def __init__(self, server: ExchangeServer) -> None:
        self.server = server
        self.orders: dict[str, OkxOrderInfo] = {}
        self.by_client_id: dict[str, OkxOrderInfo] = {}

    def register(self, router: web.UrlDispatcher) -> None:
        get, post = router.add_get, router.add_post
        get("/api/v5/public/time", self.public_time)
        get("/api/v5/public/instruments", self.instruments)
        get("/api/v5/market/ticker", self.ticker)
        get("/api/v5/market/tickers", self.tickers)
        get("/api/v5/account/balance", self.balance)
        get("/api/v5/account/config", self.account_config)
        get("/api/v5/asset/currencies", self.currencies)
        post("/api/v5/trade/order", self.place_order)
        post("/api/v5/trade/batch-orders", self.batch_orders)
        get("/api/v5/trade/order", self.get_order)
        post("/api/v5/trade/cancel-order", self.cancel_order)
        get("/api/v5/trade/orders-pending", self.orders_pending)

    def restore(self, known: Sequence[tuple[str, str]]) -> None:
        self.orders.clear()
        self.by_client_id.clear()
        for ord_id, cid in known:
            self._remember(
                OkxOrderInfo(ord_id, cid, "" if cid.startswith("okxauto") else cid, "limit", "", "")
            )

    def _remember(self, info: OkxOrderInfo) -> None:
        self.orders[info.ord_id] = info
        if info.cl_ord_id:
            self.by_client_id[info.cl_ord_id] = info

    def rate_limited(self, status: int, retry_after: int) -> web.Response:
        return json_response(
            {"msg": "Too Many Requests", "code": "50011"}, 429, {"Retry-After": str(retry_after)}
        )

    @property
    def account(self) -> PaperExchange:
        account = self.server.okx_account
        assert account is not None
        return account

    def ok(self, data: list[Any]) -> web.Response:
        return json_response({"code": "0", "msg": "", "data": data})

    # --- auth -----------------------------------------------------------------------------------

    async def signed(self, request: web.Request, *, trade: bool = False) -> str:
        """Check the OK-ACCESS-* headers as OKX does; return the request body."""
        cfg = self.server.config
        h = request.headers
        key, sign = h.get("OK-ACCESS-KEY", ""), h.get("OK-ACCESS-SIGN", "")
        stamp, passphrase = h.get("OK-ACCESS-TIMESTAMP", ""), h.get("OK-ACCESS-PASSPHRASE", "")
        if not key:
            raise auth_error("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
        if not sign:
            raise auth_error("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
        if not stamp:
            raise auth_error("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
        if not passphrase:
            raise auth_error("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
        if not hmac.compare_digest(key, cfg.key):
            raise auth_error("50111", "Invalid OK-ACCESS-KEY.")
        try:
            ts_ms = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            raise auth_error("50112", "Invalid OK-ACCESS-TIMESTAMP.") from None
        if abs(self.server.server_time_ms() - ts_ms) > cfg.okx_time_window_s * 1000:
            raise auth_error("50102", "Timestamp request expired.")
        if not hmac.compare_digest(passphrase, cfg.passphrase):
            raise auth_error("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
        body = await request.text() if request.method == "POST" else ""
        prehash = stamp + request.method + request.raw_path + body
        expected = base64.b64encode(hmac.new(cfg.secret.encode(), prehash.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(sign.encode(), expected):
            raise auth_error("50113", "Invalid Sign.")
        restrictions = self.server.restrictions
        if restrictions.get("ipRestrict") and request.remote not in restrictions.get("ipWhitelist", []):
            raise auth_error(
                "50110", f"Your IP {request.remote} is not included in your API key's IP whitelist."
            )
        if trade and not restrictions.get("enableSpotAndMarginTrading", True):
            raise auth_error("50120", "API key doesn't have permission to trade.")
        return body

    def market(self, inst_id: str | None) -> Market:
        for market in self.account.markets.values():
            if inst_id == f"{market.base}-{market.quote}":
                return market
        raise failed("51001", "Instrument ID does not exist.")

    # --- public ---------------------------------------------------------------------------------

    async def public_time(self, request: web.Request) -> web.Response:
        return self.ok([{"ts": str(self.server.server_time_ms())}])

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType", "")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise failed("51000", "Parameter instType error")
        if inst_type != "SPOT":
            return self.ok([])
        data = []
        for m in self.account.markets.values():
            data.append(
                {
                    "alias": "",
                    "baseCcy": m.base,
                    "category": "1",
                    "ctMult": "",
                    "ctType": "",
                    "ctVal": "",
                    "ctValCcy": "",
                    "expTime": "",
                    "instFamily": "",
                    "instId": f"{m.base}-{m.quote}",
                    "instType": "SPOT",
                    "lever": "",
                    "listTime": "1548133413000",
                    "lotSz": fmt(m.amount_step),
                    "maxIcebergSz": fmt(m.max_amount),
                    "maxLmtAmt": "20000000",
                    "maxLmtSz": fmt(m.max_amount),
                    "maxMktAmt": "1000000",
                    "maxMktSz": fmt(m.max_amount),
                    "maxStopSz": fmt(m.max_amount),
                    "maxTriggerSz": fmt(m.max_amount),
                    "maxTwapSz": fmt(m.max_amount),
                    "minSz": fmt(m.min_amount),
                    "optType": "",
                    "quoteCcy": m.quote,
                    "settleCcy": "",
                    "state": "live",
                    "stk": "",
                    "tickSz": fmt(m.price_tick),
                    "uly": "",
                    "ruleType": "normal",
                }
            )
        return self.ok(data)

    async def _ticker(self, market: Market) -> dict[str, Any]:
        account = self.account
        ticker = await account.fetch_ticker(market.symbol)
        candles = await account.fetch_candles(market.symbol, "5m", 289)
        day = [c for c in candles if c.ts_ms > ticker.ts_ms - DAY_MS] or candles[-1:]
        last = ticker.last
        volume = sum((c.volume for c in day), Decimal(0))
        return {
            "instType": "SPOT",
            "instId": f"{market.base}-{market.quote}",
            "last": fmt(last),
            "lastSz": "0",
            "askPx": fmt(last),
            "askSz": "1",
            "bidPx": fmt(last),
            "bidSz": "1",
            "open24h": fmt(day[0].open if day else last),
            "high24h": fmt(max((c.high for c in day), default=last)),
            "low24h": fmt(min((c.low for c in day), default=last)),
            "volCcy24h": fmt(sum((c.volume * c.close for c in day), Decimal(0))),
            "vol24h": fmt(volume),
            "ts": str(ticker.ts_ms),
            "sodUtc0": fmt(day[0].open if day else last),
            "sodUtc8": fmt(day[0].open if day else last),
        }

    async def ticker(self, request: web.Request) -> web.Response:
        return self.ok([await self._ticker(self.market(request.query.get("instId")))])

    async def tickers(self, request: web.Request) -> web.Response:
        if request.query.get("instType") != "SPOT":
            return self.ok([])
        return self.ok([await self._ticker(m) for m in self.account.markets.values()])

    # --- private: account -----------------------------------------------------------------------

    async def balance(self, request: web.Request) -> web.Response:
        await self.signed(request)
        wanted = {c for c in request.query.get("ccy", "").split(",") if c}
        balances = await self.account.fetch_balances()
        now = str(self.server.replay_ms())
        details = [
            {
                "availBal": fmt(b.free),
                "availEq": "",
                "cashBal": fmt(b.total),
                "ccy": b.asset,
                "crossLiab": "",
                "disEq": "",
                "eq": fmt(b.total),
                "eqUsd": "",
                "frozenBal": fmt(b.used),
                "interest": "",
                "isoEq": "",
                "isoLiab": "",
                "isoUpl": "",
                "liab": "",
                "maxLoan": "",
                "mgnRatio": "",
                "notionalLever": "",
                "ordFrozen": fmt(b.used),
                "twap": "0",
                "uTime": now,
                "upl": "",
                "uplLiab": "",
                "stgyEq": "0",
                "spotInUseAmt": "",
                "spotIsoBal": "0",
            }
            for b in balances.values()
            if (not wanted or b.asset in wanted) and (b.total != 0 or b.asset in wanted)
        ]
        return self.ok(
            [
                {
                    "adjEq": "",
                    "details": details,
                    "imr": "",
                    "isoEq": "",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": "",
                    "ordFroz": "",
                    "totalEq": "",
                    "uTime": now,
                }
            ]
        )

    async def currencies(self, request: web.Request) -> web.Response:
        """Signed, like OKX's: ccxt calls it inside ``load_markets`` when it has keys."""
        await self.signed(request)
        assets = sorted({a for m in self.account.markets.values() for a in (m.base, m.quote)})
        withdraw = bool(self.server.restrictions.get("enableWithdrawals", False))
        return self.ok(
            [
                {
                    "ccy": asset, "name": asset, "chain": f"{asset}-{asset}", "canDep": True,
                    "canWd": withdraw, "canInternal": True, "minWd": "0.0001", "maxWd": "1000000",
                    "wdTickSz": "8", "fee": "0.0001", "minFee": "0.0001", "maxFee": "0.0001", "mainNet": True,
                    "needTag": False,
                    "minDepArrivalConfirm": "1", "minWdUnlockConfirm": "1", "logoLink": "",
                }
                for asset in assets
            ]
        )  # fmt: skip

    async def account_config(self, request: web.Request) -> web.Response:
        await self.signed(request)
        r = self.server.restrictions
        perms = ["read_only"] if r.get("enableReading", True) else []
        if r.get("enableSpotAndMarginTrading", True):
            perms.append("trade")
        if r.get("enableWithdrawals", False):
            perms.append("withdraw")
        ip = ",".join(r.get("ipWhitelist", [])) if r.get("ipRestrict") else ""
        return self.ok(
            [
                {
                    "acctLv": "2" if r.get("enableMargin") or r.get("enableFutures") else "1",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "greeksType": "PA",
                    "level": "Lv1",
                    "levelTmp": "",
                    "mgnIsoMode": "automatic",
                    "posMode": "net_mode",
                    "spotOffsetType": "",
                    "uid": "44705892343619584",
                    "label": "cryptobots-local",
                    "roleType": "0",
                    "traderInsts": [],
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "opAuth": "0",
                    "kycLv": "2",
                    "ip": ip,
                    "perm": ",".join(perms),
                    "mainUid": "44705892343619584",
                }
            ]
        )

    # --- private: orders ------------------------------------------------------------------------

    def _order_error(
        self, error: ExchangeError, market: Market | None, side: OrderSide | None
    ) -> tuple[str, str]:
        if isinstance(error, InsufficientFunds):
            asset = "" if market is None else (market.quote if side is OrderSide.BUY else market.base)
            return "51008", f"Order failed. Insufficient {asset} balance in account."
        if isinstance(error, AmountBelowMinimum | NotionalBelowMinimum):
            return "51020", "Your order should meet or exceed the minimum order amount."
        if isinstance(error, DuplicateClientOrderId):
            return "51016", "Duplicated clOrdId"
        if isinstance(error, UnknownPair):
            return "51001", "Instrument ID does not exist."
        return "51000", "Parameter sz error"

    def _fail_order(self, cl_ord_id: str, code: str, msg: str) -> ApiError:
        now = str(self.server.server_time_ms())
        return ApiError(
            200,
            {
                "code": "1",
                "msg": "All operations failed",
                "data": [
                    {"clOrdId": cl_ord_id, "ordId": "", "sCode": code, "sMsg": msg, "tag": "", "ts": now}
                ],
                "inTime": now,
                "outTime": now,
            },
        )

    async def _body_json(self, request: web.Request) -> Any:
        body = await self.signed(request, trade=True)
        try:
            return json.loads(body or "null")
        except ValueError:
            raise failed("50002", "Invalid request body") from None

    def _envelope(self, rows: list[dict[str, Any]]) -> web.Response:
        """OKX's answer to order placement: code 0 (all placed), 1 (none) or 2 (some), per-order sCode."""
        placed = sum(1 for r in rows if r["sCode"] == "0")
        code = "0" if placed == len(rows) else "1" if placed == 0 else "2"
        msg = {"0": "", "1": "All operations failed", "2": "Bulk operation partially succeeded"}[code]
        now = str(self.server.server_time_ms())
        return json_response({"code": code, "msg": msg, "data": rows, "inTime": now, "outTime": now})

    async def place_order(self, request: web.Request) -> web.Response:
        data = await self._body_json(request)
        if not isinstance(data, dict):
            raise failed("50000", "Body for POST request cannot be empty.")
        return self._envelope([await self._place_row(data)])

    async def batch_orders(self, request: web.Request) -> web.Response:
        """What ccxt's ``create_order`` uses by default (``options['createOrder']``)."""
        data = await self._body_json(request)
        if not isinstance(data, list) or not data:
            raise failed("50000", "Body for POST request cannot be empty.")
        return self._envelope(
            [await self._place_row(item if isinstance(item, dict) else {}) for item in data]
        )

    async def _place_row(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._place_one(data)
        except OrderFailure as failure:
            now = str(self.server.server_time_ms())
            return {
                "clOrdId": failure.cl_ord_id, "ordId": "", "sCode": failure.code, "sMsg": failure.msg,
                "tag": "", "ts": now,
            }  # fmt: skip

    async def _place_one(self, data: dict[str, Any]) -> dict[str, Any]:
        cid = str(data.get("clOrdId", "") or "")
        if cid and not CL_ORD_ID_RE.match(cid):
            raise OrderFailure(cid, "51000", "Parameter clOrdId error")
        market = self._market_or_fail(data.get("instId"), cid)
        if data.get("tdMode", "cash") != "cash":
            raise OrderFailure(cid, "51000", "Parameter tdMode error")
        side_text, ord_type = data.get("side"), data.get("ordType")
        if side_text not in ("buy", "sell"):
            raise OrderFailure(cid, "51000", "Parameter side error")
        if ord_type not in ("limit", "market", "post_only"):
            raise OrderFailure(cid, "51000", "Parameter ordType error")
        side = OrderSide.BUY if side_text == "buy" else OrderSide.SELL
        try:
            sz = Decimal(str(data.get("sz", "")))
            px = Decimal(str(data["px"])) if ord_type != "market" else None
        except (InvalidOperation, KeyError):
            raise OrderFailure(
                cid, "51000", "Parameter sz error" if "px" in data else "Parameter px error"
            ) from None
        tgt_ccy = str(
            data.get("tgtCcy")
            or ("quote_ccy" if ord_type == "market" and side is OrderSide.BUY else "base_ccy")
        )
        account = self.account
        last = (await account.fetch_ticker(market.symbol)).last
        amount = sz
        if ord_type == "market" and tgt_ccy == "quote_ccy":
            amount = quantize_to_step(sz / last, market.amount_step, ROUND_DOWN)
        if px is not None and px % market.price_tick != 0:
            raise OrderFailure(cid, "51000", "Parameter px error")
        if amount % market.amount_step != 0:
            raise OrderFailure(cid, "51121", "Order quantity must be a multiple of the lot size.")
        if (
            ord_type == "post_only"
            and px is not None
            and ((side is OrderSide.BUY and px >= last) or (side is OrderSide.SELL and px <= last))
        ):
            raise OrderFailure(cid, "51024", "Post only order would be executed immediately.")
        engine_cid = cid or f"okxauto{len(self.orders) + 1}x{self.server.server_time_ms()}"
        if amount <= 0:
            raise OrderFailure(cid, "51020", "Your order should meet or exceed the minimum order amount.")
        try:
            kind = OrderType.MARKET if ord_type == "market" else OrderType.LIMIT
            req = OrderRequest(market.symbol, side, kind, amount, engine_cid, px)
            order = await account.create_order(req)
        except ValueError:
            raise OrderFailure(cid, "51000", "Parameter sz error") from None
        except ExchangeError as error:
            raise OrderFailure(cid, *self._order_error(error, market, side)) from None
        info = OkxOrderInfo(
            order.exchange_order_id, engine_cid, cid, ord_type, tgt_ccy, str(data.get("tag", ""))
        )
        self._remember(info)
        return {
            "clOrdId": cid, "ordId": order.exchange_order_id, "tag": info.tag,
            "ts": str(self.server.server_time_ms()), "sCode": "0", "sMsg": "Order placed",
        }  # fmt: skip

    def _market_or_fail(self, inst_id: Any, cid: str) -> Market:
        try:
            return self.market(str(inst_id or ""))
        except ApiError:
            raise OrderFailure(cid, "51001", "Instrument ID does not exist.") from None

    def _find(self, params: Mapping[str, Any]) -> OkxOrderInfo | None:
        ord_id, cid = str(params.get("ordId") or ""), str(params.get("clOrdId") or "")
        if not ord_id and not cid:
            raise failed("51000", "Parameter ordId error")
        return self.orders.get(ord_id) if ord_id else self.by_client_id.get(cid)

    def order_json(self, order: Order, info: OkxOrderInfo, market: Market) -> dict[str, Any]:
        if order.status is OrderStatus.OPEN:
            state = "partially_filled" if order.filled > 0 else "live"
        else:
            state = {"filled": "filled", "canceled": "canceled", "rejected": "canceled"}[order.status.value]
        fee = sum((f.fee for f in order.fills), Decimal(0))
        fee_ccy = market.base if order.side is OrderSide.BUY else market.quote
        last_fill = order.fills[-1] if order.fills else None
        return {
            "accFillSz": fmt(order.filled),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "avgPx": fmt(order.average_price) if order.fills else "",
            "cTime": str(order.created_ms),
            "cancelSource": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": info.cl_ord_id,
            "fee": fmt(-fee) if fee else "0",
            "feeCcy": fee_ccy,
            "fillPx": fmt(last_fill.price) if last_fill else "",
            "fillSz": fmt(last_fill.amount) if last_fill else "0",
            "fillTime": str(last_fill.ts_ms) if last_fill else "",
            "instId": f"{market.base}-{market.quote}",
            "instType": "SPOT",
            "lever": "",
            "ordId": info.ord_id,
            "ordType": info.ord_type,
            "pnl": "0",
            "posSide": "net",
            "px": fmt(order.price),
            "rebate": "0",
            "rebateCcy": fee_ccy,
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "source": "",
            "state": state,
            "sz": fmt(order.amount),
            "tag": info.tag,
            "tdMode": "cash",
            "tgtCcy": info.tgt_ccy,
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tradeId": last_fill.trade_id if last_fill else "",
            "uTime": str(order.updated_ms),
        }

    async def get_order(self, request: web.Request) -> web.Response:
        await self.signed(request)
        market = self.market(request.query.get("instId"))
        info = self._find(request.query)
        order = await self.account.fetch_order(market.symbol, info.engine_cid) if info else None
        if info is None or order is None:
            raise failed("51603", "Order does not exist")
        return self.ok([self.order_json(order, info, market)])

    async def orders_pending(self, request: web.Request) -> web.Response:
        await self.signed(request)
        inst = request.query.get("instId")
        symbol = self.market(inst).symbol if inst else None
        rows = []
        for order in await self.account.fetch_open_orders(symbol):
            info = next((i for i in self.orders.values() if i.engine_cid == order.client_order_id), None)
            if info is not None:
                rows.append(self.order_json(order, info, self.account.markets[order.symbol]))
        return self.ok(rows)

    async def cancel_order(self, request: web.Request) -> web.Response:
        body = await self.signed(request, trade=True)
        data = json.loads(body or "{}")
        market = self.market(data.get("instId"))
        info = self._find(data)
        cid = str(data.get("clOrdId") or "")
        if info is None:
            raise self._fail_order(cid, "51400", "Order cancellation failed as the order does not exist.")
        try:
            order = await self.account.cancel_order(market.symbol, info.engine_cid)
        except OrderNotFound:
            raise self._fail_order(
                cid, "51400", "Order cancellation failed as the order does not exist."
            ) from None
        except OrderNotCancelable:
            current = await self.account.fetch_order(market.symbol, info.engine_cid)
            if current is not None and current.status is OrderStatus.CANCELED:
                raise self._fail_order(
                    cid, "51401", "Order cancellation failed as the order has been canceled."
                ) from None
            raise self._fail_order(
                cid, "51402", "Order cancellation failed as the order has been completed."
            ) from None
        now = str(self.server.server_time_ms())
        return self.ok(
            [
                {
                    "clOrdId": info.cl_ord_id,
                    "ordId": order.exchange_order_id,
                    "sCode": "0",
                    "sMsg": "",
                    "ts": now,
                }
            ]
        )
