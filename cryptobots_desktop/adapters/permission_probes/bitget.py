"""Bitget: GET /api/v2/spot/account/info (``private_spot_get_v2_spot_account_info``).

``authorities`` holds codes: "stow" spot trade, "smow" margin, "coow"/"cpow" futures orders/holdings,
"wwow" withdrawals (read-only codes end in "r"). The documented example still shows the older words
["trade", "readonly"], which say nothing about withdrawals, margin or futures: those stay unknown then.
``ips`` is the comma-separated IP whitelist, "" when none. No expiry is reported.
"""

from __future__ import annotations

from typing import Any

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, mapping, tokens
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions

READ_CODES = ("coor", "cpor", "stor", "smor", "ttor", "wtor", "taxr", "chor", "p2pr", "pllr")
WRITE_CODES = ("coow", "cpow", "stow", "smow", "ttow", "wtow", "wwow", "chow", "p2pw", "pllw", "taxw")
CODES = frozenset(READ_CODES + WRITE_CODES)


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    d = mapping(mapping(answer).get("data"))
    auth = tokens(d.get("authorities"))
    ips = addresses(d.get("ips"))
    coded = auth is not None and bool(auth & CODES)
    read_only = auth is not None and not coded and auth <= {"readonly"} and bool(auth)

    def granted(*codes: str, word: str | None = None) -> bool | None:
        if auth is None:
            return None
        if any(c in auth for c in codes) or (word is not None and word in auth):
            return True
        return False if coded or read_only else None

    return KeyPermissions(
        exchange_id="bitget",
        read=None if auth is None else True,  # this request needs the spot read permission
        spot_trade=granted("stow", word="trade"),
        margin=granted("smow"),
        futures=granted("coow", "cpow"),
        withdraw=granted("wwow"),
        ip_restricted=None if ips is None else bool(ips),
        ip_whitelist=ips or (),
        checked_ms=checked_ms,
        raw_fields=present(d, ("authorities", "ips")),
    )


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    return await x.private_spot_get_v2_spot_account_info()


PROBE = Probe("bitget", "GET /api/v2/spot/account/info", ask, read)
