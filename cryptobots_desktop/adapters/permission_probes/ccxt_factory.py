"""A ccxt instance for a permission probe, built the way ``CcxtGateway`` builds its own.

The same spot options, silenced logger (ccxt logs request headers at DEBUG), strict JSON and
``urls['api']`` rewrite as the gateway (its helpers are reused, not copied). One difference: no markets,
no currencies, no clock request before the probe's own call (``load_markets`` on Binance is a *signed*
request and would fail first for the wrong reason). The gateway and this module should share one factory.
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters.ccxt_gateway import (
    SILENT,
    SPOT_OPTIONS,
    UnknownExchange,
    _point_at,
    _strict_json,
)
from cryptobots_desktop.core.credentials import ApiCredentials


def normalised_secret(secret: str) -> str:
    """The secret as ccxt needs it: a PEM private key (Coinbase) pasted from a JSON file has ``\\n``
    escapes instead of line breaks; anything else is passed unchanged."""
    if secret.lstrip().startswith("-----BEGIN") and "\\n" in secret:
        return secret.replace("\\n", "\n")
    return secret


def new_exchange(
    exchange_id: str,
    credentials: ApiCredentials,
    *,
    api_url: str | None = None,
    timeout_ms: int = 15_000,
    throttle: bool = True,
) -> Any:
    """A ``ccxt.async_support`` instance for ``exchange_id`` with these credentials; close it after use.

    ``throttle`` keeps ccxt's own pacing between requests (off only for a local test server)."""
    klass = getattr(ccxt, exchange_id, None)
    if klass is None:
        raise UnknownExchange(exchange_id)
    options: dict[str, Any] = {"defaultType": "spot", **SPOT_OPTIONS.get(exchange_id, {})}
    options["fetchCurrencies"] = False  # Binance: a signed sapi call before ours would hide the real cause
    x: Any = klass(
        {
            "enableRateLimit": throttle,
            "timeout": timeout_ms,
            "options": options,
            "apiKey": credentials.api_key,
            "secret": normalised_secret(credentials.secret),
            "password": credentials.passphrase,
            "uid": credentials.uid,
        }
    )
    x.logger = SILENT
    x.parse_json = _strict_json
    x.has = {**x.has, "fetchCurrencies": False}
    if api_url is not None:
        x.urls["api"] = _point_at(x.urls["api"], api_url)
        if api_url.startswith("http://"):
            x.timeout_on_exit = 0  # close() waits 250 ms for TLS sessions to wind down: none on plain HTTP
    return x
