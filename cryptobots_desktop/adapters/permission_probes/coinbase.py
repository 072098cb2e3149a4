"""Coinbase Advanced: GET /api/v3/brokerage/key_permissions (``v3_private_get_brokerage_key_permissions``).

``can_view``/``can_trade``/``can_transfer``; IP restrictions, expiry, margin and derivatives are not
reported. The secret is the key's EC private key (PEM, several lines); ccxt signs an ES256 JWT with it.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import flag, mapping
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.v3_private_get_brokerage_key_permissions()


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    a = mapping(answer)
    return KeyPermissions(
        exchange_id="coinbase",
        read=flag(a.get("can_view")),
        spot_trade=flag(a.get("can_trade")),
        withdraw=flag(a.get("can_transfer")),
        checked_ms=checked_ms,
        raw_fields=present(a, ("can_view", "can_trade", "can_transfer")),
    )


PROBE = Probe("coinbase", "GET /api/v3/brokerage/key_permissions", ask, read)
