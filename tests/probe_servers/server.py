"""``ProbeServer``: every exchange's handler on one aiohttp server, in a daemon thread of its own."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace
from typing import Any

from aiohttp import web

from tests.probe_servers import binance, bitget, bybit, coinbase, gate, htx, kraken, kucoin, okx
from tests.probe_servers.base import Account, Handler, Received, Reply

HANDLERS: dict[str, Handler] = {
    h.exchange_id: h
    for h in (
        binance.Binance(),
        okx.Okx(),
        bybit.Bybit(),
        kucoin.Kucoin(),
        coinbase.Coinbase(),
        kraken.Kraken(),
        gate.Gate(),
        bitget.Bitget(),
        htx.Htx(),
    )
}
DOWN = Reply(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")


class ProbeServer:
    """The server; ``url(exchange_id)`` is the base URL to point that exchange's ccxt at."""

    def __init__(self, accounts: dict[str, Account]) -> None:
        self._initial = {k: replace(v, extra=dict(v.extra)) for k, v in accounts.items()}
        self.accounts = {k: replace(v, extra=dict(v.extra)) for k, v in accounts.items()}
        self.received: list[tuple[str, Received]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="probe-servers", daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.base_url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)

    def url(self, exchange_id: str) -> str:
        return f"{self.base_url}/{exchange_id}"

    def set(self, exchange_id: str, **changes: Any) -> Account:
        """Change what one exchange's server answers (``variant=``, ``fault=``, ``skew_ms=``)."""
        account = replace(self.accounts[exchange_id], **changes)
        self.accounts[exchange_id] = account
        return account

    def reset(self) -> None:
        self.accounts = {k: replace(v, extra=dict(v.extra)) for k, v in self._initial.items()}
        self.received.clear()

    def requests(self, exchange_id: str) -> list[Received]:
        return [rx for ex, rx in self.received if ex == exchange_id]

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{exchange}/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        exchange_id = request.match_info["exchange"]
        handler = HANDLERS.get(exchange_id)
        if handler is None:
            return web.Response(status=404, text="no such exchange")
        rx = Received(
            method=request.method,
            path="/" + request.match_info["tail"],
            query=request.rel_url.raw_query_string,
            headers=dict(request.headers),
            body=(await request.read()).decode(),
        )
        self.received.append((exchange_id, rx))
        account = self.accounts[exchange_id]
        if (rx.method, rx.path) not in handler.routes + handler.public_routes:
            return web.Response(status=404, text="Not Found")
        reply = self._reply(handler, rx, account)
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        ctype = "text/html" if isinstance(reply.body, str) else "application/json"
        return web.Response(status=reply.status, text=body, content_type=ctype, headers=reply.headers)

    @staticmethod
    def _reply(handler: Handler, rx: Received, account: Account) -> Reply:
        if account.fault == "down":
            return DOWN
        if (rx.method, rx.path) in handler.public_routes:
            return handler.public(rx, account) or Reply(404, "Not Found")
        if account.fault == "rate_limit":
            return handler.refuse("rate_limit", account)
        kind = handler.check(rx, account)
        if kind is not None:
            return handler.refuse(kind, account)
        if account.fault in ("ip", "clock"):
            return handler.refuse(account.fault, account)
        sent = handler.timestamp_ms(rx)
        if sent is not None and abs(sent - account.now_ms()) > 30_000:
            return handler.refuse("clock", account)
        return handler.answer(rx, account)
