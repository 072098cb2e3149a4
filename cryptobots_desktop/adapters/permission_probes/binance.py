"""Binance: GET /sapi/v1/account/apiRestrictions (``sapi_get_account_apirestrictions``).

Never ``load_markets`` first: with keys set it makes a signed sapi call that would fail for its own reasons.
``enablePortfolioMarginTrading``/``enableVanillaOptions`` are optional (absent on older keys); the IP
list itself is not in this answer, only whether one is set. ``tradingAuthorityExpirationTime`` (older
keys without an IP restriction) is when spot trading stops working.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import flag, integer, mapping, with_optional
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions

FIELDS = (
    "enableReading",
    "enableSpotAndMarginTrading",
    "enableMargin",
    "enableFutures",
    "enablePortfolioMarginTrading",
    "enableVanillaOptions",
    "enableWithdrawals",
    "ipRestrict",
    "tradingAuthorityExpirationTime",
)


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.sapi_get_account_apirestrictions()


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    a = mapping(answer)
    portfolio = flag(a.get("enablePortfolioMarginTrading"))
    expiry = integer(a.get("tradingAuthorityExpirationTime"))
    return KeyPermissions(
        exchange_id="binance",
        read=flag(a.get("enableReading")),
        spot_trade=flag(a.get("enableSpotAndMarginTrading")),
        margin=with_optional(flag(a.get("enableMargin")), portfolio),
        futures=with_optional(flag(a.get("enableFutures")), portfolio, flag(a.get("enableVanillaOptions"))),
        withdraw=flag(a.get("enableWithdrawals")),
        ip_restricted=flag(a.get("ipRestrict")),
        expires_ms=expiry if expiry else None,  # 0: no expiry
        expiry_known=expiry is not None,
        checked_ms=checked_ms,
        raw_fields=present(a, FIELDS),
    )


PROBE = Probe("binance", "GET /sapi/v1/account/apiRestrictions", ask, read)
