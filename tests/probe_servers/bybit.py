"""Bybit: GET /v5/user/query-api, signed with ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``,
``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN`` = hex HMAC-SHA256(timestamp + key + recvWindow + query).
Response shape: ccxt's comment in ``bybit.is_unified_enabled`` with the permission values Bybit's
"Get API Key Information" lists (bybit-exchange.github.io/docs/v5/user/apikey-info)."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_hex, same

PERMISSIONS: dict[str, list[str]] = {
    "ContractTrade": ["Order", "Position"],
    "Spot": ["SpotTrade"],
    "Wallet": ["AccountTransfer", "SubMemberTransfer"],
    "Options": ["OptionsTrade"],
    "Derivatives": ["DerivativesTrade"],
    "CopyTrading": [],
    "BlockTrade": [],
    "Exchange": ["ExchangeHistory"],
    "NFT": [],
}
DOCUMENTED: dict[str, Any] = {
    "id": "13770661",
    "note": "XXXXXX",
    "apiKey": "XXXXXX",
    "readOnly": 0,
    "secret": "",
    "permissions": PERMISSIONS,
    "ips": ["*"],
    "type": 1,
    "deadlineDay": 83,
    "expiredAt": "2033-05-15T03:21:05Z",
    "createdAt": "2022-10-16T02:24:40Z",
    "unified": 0,
    "uta": 0,
    "userID": 24600000,
    "inviterID": 0,
    "vipLevel": "No VIP",
    "mktMakerLevel": "0",
    "affiliateID": 0,
    "rsaPublicKey": "",
    "isMaster": False,
}
NOTHING: dict[str, list[str]] = {k: [] for k in PERMISSIONS}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {
        **DOCUMENTED,
        "permissions": {**NOTHING, "Spot": ["SpotTrade"]},
        "ips": ["203.0.113.7"],
        "deadlineDay": 0,
        "expiredAt": "",
    },
    "withdraw": {**DOCUMENTED, "permissions": {**PERMISSIONS, "Wallet": ["AccountTransfer", "Withdraw"]}},
    "read_only": {**DOCUMENTED, "readOnly": 1, "permissions": NOTHING},
    "expired": {**DOCUMENTED, "deadlineDay": 0, "expiredAt": "2023-05-15T03:21:05Z"},
    "deadline_only": {k: v for k, v in DOCUMENTED.items() if k != "expiredAt"},
    "missing": {
        k: v for k, v in DOCUMENTED.items() if k not in ("permissions", "ips", "expiredAt", "deadlineDay")
    },
}
ERRORS = {
    "wrong_key": (10003, "API key is invalid."),
    "wrong_secret": (10004, "Error sign, please check your signature generation algorithm."),
    "ip": (10010, "Unmatched IP, please check your API key's bound IP addresses."),
    "clock": (10002, "invalid request, please check your server timestamp or recv_window param"),
    "rate_limit": (10006, "Too many visits!"),
}


class Bybit(Handler):
    exchange_id = "bybit"
    routes: ClassVar = (("GET", "/v5/user/query-api"),)
    variants: ClassVar = tuple(VARIANTS)

    def check(self, rx: Received, account: Account) -> str | None:
        h = rx.headers
        if h.get("X-BAPI-API-KEY") != account.key:
            return "wrong_key"
        payload = h.get("X-BAPI-TIMESTAMP", "") + account.key + h.get("X-BAPI-RECV-WINDOW", "") + rx.query
        if not same(h.get("X-BAPI-SIGN"), hmac_hex(account.secret, payload)):
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return int(rx.headers["X-BAPI-TIMESTAMP"])

    def refuse(self, kind: str, account: Account) -> Reply:
        code, msg = ERRORS[kind]
        return Reply(
            200, {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": account.now_ms()}
        )

    def answer(self, rx: Received, account: Account) -> Reply:
        result = {**VARIANTS[account.variant], "apiKey": account.key}
        return Reply(
            200, {"retCode": 0, "retMsg": "", "result": result, "retExtInfo": {}, "time": account.now_ms()}
        )
