"""Binance: GET /sapi/v1/account/apiRestrictions, signed with ``X-MBX-APIKEY`` and a hex HMAC-SHA256
``signature`` of the query (``timestamp``, ``recvWindow``). Response shape: Binance's "Get API Key
Permission (USER_DATA)" example (developers.binance.com/docs/wallet/account/api-key-permission)."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_hex, same

DOCUMENTED: dict[str, Any] = {
    "ipRestrict": False,
    "createTime": 1698645219000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": True,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": True,
}
OLDER_KEY = {  # before the portfolio-margin, options and FIX fields, with a trading-authority expiry
    "ipRestrict": False,
    "createTime": 1623840271000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": True,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": True,
    "enableSpotAndMarginTrading": True,
    "tradingAuthorityExpirationTime": 1628985600000,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {
        **DOCUMENTED,
        "ipRestrict": True,
        "enableSpotAndMarginTrading": True,
        "enablePortfolioMarginTrading": False,
    },
    "withdraw": {
        **DOCUMENTED,
        "ipRestrict": True,
        "enableWithdrawals": True,
        "enableSpotAndMarginTrading": True,
    },
    "read_only": {**DOCUMENTED, "enablePortfolioMarginTrading": False},
    "futures": {**DOCUMENTED, "enableFutures": True, "enablePortfolioMarginTrading": False},
    "expiring": OLDER_KEY,
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("enableWithdrawals", "ipRestrict")},
}
ERRORS = {
    "wrong_key": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "ip": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "wrong_secret": (400, -1022, "Signature for this request is not valid."),
    "clock": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "rate_limit": (
        429,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute.",
    ),
}


class Binance(Handler):
    exchange_id = "binance"
    routes: ClassVar = (("GET", "/sapi/v1/account/apiRestrictions"),)
    public_routes: ClassVar = (("GET", "/api/v3/time"),)
    variants: ClassVar = tuple(VARIANTS)

    def public(self, rx: Received, account: Account) -> Reply | None:
        """GET /api/v3/time (ccxt's clock resync) when ``extra["serve_time"]``; else 404 like the others."""
        return Reply(200, {"serverTime": account.now_ms()}) if account.extra.get("serve_time") else None

    def check(self, rx: Received, account: Account) -> str | None:
        if rx.headers.get("X-MBX-APIKEY") != account.key:
            return "wrong_key"
        signed, _, signature = rx.query.rpartition("&signature=")
        if not signed or not same(signature, hmac_hex(account.secret, signed)):
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return int(rx.param("timestamp") or 0)

    def refuse(self, kind: str, account: Account) -> Reply:
        status, code, msg = ERRORS[kind]
        return Reply(status, {"code": code, "msg": msg}, {"Retry-After": "7"} if kind == "rate_limit" else {})

    def answer(self, rx: Received, account: Account) -> Reply:
        return Reply(200, VARIANTS[account.variant])
