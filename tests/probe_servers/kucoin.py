"""KuCoin: GET /api/v1/user/api-key, signed with ``KC-API-KEY``, ``KC-API-TIMESTAMP``, ``KC-API-SIGN`` =
base64 HMAC-SHA256(timestamp + method + endpoint + body) and, for key version 2, ``KC-API-PASSPHRASE`` =
base64 HMAC-SHA256 of the passphrase. Response shape: KuCoin's "Get API Key Info" (docs-new; ``permission``
and ``ipWhitelist`` are comma-separated strings, IPs masked). Error codes 400002-400006 from KuCoin's
REST error table."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_b64, same

DOCUMENTED: dict[str, Any] = {
    "remark": "account1",
    "apiKey": "6705f5c311545b000157d3eb",
    "apiVersion": 3,
    "permission": "General,Futures,Spot,Earn,InnerTransfer,Transfer,Margin",
    "ipWhitelist": "203.**.154,103.**.34",
    "createdAt": 1728443843000,
    "uid": 165111215,
    "isMaster": True,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {**DOCUMENTED, "permission": "General,Spot", "ipWhitelist": "203.0.113.7"},
    "read_only": {**DOCUMENTED, "permission": "General", "ipWhitelist": ""},
    "legacy_trade": {**DOCUMENTED, "apiVersion": 2, "permission": "General,Trade", "ipWhitelist": ""},
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("permission", "ipWhitelist")},
}
ERRORS = {
    "wrong_key": (401, "400003", "KC-API-KEY not exists"),
    "wrong_secret": (401, "400005", "Signature error"),
    "wrong_passphrase": (401, "400004", "Invalid KC-API-PASSPHRASE"),
    "ip": (401, "400006", "The requested ip address is not in the api whitelist"),
    "clock": (
        401,
        "400002",
        "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds",
    ),
    "rate_limit": (429, "429000", "Too many requests. System-level rate limit exceeded."),
}


class Kucoin(Handler):
    exchange_id = "kucoin"
    routes: ClassVar = (("GET", "/api/v1/user/api-key"),)
    variants: ClassVar = tuple(VARIANTS)

    def check(self, rx: Received, account: Account) -> str | None:
        h = rx.headers
        if h.get("KC-API-KEY") != account.key:
            return "wrong_key"
        payload = h.get("KC-API-TIMESTAMP", "") + rx.method + rx.path_qs + rx.body
        if not same(h.get("KC-API-SIGN"), hmac_b64(account.secret, payload)):
            return "wrong_secret"
        if h.get("KC-API-KEY-VERSION") != "2" or not same(
            h.get("KC-API-PASSPHRASE"), hmac_b64(account.secret, account.passphrase)
        ):
            return "wrong_passphrase"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return int(rx.headers["KC-API-TIMESTAMP"])

    def refuse(self, kind: str, account: Account) -> Reply:
        status, code, msg = ERRORS[kind]
        return Reply(status, {"code": code, "msg": msg})

    def answer(self, rx: Received, account: Account) -> Reply:
        return Reply(200, {"code": "200000", "data": VARIANTS[account.variant]})
