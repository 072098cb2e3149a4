"""KuCoin: GET /api/v1/user/api-key (``private_get_user_api_key``).

``permission`` is a comma-separated list: "General" (read), "Spot" (older keys: "Trade"), "Margin",
"Futures", "Transfer" (withdrawals; "InnerTransfer" is between own accounts). ``ipWhitelist`` listed
means restricted; an empty one is *not confirmed* to mean "none": unknown. No expiry is reported.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, has, mapping, tokens
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.private_get_user_api_key()


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    d = mapping(mapping(answer).get("data"))
    perms = tokens(d.get("permission"))
    legacy_trade = perms is not None and "Trade" in perms  # a v2 key's "Trade" covers spot and margin
    margin = has(perms, "Margin")
    ips = addresses(d.get("ipWhitelist"))
    return KeyPermissions(
        exchange_id="kucoin",
        read=has(perms, "General"),
        spot_trade=has(perms, "Spot", "Trade"),
        margin=None if legacy_trade and not margin else margin,
        futures=has(perms, "Futures"),
        withdraw=has(perms, "Transfer"),
        ip_restricted=True if ips else None,
        ip_whitelist=ips or (),
        checked_ms=checked_ms,
        raw_fields=present(d, ("permission", "ipWhitelist")),
    )


PROBE = Probe("kucoin", "GET /api/v1/user/api-key", ask, read)
