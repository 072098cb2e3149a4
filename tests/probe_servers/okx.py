"""OKX: GET /api/v5/account/config, signed with ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN`` = base64
HMAC-SHA256(timestamp + method + path + body), ``OK-ACCESS-TIMESTAMP`` (ISO, ms) and
``OK-ACCESS-PASSPHRASE``. Response shape: ccxt's comment in ``okx.fetch_accounts`` (from OKX's
"Get account configuration"); error codes from OKX's REST error table."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_b64, same

DOCUMENTED: dict[str, Any] = {
    "acctLv": "2",
    "acctStpMode": "cancel_maker",
    "autoLoan": False,
    "ctIsoMode": "automatic",
    "enableSpotBorrow": False,
    "greeksType": "PA",
    "feeType": "0",
    "ip": "",
    "type": "0",
    "kycLv": "3",
    "label": "v5 test",
    "level": "Lv1",
    "levelTmp": "",
    "liquidationGear": "-1",
    "mainUid": "44705892343619584",
    "mgnIsoMode": "automatic",
    "opAuth": "1",
    "perm": "read_only,withdraw,trade",
    "posMode": "long_short_mode",
    "roleType": "0",
    "spotBorrowAutoRepay": False,
    "spotOffsetType": "",
    "spotRoleType": "0",
    "spotTraderInsts": [],
    "traderInsts": [],
    "uid": "44705892343619584",
    "settleCcy": "USDT",
    "settleCcyList": ["USD", "USDC", "USDG"],
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {**DOCUMENTED, "perm": "read_only,trade", "ip": "203.0.113.7,198.51.100.2", "acctLv": "1"},
    "read_only": {**DOCUMENTED, "perm": "read_only"},
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("perm", "ip")},
}
ERRORS = {
    "wrong_key": (401, "50111", "Invalid OK-ACCESS-KEY"),
    "wrong_secret": (401, "50113", "Invalid Sign"),
    "no_passphrase": (401, "50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty."),
    "wrong_passphrase": (401, "50105", "Request header OK-ACCESS-PASSPHRASE incorrect."),
    "ip": (401, "50110", "Your IP 127.0.0.1 is not included in your API key's IP whitelist."),
    "clock": (401, "50102", "Timestamp request expired"),
    "rate_limit": (429, "50011", "Too Many Requests"),
}


class Okx(Handler):
    exchange_id = "okx"
    routes: ClassVar = (("GET", "/api/v5/account/config"),)
    variants: ClassVar = tuple(VARIANTS)

    def check(self, rx: Received, account: Account) -> str | None:
        h = rx.headers
        if h.get("OK-ACCESS-KEY") != account.key:
            return "wrong_key"
        expected = hmac_b64(
            account.secret, h.get("OK-ACCESS-TIMESTAMP", "") + rx.method + rx.path_qs + rx.body
        )
        if not same(h.get("OK-ACCESS-SIGN"), expected):
            return "wrong_secret"
        if not h.get("OK-ACCESS-PASSPHRASE"):
            return "no_passphrase"
        if h.get("OK-ACCESS-PASSPHRASE") != account.passphrase:
            return "wrong_passphrase"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        sent = datetime.fromisoformat(rx.headers["OK-ACCESS-TIMESTAMP"].replace("Z", "+00:00"))
        return int(sent.timestamp() * 1000)

    def refuse(self, kind: str, account: Account) -> Reply:
        status, code, msg = ERRORS[kind]
        return Reply(status, {"code": code, "msg": msg, "data": []})

    def answer(self, rx: Received, account: Account) -> Reply:
        return Reply(200, {"code": "0", "data": [VARIANTS[account.variant]], "msg": ""})
