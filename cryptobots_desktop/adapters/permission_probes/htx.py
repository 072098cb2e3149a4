"""HTX: GET /v2/user/uid (``v2private_get_user_uid``), then GET /v2/user/api-key?uid=&accessKey=
(``v2private_get_user_api_key``).

``permission`` is "readOnly,trade,withdraw" or a subset; ``ipAddresses`` the comma-separated IP list, ""
when none. ``validDays`` is *unconfirmed* (remaining days? -1 for never?): expiry stays unknown.
Margin and futures are not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, has, integer, mapping, tokens
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    uid = integer(mapping(await x.v2private_get_user_uid()).get("data"))
    if uid is None:
        raise ccxt.BadResponse("htx answered no user id")
    return await x.v2private_get_user_api_key({"uid": str(uid), "accessKey": credentials.api_key})


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    rows = [r for r in (mapping(answer).get("data") or ()) if isinstance(r, Mapping)]
    mine = [r for r in rows if r.get("accessKey") == credentials.api_key]
    entry = mapping(mine[0] if mine else (rows[0] if len(rows) == 1 else None))
    perms = tokens(entry.get("permission"))
    ips = addresses(entry.get("ipAddresses"))
    return KeyPermissions(
        exchange_id="htx",
        read=has(perms, "readOnly"),
        spot_trade=has(perms, "trade"),
        withdraw=has(perms, "withdraw"),
        ip_restricted=None if ips is None else bool(ips),
        ip_whitelist=ips or (),
        checked_ms=checked_ms,
        raw_fields=present(entry, ("permission", "ipAddresses")),
    )


PROBE = Probe("htx", "GET /v2/user/uid + GET /v2/user/api-key", ask, read)
