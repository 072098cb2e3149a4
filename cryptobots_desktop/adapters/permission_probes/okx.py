"""OKX: GET /api/v5/account/config (``private_get_account_config``).

``perm`` is "read_only,trade,withdraw" or a subset; ``ip`` is the comma-separated IP list, "" when none.
No per-key margin/derivatives flag: a trading key trades whatever the account level allows, and
``acctLv`` 1 (spot mode) allows no margin or derivatives. No expiry is reported.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, has, integer, mapping, tokens
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.private_get_account_config()


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    data = mapping(answer).get("data")
    row = mapping(data[0]) if isinstance(data, list) and data else mapping(None)
    perms = tokens(row.get("perm"))
    trade = has(perms, "trade")
    level = integer(row.get("acctLv"))
    beyond_spot = None if level is None else level >= 2
    leveraged = False if trade is False else (beyond_spot if trade is True else None)
    ips = addresses(row.get("ip"))
    return KeyPermissions(
        exchange_id="okx",
        read=has(perms, "read_only"),
        spot_trade=trade,
        margin=leveraged,
        futures=leveraged,
        withdraw=has(perms, "withdraw"),
        ip_restricted=None if ips is None else bool(ips),
        ip_whitelist=ips or (),
        checked_ms=checked_ms,
        raw_fields=present(row, ("perm", "acctLv", "ip")),
    )


PROBE = Probe("okx", "GET /api/v5/account/config", ask, read)
