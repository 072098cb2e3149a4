"""The local exchange: one aiohttp application serving Binance spot and OKX v5 REST subsets on 127.0.0.1.

Both APIs trade real paper accounts (``adapters.paper.PaperExchange``: the app's own matching engine on the
shipped Binance candles), one account per API, both replaying the same market time. Two clocks are kept
apart on purpose:

- the **auth clock** (``server_time_ms``): wall-clock time plus an injectable skew; ``/api/v3/time`` and
  ``/api/v5/public/time`` report it, and request timestamps are checked against it;
- the **market clock** (the paper accounts' replay clock): candles, tickers, orders and trades carry
  replay time (in the recorded data's past), which moves at ``speed`` or only when advanced.

Unauthenticated control endpoints under ``/_control/`` (answered only to 127.0.0.1 / ::1) set faults,
restrictions, skew and replay; ``ExchangeServer`` offers the same as Python methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.paper.state_store import StateStore
from cryptobots_desktop.core.replay import ReplaySpeed

from .faults import DEFAULT_STATUS_BODIES, Fault, FaultBook, RateLimiter

log = logging.getLogger("exchange_server")

ROOT = Path(__file__).resolve().parents[2]
MARKET_DATA = ROOT / "resources" / "market_data"
DEFAULT_KEY = "cbLocalKey0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789"
DEFAULT_SECRET = "cbLocalSecret0123456789abcdefABCDEF0123456789abcdefABCDEF012345"
DEFAULT_PASSPHRASE = "cb-Local-Passphrase1"
DEFAULT_BALANCES: dict[str, Decimal] = {
    "USDT": Decimal(10_000),
    "BTC": Decimal("0.5"),
    "ETH": Decimal(5),
    "SOL": Decimal(50),
    "XRP": Decimal(5_000),
}
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def default_restrictions() -> dict[str, Any]:
    """What ``/sapi/v1/account/apiRestrictions`` reports for a fresh key: read + spot trading, no more.

    ``ipWhitelist`` is the server's own field (never reported): with ``ipRestrict`` true, signed requests
    from an address not in it get -2015 (OKX: 50110).
    """
    return {
        "ipRestrict": False,
        "createTime": 1_698_645_219_000,
        "enableReading": True,
        "enableWithdrawals": False,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
        "enableSpotAndMarginTrading": True,
        "enablePortfolioMarginTrading": False,
        "ipWhitelist": ["127.0.0.1", "::1"],
    }


@dataclass
class ServerConfig:
    """Everything the local exchange is started with (the command line maps onto this one to one)."""

    host: str = "127.0.0.1"
    port: int = 0
    key: str = DEFAULT_KEY
    secret: str = DEFAULT_SECRET
    passphrase: str = DEFAULT_PASSPHRASE
    market_data_dir: Path = MARKET_DATA
    dataset: str = "binance_spot_2023"
    balances: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_BALANCES))
    speed: ReplaySpeed = ReplaySpeed.X1
    replay_start_ms: int | None = None
    state_dir: Path | None = None  # None: a temporary folder, removed on stop
    skew_ms: int = 0
    rate_limit_per_minute: int | None = None
    ban_after: int = 3
    ban_s: float = 120.0
    restrictions: dict[str, Any] = field(default_factory=default_restrictions)
    faults: list[Fault] = field(default_factory=list)
    okx_time_window_s: float = 30.0


class ApiError(Exception):
    """An error answer: HTTP ``status`` with a JSON ``body`` (and extra headers)."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return json_response(self.body, self.status, self.headers)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
        charset="UTF-8",
    )


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the exchange answered (or dropped), for tests to assert on."""

    method: str
    path: str
    query: str
    status: int
    api_key: str | None
    wall_ms: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "api_key": self.api_key,
            "wall_ms": self.wall_ms,
            "note": self.note,
        }


class ExchangeServer:
    """The local exchange. ``await start()`` opens the accounts and listens; ``await stop()`` closes.

    Python API (call on the server's event loop, or use the ``/_control`` endpoints from anywhere):
    ``add_fault``, ``clear_faults``, ``set_restrictions``, ``set_skew``, ``advance_replay``,
    ``set_speed``, ``reset``, ``requests``, ``state``.
    """

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.faults = FaultBook()
        for fault in self.config.faults:
            self.faults.add(fault)
        self.limiter = RateLimiter(
            self.config.rate_limit_per_minute, self.config.ban_after, self.config.ban_s
        )
        self.restrictions: dict[str, Any] = dict(self.config.restrictions)
        self.skew_ms = self.config.skew_ms
        self.log: deque[RequestRecord] = deque(maxlen=5_000)
        self.binance_account: PaperExchange | None = None
        self.okx_account: PaperExchange | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._generation = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0
        from .binance import BinanceApi
        from .okx import OkxApi

        self.binance = BinanceApi(self)
        self.okx = OkxApi(self)

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = self.config.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 20)
        self.binance.register(app.router)
        self.okx.register(app.router)
        self._register_control(app.router)
        return app

    async def start(self) -> str:
        """Open the paper accounts, listen, return the base URL."""
        await self._open_accounts()
        app = self.make_app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.config.port
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._close_accounts()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def _open_accounts(self) -> None:
        cfg = self.config
        if cfg.state_dir is None:
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="cb-exchange-")
            folder = Path(self._tmp.name)
        else:
            folder = cfg.state_dir
            folder.mkdir(parents=True, exist_ok=True)
        suffix = f"-{self._generation}" if self._generation else ""
        speed = cfg.speed
        common: dict[str, Any] = {
            "market_data_dir": cfg.market_data_dir,
            "dataset": cfg.dataset,
            "starting_balances": cfg.balances,
            "speed": speed,
            "replay_start_ms": cfg.replay_start_ms,
        }
        binance_state = folder / f"binance{suffix}.sqlite"
        known = await saved_orders(binance_state)
        self.binance_account = await PaperExchange.open(state_path=binance_state, **common)
        # The OKX account starts where the Binance one is, so both replay the same moment.
        common["replay_start_ms"] = self.binance_account.replay.now_ms()
        okx_state = folder / f"okx{suffix}.sqlite"
        okx_known = await saved_orders(okx_state)
        self.okx_account = await PaperExchange.open(state_path=okx_state, **common)
        self.binance.restore(known, folder / f"binance{suffix}-client-ids.json")
        self.okx.restore(okx_known)

    async def _close_accounts(self) -> None:
        for account in (self.binance_account, self.okx_account):
            if account is not None:
                with contextlib.suppress(Exception):
                    await account.close()
        self.binance_account = self.okx_account = None

    # --- clocks ---------------------------------------------------------------------------------

    def server_time_ms(self) -> int:
        """The auth clock: wall-clock ms plus the injected skew."""
        return int(time.time() * 1000) + self.skew_ms

    def replay_ms(self) -> int:
        assert self.binance_account is not None
        return self.binance_account.replay.now_ms()

    # --- Python control API ---------------------------------------------------------------------

    def add_fault(self, fault: Fault | Mapping[str, Any]) -> Fault:
        item = fault if isinstance(fault, Fault) else Fault.from_dict(dict(fault))
        self.faults.add(item)
        return item

    def clear_faults(self) -> None:
        self.faults.clear()
        self.limiter.reset()

    def set_restrictions(self, **flags: Any) -> dict[str, Any]:
        self.restrictions.update(flags)
        return dict(self.restrictions)

    def set_skew(self, skew_ms: int) -> None:
        self.skew_ms = int(skew_ms)

    def set_speed(self, speed: ReplaySpeed | str) -> None:
        value = ReplaySpeed(speed)
        for account in self._accounts():
            account.replay.set_speed(value)

    def advance_replay(self, ms: int) -> int:
        """Move market time forward by ``ms`` on both accounts; returns the new replay time."""
        for account in self._accounts():
            account.replay.step(int(ms))
        return self.replay_ms()

    async def reset(self, *, accounts: bool = False) -> None:
        """Clear faults, rate limits, skew and restrictions; with ``accounts``, start fresh paper accounts."""
        self.clear_faults()
        self.skew_ms = 0
        self.restrictions = dict(self.config.restrictions)
        if accounts:
            await self._close_accounts()
            self._generation += 1
            await self._open_accounts()

    def requests(self) -> list[RequestRecord]:
        return list(self.log)

    def state(self) -> dict[str, Any]:
        replay = self.binance_account.replay if self.binance_account else None
        return {
            "base_url": self.base_url,
            "server_time": self.server_time_ms(),
            "skew_ms": self.skew_ms,
            "replay_ms": replay.now_ms() if replay else None,
            "replay_start_ms": replay.start_ms if replay else None,
            "replay_end_ms": replay.end_ms if replay else None,
            "speed": replay.speed.value if replay else None,
            "dataset": self.config.dataset,
            "faults": [f.to_dict() for f in self.faults.list()],
            "restrictions": dict(self.restrictions),
            "rate_limited_until": self.limiter.limited_until,
            "banned_until": self.limiter.banned_until,
            "requests": len(self.log),
        }

    def _accounts(self) -> list[PaperExchange]:
        return [a for a in (self.binance_account, self.okx_account) if a is not None]

    # --- middleware: logging, rate limits, faults -------------------------------------------------

    def record(self, request: web.Request, status: int, note: str = "") -> None:
        key = request.headers.get("X-MBX-APIKEY") or request.headers.get("OK-ACCESS-KEY")
        log.info("%s %s -> %s %s", request.method, request.path_qs, status, note)
        self.log.append(
            RequestRecord(
                request.method,
                request.path,
                request.rel_url.raw_query_string,
                status,
                key,
                int(time.time() * 1000),
                note,
            )
        )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_control/"):
            if request.remote not in LOCAL_HOSTS:
                return json_response({"error": "control endpoints answer 127.0.0.1 only"}, 403)
            try:
                return await handler(request)
            except (ValueError, KeyError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        okx = request.path.startswith("/api/v5/")
        await request.read()  # the whole body now: a client that gives up while we delay loses nothing sent
        now = time.time()
        hits = self.faults.take(request.method, request.path)
        for fault in hits:
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay_ms / 1000)
        window = [f for f in hits if f.kind == "rate_limit"]
        if window:  # this request opens the window; the ones sent inside it count as ignoring it
            self.limiter.start_window(now, window[-1].retry_after_s)
            limited: tuple[int, int] | None = (429, max(1, window[-1].retry_after_s))
        else:
            limited = self.limiter.check(time.time())
        if limited is not None:
            status, retry = limited
            response = (
                self.okx.rate_limited(status, retry) if okx else self.binance.rate_limited(status, retry)
            )
            self.record(request, status, "rate limited")
            return response
        kinds = {f.kind: f for f in hits}
        if "drop_before" in kinds:
            self.record(request, 0, "dropped before handling")
            return await self._drop(request)
        if "status" in kinds:
            fault = kinds["status"]
            content_type, body = DEFAULT_STATUS_BODIES.get(fault.status, ("text/plain", "error"))
            if fault.body is not None:
                body = fault.body
                content_type = "application/json" if body.lstrip().startswith("{") else "text/plain"
            self.record(request, fault.status, "injected status")
            return web.Response(
                status=fault.status, body=body.encode(), content_type=content_type.split(";")[0]
            )
        note = ""
        try:
            response = await handler(request)
        except ApiError as err:
            response = err.response()
            note = str(err.body.get("msg", ""))
        except web.HTTPException as exc:
            if exc.status == 404:
                log.warning("unknown path %s %s", request.method, request.path_qs)
            self.record(request, exc.status, "http exception")
            raise
        if "drop_after" in kinds:
            self.record(request, response.status, "handled, reply dropped")
            return await self._drop(request)
        if "malformed" in kinds and isinstance(response, web.Response) and response.text is not None:
            text = response.text
            self.record(request, 200, "malformed reply")
            return web.Response(
                status=200, text=text[: max(1, len(text) // 2)], content_type="application/json"
            )
        if not okx:
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.limiter.used_weight())
        self.record(request, response.status, note)
        return response

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without a reply (the client sees the server disconnect)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        # The handler must still return something; aiohttp finds the transport gone and writes nothing.
        raise asyncio.CancelledError

    # --- control endpoints ------------------------------------------------------------------------

    def _register_control(self, router: web.UrlDispatcher) -> None:
        router.add_get("/_control/state", self._ctl_state)
        router.add_post("/_control/faults", self._ctl_faults)
        router.add_delete("/_control/faults", self._ctl_clear_faults)
        router.add_post("/_control/restrictions", self._ctl_restrictions)
        router.add_post("/_control/clock", self._ctl_clock)
        router.add_post("/_control/replay", self._ctl_replay)
        router.add_post("/_control/reset", self._ctl_reset)
        router.add_get("/_control/requests", self._ctl_requests)
        router.add_delete("/_control/requests", self._ctl_clear_requests)

    async def _json(self, request: web.Request) -> Any:
        text = await request.text()
        return json.loads(text) if text.strip() else {}

    async def _ctl_state(self, request: web.Request) -> web.Response:
        return json_response(self.state())

    async def _ctl_faults(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        items = data if isinstance(data, list) else data.get("add", data)
        if isinstance(data, dict) and data.get("clear"):
            self.clear_faults()
            items = data.get("add", [])
        for item in items if isinstance(items, list) else [items]:
            if item:
                self.add_fault(item)
        return json_response({"faults": [f.to_dict() for f in self.faults.list()]})

    async def _ctl_clear_faults(self, request: web.Request) -> web.Response:
        self.clear_faults()
        return json_response({"faults": []})

    async def _ctl_restrictions(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        if data.pop("reset", False):
            self.restrictions = dict(self.config.restrictions)
        return json_response(self.set_restrictions(**data))

    async def _ctl_clock(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        self.set_skew(int(data.get("skew_ms", 0)))
        return json_response({"skew_ms": self.skew_ms, "server_time": self.server_time_ms()})

    async def _ctl_replay(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        if "speed" in data:
            self.set_speed(str(data["speed"]))
        if "to_ms" in data:
            self.advance_replay(max(0, int(data["to_ms"]) - self.replay_ms()))
        if "advance_ms" in data:
            self.advance_replay(int(data["advance_ms"]))
        return json_response({"replay_ms": self.replay_ms(), "speed": self.state()["speed"]})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        await self.reset(accounts=bool(data.get("accounts", False)))
        return json_response(self.state())

    async def _ctl_requests(self, request: web.Request) -> web.Response:
        return json_response([r.to_dict() for r in self.log])

    async def _ctl_clear_requests(self, request: web.Request) -> web.Response:
        self.log.clear()
        return json_response([])


async def saved_orders(state_path: Path) -> list[tuple[str, str]]:
    """``(exchange_order_id, client_order_id)`` of the orders saved in a paper state file (none if new)."""
    if not state_path.exists():
        return []
    store = await StateStore.open(state_path)
    try:
        saved = await store.load()
    finally:
        await store.close()
    if saved is None:
        return []
    return [(s.order.exchange_order_id, s.order.client_order_id) for s in saved.orders]


def new_client_order_id() -> str:
    """What Binance makes up when no newClientOrderId is sent: 22 URL-safe characters."""
    return secrets.token_urlsafe(16)[:22].replace("-", "x").replace("_", "y")
