"""HTX: GET /v2/user/uid, then GET /v2/user/api-key?uid=&accessKey=, signed in the query:
``AccessKeyId``, ``SignatureMethod=HmacSHA256``, ``SignatureVersion=2``, ``Timestamp`` (UTC, seconds)
and ``Signature`` = base64 HMAC-SHA256("GET\\n" + host + "\\n" + path + "\\n" + sorted query). The host
signed is ccxt's ``hostname`` (api.huobi.pro), not the local one. Response shape: HTX's "Query API key
information" (accessKey, note, permission, ipAddresses, validDays, status, createTime, updateTime).
Errors in HTX's older ``err-code``/``err-msg`` form; the IP and timestamp messages are *unconfirmed*."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import unquote

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_b64, same

UID = 12345678
DOCUMENTED: dict[str, Any] = {
    "note": "bot",
    "permission": "readOnly,trade,withdraw",
    "ipAddresses": "",
    "validDays": -1,
    "status": "normal",
    "createTime": 1591348751000,
    "updateTime": 1591348751000,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {**DOCUMENTED, "permission": "readOnly,trade", "ipAddresses": "203.0.113.7,198.51.100.2"},
    "read_only": {**DOCUMENTED, "permission": "readOnly", "validDays": 80},
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("permission", "ipAddresses")},
}
SIGNATURE_NOT_VALID = "api-signature-not-valid"
ERRORS = {
    "wrong_key": (200, SIGNATURE_NOT_VALID, "Signature not valid: Incorrect Access key [Access key错误]"),
    "wrong_secret": (200, SIGNATURE_NOT_VALID, "Signature not valid: Verification failure [校验失败]"),
    "ip": (200, SIGNATURE_NOT_VALID, "Signature not valid: Incorrect IP address [IP地址错误]"),
    "clock": (200, SIGNATURE_NOT_VALID, "Signature not valid: Timestamp expired [时间戳过期]"),
    "rate_limit": (429, "rate-too-many-requests", "exceeded rate limit"),
}


class Htx(Handler):
    exchange_id = "htx"
    routes: ClassVar = (("GET", "/v2/user/uid"), ("GET", "/v2/user/api-key"))
    variants: ClassVar = tuple(VARIANTS)
    hostname = "api.huobi.pro"

    def check(self, rx: Received, account: Account) -> str | None:
        if rx.param("AccessKeyId") != account.key:
            return "wrong_key"
        signed, _, signature = rx.query.rpartition("&Signature=")
        payload = "\n".join([rx.method, self.hostname, rx.path, signed])
        if not signed or not same(unquote(signature), hmac_b64(account.secret, payload)):
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        sent = datetime.strptime(rx.param("Timestamp") or "", "%Y-%m-%dT%H:%M:%S")
        return int(sent.replace(tzinfo=timezone.utc).timestamp() * 1000)  # noqa: UP017

    def refuse(self, kind: str, account: Account) -> Reply:
        status, code, msg = ERRORS[kind]
        return Reply(status, {"status": "error", "err-code": code, "err-msg": msg, "data": None})

    def answer(self, rx: Received, account: Account) -> Reply:
        if rx.path == "/v2/user/uid":
            return Reply(200, {"code": 200, "data": UID})
        if rx.param("uid") != str(UID) or rx.param("accessKey") != account.key:
            return Reply(200, {"code": 2002, "message": "invalid field value", "ok": False})
        row = {"accessKey": account.key, **VARIANTS[account.variant]}
        return Reply(200, {"code": 200, "message": "success", "data": [row], "ok": True})
