"""Bitget: GET /api/v2/spot/account/info, signed with ``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` (ms),
``ACCESS-PASSPHRASE`` and ``ACCESS-SIGN`` = base64 HMAC-SHA256(timestamp + method + path + body).
Response shape: Bitget's "Get Account Information" example (its ``authorities`` still shows the older
words "trade"/"readonly"; the field's description lists the codes stow, wwow...). Error codes 40006-40018
and 429 from Bitget's error table as ccxt maps them."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_b64, same

DOCUMENTED: dict[str, Any] = {
    "userId": "**********",
    "inviterId": "**********",
    "ips": "127.0.0.1",
    "authorities": ["trade", "readonly"],
    "parentId": 1,
    "traderType": "trader",
    "channelCode": "XXX",
    "channel": "YYY",
    "regisTime": "1246566789345",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {**DOCUMENTED, "authorities": ["stor", "stow"], "ips": "203.0.113.7"},
    "withdraw": {**DOCUMENTED, "authorities": ["stor", "stow", "wtow", "wwow"], "ips": ""},
    "derivatives": {**DOCUMENTED, "authorities": ["stow", "smow", "coow", "cpow"], "ips": "203.0.113.7"},
    "read_only": {**DOCUMENTED, "authorities": ["stor", "coor"], "ips": ""},
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("authorities", "ips")},
}
ERRORS = {
    "wrong_key": (400, "40006", "Invalid ACCESS_KEY"),
    "wrong_secret": (400, "40009", "sign signature error"),
    "no_passphrase": (400, "40011", "ACCESS_PASSPHRASE cannot be empty"),
    "wrong_passphrase": (400, "40012", "apikey/password is incorrect"),
    "ip": (400, "40018", "Invalid IP"),
    "clock": (400, "40008", "Request timestamp expired"),
    "rate_limit": (429, "429", "Too Many Requests"),
}


class Bitget(Handler):
    exchange_id = "bitget"
    routes: ClassVar = (("GET", "/api/v2/spot/account/info"),)
    variants: ClassVar = tuple(VARIANTS)

    def check(self, rx: Received, account: Account) -> str | None:
        h = rx.headers
        if h.get("ACCESS-KEY") != account.key:
            return "wrong_key"
        payload = h.get("ACCESS-TIMESTAMP", "") + rx.method + rx.path_qs + rx.body
        if not same(h.get("ACCESS-SIGN"), hmac_b64(account.secret, payload)):
            return "wrong_secret"
        if not h.get("ACCESS-PASSPHRASE"):
            return "no_passphrase"
        if h.get("ACCESS-PASSPHRASE") != account.passphrase:
            return "wrong_passphrase"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return int(rx.headers["ACCESS-TIMESTAMP"])

    def refuse(self, kind: str, account: Account) -> Reply:
        status, code, msg = ERRORS[kind]
        return Reply(status, {"code": code, "msg": msg, "requestTime": account.now_ms(), "data": None})

    def answer(self, rx: Received, account: Account) -> Reply:
        body = {"code": "00000", "msg": "success", "requestTime": account.now_ms()}
        return Reply(200, {**body, "data": VARIANTS[account.variant]})
