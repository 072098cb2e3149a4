"""Gate: GET /api/v4/account/detail and GET /api/v4/account/main_keys, signed with ``KEY``, ``Timestamp``
(seconds) and ``SIGN`` = hex HMAC-SHA512(method\\npath\\nquery\\nSHA512(body)\\ntimestamp). Response
shapes: ccxt's comment in ``gate.load_unified_status`` (detail) and Gate's ``AccountKeyInfo`` model
(gateapi-python docs: state, mode, name, currency_pairs, user_id, ip_whitelist, perms, key, times)."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from tests.probe_servers.base import Account, Handler, Received, Reply, hmac_hex, same

DETAIL = "/api/v4/account/detail"
MAIN_KEYS = "/api/v4/account/main_keys"
DOCUMENTED_DETAIL: dict[str, Any] = {
    "user_id": 10406147,
    "ip_whitelist": [],
    "currency_pairs": [],
    "key": {"mode": 1},
    "tier": 0,
    "tier_expire_time": "0001-01-01T00:00:00Z",
    "copy_trading_role": 0,
}


def perms(**writable: bool) -> list[dict[str, Any]]:
    return [{"name": name, "read_only": not rw} for name, rw in writable.items()]


def key_info(permissions: list[dict[str, Any]], ips: list[str], key: Any = None) -> dict[str, Any]:
    return {
        "state": 1,
        "mode": 1,
        "name": [],
        "currency_pairs": [],
        "user_id": 10406147,
        "ip_whitelist": ips,
        "perms": permissions,
        "key": key if key is not None else {"mode": 1},
        "created_at": "2024-07-01T08:00:00Z",
        "updated_at": "2024-07-01T08:00:00Z",
        "last_access": "2024-07-02T08:00:00Z",
    }


def variant(name: str, account: Account) -> tuple[dict[str, Any], Any]:
    """(detail, main_keys) for a variant; main_keys None: refused with FORBIDDEN."""
    mine = f"{account.key[:4]}****{account.key[-4:]}"
    ips = ["203.0.113.7"]
    table: dict[str, tuple[dict[str, Any], Any]] = {
        "documented": (DOCUMENTED_DETAIL, [key_info(perms(spot=True, wallet=False), [])]),
        "safe": ({**DOCUMENTED_DETAIL, "ip_whitelist": ips}, [key_info(perms(spot=True, wallet=False), ips)]),
        "derivatives": (DOCUMENTED_DETAIL, [key_info(perms(spot=True, margin=True, futures=True), [])]),
        "read_only": (DOCUMENTED_DETAIL, [key_info(perms(spot=False, wallet=False, futures=False), [])]),
        "several_keys": (
            DOCUMENTED_DETAIL,
            [
                key_info(perms(spot=True, futures=True), [], key="zzzz****zzzz"),
                key_info(perms(spot=False), [], key=mine),
            ],
        ),
        "unmatched": (
            DOCUMENTED_DETAIL,
            [key_info(perms(spot=True), []), key_info(perms(spot=False), [])],
        ),
        "missing": (
            {k: v for k, v in DOCUMENTED_DETAIL.items() if k != "ip_whitelist"},
            [{"state": 1, "mode": 1}],
        ),
        "main_keys_forbidden": ({**DOCUMENTED_DETAIL, "ip_whitelist": ips}, None),
    }
    return table[name]


VARIANT_NAMES = (
    "documented",
    "safe",
    "derivatives",
    "read_only",
    "several_keys",
    "unmatched",
    "missing",
    "main_keys_forbidden",
)
ERRORS = {
    "wrong_key": (401, "INVALID_KEY", "Invalid key provided"),
    "wrong_secret": (401, "INVALID_SIGNATURE", "Signature mismatch"),
    "ip": (403, "IP_FORBIDDEN", "Request IP not in whitelist: 127.0.0.1"),
    "clock": (401, "REQUEST_EXPIRED", "Request Timestamp is far from the server time"),
    "rate_limit": (429, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded"),
}


class Gate(Handler):
    exchange_id = "gate"
    routes: ClassVar = (("GET", DETAIL), ("GET", MAIN_KEYS))
    variants: ClassVar = VARIANT_NAMES

    def check(self, rx: Received, account: Account) -> str | None:
        h = rx.headers
        if h.get("KEY") != account.key:
            return "wrong_key"
        body_hash = hashlib.sha512(rx.body.encode()).hexdigest()
        payload = "\n".join([rx.method, rx.path, rx.query, body_hash, h.get("Timestamp", "")])
        if not same(h.get("SIGN"), hmac_hex(account.secret, payload, "sha512")):
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        return int(rx.headers["Timestamp"]) * 1000

    def refuse(self, kind: str, account: Account) -> Reply:
        status, label, message = ERRORS[kind]
        return Reply(status, {"label": label, "message": message})

    def answer(self, rx: Received, account: Account) -> Reply:
        detail, main_keys = variant(account.variant, account)
        if rx.path == DETAIL:
            return Reply(200, detail)
        if main_keys is None:
            return Reply(403, {"label": "FORBIDDEN", "message": "Forbidden"})
        return Reply(200, main_keys)
