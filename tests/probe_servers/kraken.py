"""Kraken: POST /0/private/GetApiKeyInfo with a form body ``nonce=...``, ``API-Key`` and ``API-Sign`` =
base64 HMAC-SHA512(base64-decoded secret, path + SHA256(nonce + body)). Response shape: Kraken's
"Get API Key Info" example (docs.kraken.com/api-reference/account-data/get-api-key-info). Errors are
HTTP 200 with ``error`` strings; Kraken signs no timestamp (its nonce only increases)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_digest, same

PATH = "/0/private/GetApiKeyInfo"
DOCUMENTED: dict[str, Any] = {
    "apiKeyName": "my-api-key",
    "apiKey": "4/SDrDBcOOPnm3nPlNfEMMJDeRcIVqPz+QhRxIodyZbI9po/aVRiHsgX",
    "nonce": "1772627060997",
    "nonceWindow": 0,
    "permissions": ["query-funds", "withdraw-funds", "query-open-trades", "modify-trades"],
    "iban": "AA88 N84G WOAK NMOI",
    "validUntil": "0",
    "queryFrom": "0",
    "queryTo": "0",
    "createdTime": "1772542900",
    "modifiedTime": "1772543095",
    "ipAllowlist": [],
    "lastUsed": "1772627061",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "safe": {
        **DOCUMENTED,
        "permissions": [
            "query-funds",
            "query-open-trades",
            "query-closed-trades",
            "modify-trades",
            "cancel-close-trades",
        ],
        "ipAllowlist": ["203.0.113.7"],
    },
    "read_only": {**DOCUMENTED, "permissions": ["query-funds", "query-open-trades"]},
    "expiring": {**DOCUMENTED, "validUntil": "2000000000"},
    "missing": {k: v for k, v in DOCUMENTED.items() if k not in ("permissions", "ipAllowlist", "validUntil")},
}
ERRORS = {
    "wrong_key": "EAPI:Invalid key",
    "wrong_secret": "EAPI:Invalid key",  # Kraken names a bad signature "Invalid key" too
    "ip": "EGeneral:Permission denied",
    "clock": "EAPI:Invalid nonce",
    "rate_limit": "EAPI:Rate limit exceeded",
}


class Kraken(Handler):
    exchange_id = "kraken"
    routes: ClassVar = (("POST", PATH),)
    variants: ClassVar = tuple(VARIANTS)

    def check(self, rx: Received, account: Account) -> str | None:
        if rx.headers.get("API-Key") != account.key:
            return "wrong_key"
        nonce = dict(parse_qsl(rx.body)).get("nonce", "")
        message = PATH.encode() + hashlib.sha256((nonce + rx.body).encode()).digest()
        expected = base64.b64encode(hmac_digest(base64.b64decode(account.secret), message, "sha512")).decode()
        if not nonce or not same(rx.headers.get("API-Sign"), expected):
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return None

    def refuse(self, kind: str, account: Account) -> Reply:
        return Reply(200, {"error": [ERRORS[kind]]})

    def answer(self, rx: Received, account: Account) -> Reply:
        return Reply(200, {"error": [], "result": VARIANTS[account.variant]})
