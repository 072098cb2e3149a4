"""Bybit: GET /v5/user/query-api (``private_get_v5_user_query_api``).

``readOnly`` 1 means no trading at all. ``permissions.Spot`` holds "SpotTrade", ``Wallet`` holds
"Withdraw"; ``ContractTrade``/``Derivatives``/``Options`` non-empty means derivatives. Spot margin needs no
key permission of its own (an account setting), so a trading key's margin is unknown. ``ips`` ["*"] or []
is *not confirmed* to mean "no restriction" for this endpoint: unknown. ``expiredAt``/``deadlineDay`` are
given only for keys without an IP bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import (
    DAY_MS,
    addresses,
    any_of,
    has,
    integer,
    iso_ms,
    mapping,
    tokens,
)
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.private_get_v5_user_query_api()


def _nonempty(permissions: Mapping[str, Any], name: str) -> bool | None:
    names = tokens(permissions.get(name))
    return None if names is None else bool(names)


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    r = mapping(mapping(answer).get("result"))
    read_only = integer(r.get("readOnly"))
    p = mapping(r.get("permissions"))
    spot = False if read_only == 1 else has(tokens(p.get("Spot")), "SpotTrade")
    derivatives = any_of(*(_nonempty(p, n) for n in ("ContractTrade", "Derivatives", "Options")))
    ips = addresses(r.get("ips"))
    restricted = bool(ips) and "*" not in ips if ips is not None else False
    expires = iso_ms(r.get("expiredAt"))
    days = integer(r.get("deadlineDay"))
    if expires is None and days is not None and days > 0:
        expires = checked_ms + days * DAY_MS
    return KeyPermissions(
        exchange_id="bybit",
        read=True if read_only in (0, 1) else None,
        spot_trade=spot,
        margin=False if spot is False else None,
        futures=False if read_only == 1 else derivatives,
        withdraw=has(tokens(p.get("Wallet")), "Withdraw"),  # even on a read-only key: never assume safe
        ip_restricted=True if restricted else None,
        ip_whitelist=ips if restricted and ips else (),
        expires_ms=expires,
        expiry_known=expires is not None,
        checked_ms=checked_ms,
        raw_fields=present(r, ("readOnly", "permissions", "ips", "expiredAt", "deadlineDay")),
    )


PROBE = Probe("bybit", "GET /v5/user/query-api", ask, read)
