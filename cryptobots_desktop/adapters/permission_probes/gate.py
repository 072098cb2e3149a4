"""Gate: GET /api/v4/account/detail (``private_account_get_detail``: the key's ``ip_whitelist``) and
GET /api/v4/account/main_keys (``private_account_get_main_keys``: ``perms`` of {name, read_only}).

main_keys may list several keys, each with a masked ``key``: the probe reads only the one that matches
this key (or the only one); otherwise the capabilities stay unknown. "spot" covers spot and margin;
"futures"/"delivery"/"options" writable mean derivatives. Gate has no withdrawal flag ("wallet" writable
probably allows it, *unconfirmed*): withdrawals are always unknown. No expiry is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters.permission_probes.base import Probe, present
from cryptobots_desktop.adapters.permission_probes.reading import addresses, flag, mapping
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions

_MASK = re.compile(r"[*•.]{2,}")
DERIVATIVES = ("futures", "delivery", "options")


async def ask(x: Any, credentials: ApiCredentials) -> Any:
    detail = await x.private_account_get_detail()
    try:
        keys = await x.private_account_get_main_keys()
    except (ccxt.PermissionDenied, ccxt.BadRequest):  # e.g. a sub-account's key: the IPs are still known
        keys = None
    return {"detail": detail, "main_keys": keys}


def _matches(shown: str, api_key: str) -> bool:
    parts = _MASK.split(shown)
    if len(parts) == 1:
        return shown == api_key
    head, tail = parts[0], parts[-1]
    return len(head) >= 4 and api_key.startswith(head) and api_key.endswith(tail)


def own_key(main_keys: Any, api_key: str) -> Mapping[str, Any] | None:
    """The entry of main_keys describing ``api_key``, if it can be told apart; else None."""
    listed = main_keys if isinstance(main_keys, list) else [main_keys]
    entries = [e for e in listed if isinstance(e, Mapping)]
    named = [e for e in entries if isinstance(e.get("key"), str)]
    if len(entries) == 1 and (not named or _matches(named[0]["key"], api_key)):
        return entries[0]
    mine = [e for e in named if _matches(e["key"], api_key)]
    return mine[0] if len(mine) == 1 else None


def read(answer: Any, credentials: ApiCredentials, checked_ms: int) -> KeyPermissions:
    a = mapping(answer)
    detail = mapping(a.get("detail"))
    ips = addresses(detail.get("ip_whitelist"))
    entry = own_key(a.get("main_keys"), credentials.api_key)
    perms = entry.get("perms") if entry is not None else None
    names: dict[str, bool | None] | None = None  # permission name -> writable (None: unreadable)
    if isinstance(perms, list):
        names = {}
        for p in perms:
            if isinstance(p, Mapping) and isinstance(p.get("name"), str):
                read_only = flag(p.get("read_only"))
                names[p["name"]] = None if read_only is None else not read_only

    def writable(*wanted: str) -> bool | None:
        if names is None:
            return None
        found = [names[w] for w in wanted if w in names]
        return True if True in found else (None if None in found else False)

    spot = writable("spot")
    margin = True if writable("margin") is True else (None if spot is not False else writable("margin"))
    return KeyPermissions(
        exchange_id="gate",
        read=None if names is None else bool(names),
        spot_trade=spot,
        margin=margin,
        futures=writable(*DERIVATIVES),
        withdraw=None,
        ip_restricted=None if ips is None else bool(ips),
        ip_whitelist=ips or (),
        checked_ms=checked_ms,
        raw_fields=present(detail, ("ip_whitelist",)) + (("perms",) if names is not None else ()),
    )


PROBE = Probe("gate", "GET /api/v4/account/detail + GET /api/v4/account/main_keys", ask, read)
