"""``probe_key``: ask the exchange what an API key may do, as ``KeyPermissions``.

One signed request (two on Gate and HTX) through ccxt's implicit method for the exchange's own
permission endpoint; nothing else (no markets, no currencies). Whatever ccxt raises becomes a domain
error through ``ccxt_errors.translate``, the one mapping; a clock the exchange calls skewed is
re-synchronised once and the request repeated. No retries otherwise: a person is waiting for the answer.
"""

from __future__ import annotations

import logging
from typing import Any

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters.ccxt_errors import scrub, translate
from cryptobots_desktop.adapters.ccxt_gateway import UnknownExchange
from cryptobots_desktop.adapters.permission_probes import (
    binance,
    bitget,
    bybit,
    coinbase,
    gate,
    htx,
    kraken,
    kucoin,
    okx,
)
from cryptobots_desktop.adapters.permission_probes.base import Probe
from cryptobots_desktop.adapters.permission_probes.ccxt_factory import new_exchange
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import ClockOutOfSync, ExchangeError, MalformedResponse
from cryptobots_desktop.core.key_permissions import KeyPermissions

log = logging.getLogger(__name__)

PROBES: dict[str, Probe] = {
    m.PROBE.exchange_id: m.PROBE for m in (binance, okx, bybit, kucoin, coinbase, kraken, gate, bitget, htx)
}
PROBED_EXCHANGES: tuple[str, ...] = tuple(PROBES)
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, ArithmeticError)


def probe_for(exchange_id: str) -> Probe | None:
    """The probe for this ccxt exchange id; None where the exchange cannot say (MEXC, every other one)."""
    return PROBES.get(exchange_id)


async def probe_key(
    exchange_id: str,
    credentials: ApiCredentials,
    *,
    now_ms: int,
    api_url: str | None = None,
    timeout_ms: int = 15_000,
    throttle: bool = True,
) -> KeyPermissions:
    """What the exchange says this key may do, read at ``now_ms`` (``checked_ms``).

    Exchanges without a probe give a fully unknown reading without any request. ``api_url`` points every
    REST endpoint at another host (a local server in tests; ``throttle=False`` there skips ccxt's pacing
    between requests). Raises a ``core.errors.ExchangeError``
    (``AuthenticationFailed``, ``KeyNotPermitted``, ``ClockOutOfSync``, ``RateLimited``,
    ``ExchangeUnavailable``, ``MalformedResponse``...) when the exchange refuses or cannot be read.
    """
    probe = probe_for(exchange_id)
    if probe is None:
        if getattr(ccxt, exchange_id, None) is None:
            raise UnknownExchange(exchange_id)
        return KeyPermissions(exchange_id, checked_ms=now_ms)
    x = new_exchange(exchange_id, credentials, api_url=api_url, timeout_ms=timeout_ms, throttle=throttle)
    try:
        answer = await _ask(probe, x, credentials)
        try:
            permissions = probe.read(answer, credentials, now_ms)
        except _UNREADABLE as exc:
            log.warning("%s: unreadable permissions: %s", exchange_id, scrub(str(exc), credentials.secrets))
            raise MalformedResponse(f"{x.name} answered something the app cannot read.") from None
        log.info("%s: permissions read from %s", exchange_id, ", ".join(permissions.raw_fields) or "nothing")
        return permissions
    finally:
        await x.close()


async def _ask(probe: Probe, x: Any, credentials: ApiCredentials) -> Any:
    resynced = False
    while True:
        try:
            return await probe.ask(x, credentials)
        except ccxt.BaseError as exc:
            error = _translate(x, exc, credentials)
        except _UNREADABLE as exc:
            log.warning("%s: unreadable answer: %s", probe.exchange_id, scrub(str(exc), credentials.secrets))
            error = MalformedResponse(f"{x.name} answered something the app cannot read.")
        if isinstance(error, ClockOutOfSync) and not resynced and x.has.get("fetchTime"):
            resynced = True  # refused before it was processed: asking again is safe
            try:
                await x.load_time_difference()
            except ccxt.BaseError as exc:
                log.info("%s: clock re-synchronisation failed: %s", probe.exchange_id, type(exc).__name__)
                raise error from None
            continue
        raise error from None  # ccxt's text (URLs, bodies) stays out of tracebacks


def _translate(x: Any, exc: BaseException, credentials: ApiCredentials) -> ExchangeError:
    headers = x.last_response_headers if isinstance(exc, ccxt.NetworkError) else None
    error = translate(
        exc,
        exchange=str(x.name),
        headers=headers,
        secrets=credentials.secrets,
        body=x.last_http_response,
    )
    log.info("%s: %s -> %s", x.id, type(exc).__name__, type(error).__name__)
    return error
