"""Kraken: POST /0/private/GetApiKeyInfo (``private_post_getapikeyinfo``).

``permissions``: "query-funds" (read), "modify-trades" (trading), "withdraw-funds"; ``ipAllowlist`` []
means no restriction; ``validUntil`` is Unix seconds, "0" for never. Margin and futures are not reported.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, has, integer, mapping, tokens
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.private_post_getapikeyinfo()


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    r = mapping(mapping(answer).get("result"))
    perms = tokens(r.get("permissions"))
    ips = addresses(r.get("ipAllowlist"))
    valid_until = integer(r.get("validUntil"))
    return KeyPermissions(
        exchange_id="kraken",
        read=has(perms, "query-funds"),
        spot_trade=has(perms, "modify-trades"),
        withdraw=has(perms, "withdraw-funds"),
        ip_restricted=None if ips is None else bool(ips),
        ip_whitelist=ips or (),
        expires_ms=valid_until * 1000 if valid_until else None,
        expiry_known=valid_until is not None,
        checked_ms=checked_ms,
        raw_fields=present(r, ("permissions", "ipAllowlist", "validUntil")),
    )


PROBE = Probe("kraken", "POST /0/private/GetApiKeyInfo", ask, read)
